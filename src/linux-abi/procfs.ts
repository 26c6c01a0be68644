/**
 * The /proc/self files the kernel answers itself, because the host's would describe the emulator
 * (Node) instead of the guest: maps is made from the guest's regions.
 */
import type { AddressSpace } from '../paging/address-space.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../paging/address-space.js';

const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0');

/** /proc/self/maps in Linux's format (a space after the inode; names padded to column 73). */
export function mapsText(as: AddressSpace): string {
  let out = '';
  for (const r of as.regions) {
    const perms = (r.prot & PROT_READ ? 'r' : '-') + (r.prot & PROT_WRITE ? 'w' : '-') + (r.prot & PROT_EXEC ? 'x' : '-') + (r.shared ? 's' : 'p');
    let offDevIno = '00000000 00:00 0';
    if (r.file) {
      // st_dev as glibc encodes it -> major:minor, as the kernel prints them.
      const dev = r.file.obj.dev;
      const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
      const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
      offDevIno = `${hex(r.file.offset, 8)} ${hex(major, 2)}:${hex(minor, 2)} ${r.file.obj.ino}`;
    }
    let line = `${hex(r.start, 8)}-${hex(r.end, 8)} ${perms} ${offDevIno} `;
    if (r.name) line = line.padEnd(73, ' ') + r.name;
    out += line + '\n';
  }
  return out;
}
