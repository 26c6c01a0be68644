import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HostFile, hostOffset } from '../../src/linux-abi/host-file.js';
import { hostLseek } from '../../src/linux-abi/host-seek.js';
import { type FileStat, OpenFile } from '../../src/linux-abi/open-file.js';
import { AT_FDCWD, BUF, harness } from './harness.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'usmjit-hostio-')));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

describe('host offsets of inherited descriptions', () => {
  it('hostLseek moves the offset the host shares', () => {
    const path = join(dir, 'seek.txt');
    writeFileSync(path, 'abcdef');
    const fd = openSync(path, 'r');
    const b = Buffer.alloc(3);
    readSync(fd, b, 0, 3, null);
    expect(hostOffset(fd)).toBe(3);
    expect(hostLseek(fd, 1n, 0)).toBe(1n);
    readSync(fd, b, 0, 3, null);
    expect(b.toString()).toBe('bcd');
    expect(hostLseek(fd, -2n, 2)).toBe(4n);
    closeSync(fd);
  });

  it('an inherited regular file uses and moves the host offset', () => {
    const path = join(dir, 'inherited.txt');
    writeFileSync(path, '0123456789');
    const fd = openSync(path, 'r');
    const f = new HostFile(fd, 0, { inherited: true });
    expect(Buffer.from(f.read(4, null)).toString()).toBe('0123');
    expect(hostOffset(fd)).toBe(4);
    expect(f.seek(0n, 1)).toBe(4n);
    expect(f.seek(-2n, 1)).toBe(2n);
    expect(hostOffset(fd)).toBe(2);
    // Another reader of the same host description (a process sharing it) continues there.
    const b = Buffer.alloc(3);
    readSync(fd, b, 0, 3, null);
    expect(b.toString()).toBe('234');
    expect(Buffer.from(f.read(2, null)).toString()).toBe('56');
    closeSync(fd);
  });

  it('an appending inherited fd keeps appending', () => {
    const path = join(dir, 'append.txt');
    writeFileSync(path, 'x');
    const fd = openSync(path, 'a');
    const f = new HostFile(fd, 0o2001, { inherited: true });
    f.write(Buffer.from('yz'), null);
    expect(readFileSync(path, 'utf8')).toBe('xyz');
    closeSync(fd);
  });
});

/** A fake terminal: the ioctl path only asks isTty(). */
class FakeTty extends OpenFile {
  readonly kind = 'mem';
  constructor() { super(2); }
  override isTty(): boolean { return true; }
  override stat(): FileStat {
    return { dev: 0n, ino: 1n, mode: 0o20620n, nlink: 1n, uid: 0n, gid: 0n, rdev: 0x8800n, size: 0n, blksize: 1024n, blocks: 0n, atimeNs: 0n, mtimeNs: 0n, ctimeNs: 0n, birthtimeNs: 0n };
  }
  override linkName(): string { return '/dev/pts/0'; }
}

describe('terminal ioctls', () => {
  it('TCGETS gives cooked-mode termios; TCSETS is remembered; TIOCGWINSZ has a size', () => {
    const h = harness();
    h.kernel.proc.fds.install(5, new FakeTty());
    expect(h.sys('ioctl', 5, 0x5401, BUF)).toBe(0n);
    const t = dv(h.bytes(BUF, 36));
    expect(t.getUint32(12, true) & 0x2).toBe(0x2); // ICANON
    expect(h.bytes(BUF, 36)[17]).toBe(3); // VINTR = ^C
    const raw = h.bytes(BUF, 36);
    new DataView(raw.buffer).setUint32(12, 0, true);
    h.as.write(BUF + 0x100, raw);
    expect(h.sys('ioctl', 5, 0x5402, BUF + 0x100)).toBe(0n);
    expect(h.sys('ioctl', 5, 0x5401, BUF)).toBe(0n);
    expect(dv(h.bytes(BUF, 36)).getUint32(12, true)).toBe(0);
    expect(h.sys('ioctl', 5, 0x5413, BUF)).toBe(0n);
    const w = dv(h.bytes(BUF, 8));
    expect(w.getUint16(0, true)).toBeGreaterThan(0);
    expect(w.getUint16(2, true)).toBeGreaterThan(0);
    h.as.write(BUF, Uint8Array.of(50, 0, 132, 0, 0, 0, 0, 0));
    expect(h.sys('ioctl', 5, 0x5414, BUF)).toBe(0n);
    expect(h.sys('ioctl', 5, 0x5413, BUF + 8)).toBe(0n);
    expect([...h.bytes(BUF + 8, 4)]).toEqual([50, 0, 132, 0]);
    expect(h.sys('ioctl', 5, 0x540f, BUF)).toBe(0n); // TIOCGPGRP
    expect(h.as.readU32(BUF)).toBe(Number(h.sys('getpgrp')));
    expect(h.sys('ioctl', 5, 0x1234, BUF)).toBe(-25n);
  });
});

describe('more file calls', () => {
  it('sendfile and copy_file_range copy data', () => {
    const h = harness();
    writeFileSync(join(dir, 'src'), 'copy me please');
    h.str(BUF, join(dir, 'src'));
    const src = h.sys('open', BUF, 0);
    h.str(BUF, join(dir, 'dst'));
    const dst = h.sys('open', BUF, 0o1102, 0o644);
    expect(h.sys('sendfile', dst, src, 0, 4)).toBe(4n);
    h.as.writeU64(BUF + 0x100, 5n);
    expect(h.sys('sendfile', dst, src, BUF + 0x100, 100)).toBe(9n);
    expect(h.as.readU64(BUF + 0x100)).toBe(14n);
    expect(readFileSync(join(dir, 'dst'), 'utf8')).toBe('copyme please');
    expect(h.sys('lseek', src, 0, 1)).toBe(4n);
    expect(h.sys('copy_file_range', src, 0, dst, 0, 100, 0)).toBe(10n);
    expect(readFileSync(join(dir, 'dst'), 'utf8')).toBe('copyme please me please');
    expect(h.sys('copy_file_range', src, 0, dst, 0, 100, 1)).toBe(-22n);
  });

  it('close_range, openat2, legacy getdents, mincore', () => {
    const h = harness();
    for (let i = 0; i < 4; i++) h.sys('dup', 1);
    expect(h.sys('close_range', 4, 5, 4 /* CLOEXEC */)).toBe(0n);
    expect(h.sys('fcntl', 4, 1)).toBe(1n);
    expect(h.sys('close_range', 3, 100, 0)).toBe(0n);
    expect(h.sys('fcntl', 3, 1)).toBe(-9n);
    expect(h.sys('close_range', 5, 3, 0)).toBe(-22n);
    h.str(BUF, dir);
    const how = new Uint8Array(24);
    new DataView(how.buffer).setBigUint64(0, 0o200000n, true); // O_DIRECTORY
    h.as.write(BUF + 0x100, how);
    const dfd = h.sys('openat2', AT_FDCWD, BUF, BUF + 0x100, 24);
    expect(dfd).toBe(3n);
    expect(h.sys('openat2', AT_FDCWD, BUF, BUF + 0x100, 8)).toBe(-22n);
    const n = Number(h.sys('getdents', dfd, BUF + 0x1000, 4096));
    const b = h.bytes(BUF + 0x1000, n);
    const names: string[] = [];
    for (let off = 0; off < n;) {
      const reclen = dv(b).getUint16(off + 16, true);
      names.push(Buffer.from(b.subarray(off + 18, b.indexOf(0, off + 18))).toString());
      expect(b[off + reclen - 1]).toBeLessThan(16); // d_type in the last byte
      off += reclen;
    }
    expect(names).toContain('.');
    expect(names).toContain('..');
    const a = Number(h.sys('mmap', 0, 0x3000, 3, 0x22, -1, 0));
    h.as.write(a + 0x1000, Uint8Array.of(1));
    expect(h.sys('mincore', a, 0x3000, BUF)).toBe(0n);
    expect([...h.bytes(BUF, 3)]).toEqual([0, 1, 0]);
    expect(h.sys('mincore', a + 0x10000000, 0x1000, BUF)).toBe(-12n);
  });

  it('/proc/self/exe opens the guest executable; lstat sees a symlink', () => {
    const exe = join(dir, 'fake-exe');
    writeFileSync(exe, 'ELF!');
    const h = harness({ exePath: exe });
    h.str(BUF, '/proc/self/exe');
    const fd = h.sys('open', BUF, 0);
    expect(h.sys('read', fd, BUF + 0x100, 10)).toBe(4n);
    expect(h.text(BUF + 0x100, 4)).toBe('ELF!');
    expect(h.sys('stat', BUF, BUF + 0x200)).toBe(0n);
    expect(dv(h.bytes(BUF + 0x200, 144)).getBigUint64(8, true)).toBe(statSync(exe, { bigint: true }).ino);
    expect(h.sys('lstat', BUF, BUF + 0x200)).toBe(0n);
    expect(dv(h.bytes(BUF + 0x200, 144)).getUint32(24, true) & 0o170000).toBe(0o120000);
  });

  it('ppoll and pselect6 time out after their timeout', () => {
    const h = harness();
    h.sys('pipe', BUF);
    const r = h.as.readU32(BUF);
    const pfd = new Uint8Array(8);
    new DataView(pfd.buffer).setInt32(0, r, true);
    new DataView(pfd.buffer).setInt16(4, 1, true);
    h.as.write(BUF + 0x100, pfd);
    const ts = new Uint8Array(16);
    new DataView(ts.buffer).setBigInt64(8, 20_000_000n, true);
    h.as.write(BUF + 0x200, ts);
    const t0 = process.hrtime.bigint();
    expect(h.sys('ppoll', BUF + 0x100, 1, BUF + 0x200, 0, 8)).toBe(0n);
    expect(process.hrtime.bigint() - t0).toBeGreaterThanOrEqual(20_000_000n);
    expect(h.as.readU64(BUF + 0x208)).toBe(0n); // remaining time written back
    h.as.write(BUF + 0x200, ts);
    const set = new Uint8Array(8);
    set[0] = 1 << r;
    h.as.write(BUF + 0x300, set);
    expect(h.sys('pselect6', r + 1, BUF + 0x300, 0, 0, BUF + 0x200, 0)).toBe(0n);
    expect(h.bytes(BUF + 0x300, 1)[0]).toBe(0);
  });
});
