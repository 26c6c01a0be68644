/**
 * The x86-64 `struct stat` (144 bytes) and `struct statx` (256 bytes), filled from a FileStat
 * exactly as Linux lays them out.
 */
import type { FileStat } from './open-file.js';
import { StructOut, splitNs } from './uaccess.js';

export const STAT_SIZE = 144;
export const STATX_STRUCT_SIZE = 256;

export const STATX_TYPE = 0x1, STATX_MODE = 0x2, STATX_NLINK = 0x4, STATX_UID = 0x8, STATX_GID = 0x10,
  STATX_ATIME = 0x20, STATX_MTIME = 0x40, STATX_CTIME = 0x80, STATX_INO = 0x100, STATX_SIZE = 0x200,
  STATX_BLOCKS = 0x400, STATX_BASIC_STATS = 0x7ff, STATX_BTIME = 0x800, STATX__RESERVED = 0x8000_0000;

/** glibc's major()/minor() of a dev_t. */
export function devMajor(dev: bigint): number {
  return Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
}
export function devMinor(dev: bigint): number {
  return Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
}

/**
 *  0 st_dev  8 st_ino  16 st_nlink  24 st_mode(u32)  28 st_uid  32 st_gid  36 pad  40 st_rdev
 *  48 st_size  56 st_blksize  64 st_blocks  72 st_atime  80 st_atime_nsec  88 st_mtime
 *  96 st_mtime_nsec  104 st_ctime  112 st_ctime_nsec  120 __unused[3]
 */
export function encodeStat(st: FileStat): Uint8Array {
  const s = new StructOut(STAT_SIZE)
    .u64(0, st.dev).u64(8, st.ino).u64(16, st.nlink).u32(24, st.mode).u32(28, st.uid).u32(32, st.gid)
    .u64(40, st.rdev).i64(48, st.size).i64(56, st.blksize).i64(64, st.blocks);
  const times = [st.atimeNs, st.mtimeNs, st.ctimeNs];
  times.forEach((ns, i) => {
    const [sec, nsec] = splitNs(ns);
    s.i64(72 + i * 16, sec).u64(80 + i * 16, nsec);
  });
  return s.bytes;
}

/**
 *  0 stx_mask(u32)  4 stx_blksize  8 stx_attributes(u64)  16 stx_nlink(u32)  20 stx_uid  24 stx_gid
 *  28 stx_mode(u16)  32 stx_ino  40 stx_size  48 stx_blocks  56 stx_attributes_mask
 *  64 stx_atime  80 stx_btime  96 stx_ctime  112 stx_mtime (each {i64 sec, u32 nsec, i32 pad})
 *  128 stx_rdev_major  132 stx_rdev_minor  136 stx_dev_major  140 stx_dev_minor  144.. spare
 */
export function encodeStatx(st: FileStat): Uint8Array {
  let mask = STATX_BASIC_STATS;
  if (st.birthtimeNs !== 0n) mask |= STATX_BTIME;
  const s = new StructOut(STATX_STRUCT_SIZE)
    .u32(0, mask).u32(4, st.blksize).u64(8, 0).u32(16, st.nlink).u32(20, st.uid).u32(24, st.gid)
    .u16(28, Number(st.mode & 0xffffn)).u64(32, st.ino).u64(40, st.size).u64(48, st.blocks).u64(56, 0);
  const ts = (off: number, ns: bigint) => {
    const [sec, nsec] = splitNs(ns);
    s.i64(off, sec).u32(off + 8, nsec);
  };
  ts(64, st.atimeNs);
  if (mask & STATX_BTIME) ts(80, st.birthtimeNs);
  ts(96, st.ctimeNs);
  ts(112, st.mtimeNs);
  s.u32(128, devMajor(st.rdev)).u32(132, devMinor(st.rdev)).u32(136, devMajor(st.dev)).u32(140, devMinor(st.dev));
  return s.bytes;
}
