/**
 * Moving data between the kernel and guest memory, like Linux's copy_{to,from}_user. Every
 * access goes through the AddressSpace, whose GuestFault the kernel turns into -EFAULT.
 */
import { Access, type AddressSpace, USER_TOP } from '../paging/address-space.js';
import { PAGE_SIZE } from '../core/layout.js';
import { E, fail } from './errno.js';

/** Linux's PATH_MAX, including the NUL. */
export const PATH_MAX = 4096;

/**
 * How many bytes of [addr, addr+len) the guest could access with `access`, from addr up to the
 * first byte it could not. Populates nothing (no frames are allocated).
 */
export function accessiblePrefix(as: AddressSpace, addr: number, len: number, access: Access): number {
  if (len <= 0) return 0;
  if (!Number.isSafeInteger(addr) || addr < 0 || addr >= USER_TOP) return 0;
  let a = addr;
  const end = Math.min(addr + len, USER_TOP);
  while (a < end) {
    const r = as.regionAt(a);
    if (!r || (r.prot & access) === 0) break;
    a = r.end;
  }
  return Math.min(a, end) - addr;
}

/** Throws EFAULT unless all of [addr, addr+len) is accessible. */
export function checkAccess(as: AddressSpace, addr: number, len: number, access: Access): void {
  if (len > 0 && accessiblePrefix(as, addr, len, access) < len) fail(E.EFAULT);
}

/**
 * A path argument: NUL-terminated, at most PATH_MAX bytes with the NUL (else ENAMETOOLONG),
 * decoded as UTF-8.
 */
export function readPath(as: AddressSpace, addr: number): string {
  const bytes = as.readCStringBytes(addr, PATH_MAX);
  if (bytes.length >= PATH_MAX) fail(E.ENAMETOOLONG);
  return Buffer.from(bytes).toString('utf8');
}

/** A little-endian struct being built for the guest, written with one `as.write`. */
export class StructOut {
  readonly bytes: Uint8Array;
  private readonly dv: DataView;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.dv = new DataView(this.bytes.buffer);
  }
  u8(off: number, v: number): this { this.dv.setUint8(off, v); return this; }
  u16(off: number, v: number): this { this.dv.setUint16(off, v, true); return this; }
  u32(off: number, v: number | bigint): this { this.dv.setUint32(off, Number(BigInt.asUintN(32, BigInt(v))), true); return this; }
  i32(off: number, v: number): this { this.dv.setInt32(off, v, true); return this; }
  u64(off: number, v: number | bigint): this { this.dv.setBigUint64(off, BigInt.asUintN(64, BigInt(v)), true); return this; }
  i64(off: number, v: number | bigint): this { this.dv.setBigInt64(off, BigInt.asIntN(64, BigInt(v)), true); return this; }
  str(off: number, s: string, max: number): this {
    const b = Buffer.from(s, 'utf8').subarray(0, max - 1);
    this.bytes.set(b, off);
    return this;
  }
  write(as: AddressSpace, addr: number): void {
    as.write(addr, this.bytes);
  }
}

/** A little-endian struct read from the guest. */
export class StructIn {
  private readonly dv: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  static read(as: AddressSpace, addr: number, size: number): StructIn {
    return new StructIn(as.read(addr, size));
  }
  u16(off: number): number { return this.dv.getUint16(off, true); }
  i16(off: number): number { return this.dv.getInt16(off, true); }
  u32(off: number): number { return this.dv.getUint32(off, true); }
  i32(off: number): number { return this.dv.getInt32(off, true); }
  u64(off: number): bigint { return this.dv.getBigUint64(off, true); }
  i64(off: number): bigint { return this.dv.getBigInt64(off, true); }
}

export const NS_PER_SEC = 1_000_000_000n;

/** Reads a struct timespec {tv_sec, tv_nsec}; EINVAL if tv_nsec is out of [0, 1e9) or tv_sec < 0. */
export function readTimespecNs(as: AddressSpace, addr: number): bigint {
  const s = StructIn.read(as, addr, 16);
  const sec = s.i64(0), nsec = s.i64(8);
  if (sec < 0n || nsec < 0n || nsec >= NS_PER_SEC) fail(E.EINVAL);
  return sec * NS_PER_SEC + nsec;
}

/** Reads a struct timeval {tv_sec, tv_usec} as nanoseconds; EINVAL when malformed. */
export function readTimevalNs(as: AddressSpace, addr: number): bigint {
  const s = StructIn.read(as, addr, 16);
  const sec = s.i64(0), usec = s.i64(8);
  if (sec < 0n || usec < 0n || usec >= 1_000_000n) fail(E.EINVAL);
  return sec * NS_PER_SEC + usec * 1000n;
}

/** Splits nanoseconds into (sec, nsec) with nsec in [0, 1e9), also for negative times. */
export function splitNs(ns: bigint): [bigint, bigint] {
  let sec = ns / NS_PER_SEC;
  let nsec = ns % NS_PER_SEC;
  if (nsec < 0n) { nsec += NS_PER_SEC; sec -= 1n; }
  return [sec, nsec];
}

export function writeTimespec(as: AddressSpace, addr: number, ns: bigint): void {
  const [sec, nsec] = splitNs(ns);
  new StructOut(16).i64(0, sec).i64(8, nsec).write(as, addr);
}

export function writeTimeval(as: AddressSpace, addr: number, ns: bigint): void {
  const [sec, nsec] = splitNs(ns);
  new StructOut(16).i64(0, sec).i64(8, nsec / 1000n).write(as, addr);
}

export const pageUp = (a: number): number => Math.ceil(a / PAGE_SIZE) * PAGE_SIZE;
export const pageDown = (a: number): number => a - (a % PAGE_SIZE);
export const isPageAligned = (a: number): boolean => a % PAGE_SIZE === 0;
