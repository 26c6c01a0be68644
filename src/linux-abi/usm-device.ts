/**
 * /dev/usm: the character device through which a process enters USM mode (docs/usm-abi.md).
 * It exists only when the machine offers USM (always under usmjit); reads and writes fail like
 * on a device without them, ioctl carries USM_ENTER, USM_GET_LAYOUT and USM_SET_MM_LOG.
 */
import { E, fail } from './errno.js';
import { O_RDWR } from './flags.js';
import { type FileStat, OpenFile, S_IFCHR } from './open-file.js';
import type { AddressSpace } from '../paging/address-space.js';

/** What the device drives: the machine's USM session (vmx/usm.ts). */
export interface UsmDeviceHost {
  enter(cfgAddr: number): void;
  layout(): Uint8Array;
  setMmLog(addr: number): void;
}

export const USM_DEVICE_PATH = '/dev/usm';

/** _IOC(dir, type, nr, size) as in <asm-generic/ioctl.h>. */
const ioc = (dir: number, nr: number, size: number) => ((dir << 30) | (size << 16) | (0xe9 << 8) | nr) >>> 0;
export const USM_ENTER = ioc(3, 1, 184);
export const USM_GET_LAYOUT = ioc(2, 2, 32);
export const USM_SET_MM_LOG = ioc(0, 3, 0);
/** sizeof(struct usm_mm_log): 16 bytes of indices, 64 events of 24 bytes. */
const MM_LOG_SIZE = 16 + 64 * 24;

const made = BigInt(Date.now()) * 1_000_000n;

export class UsmDevice extends OpenFile {
  readonly kind = 'device';

  constructor(readonly usm: UsmDeviceHost, flags = O_RDWR) {
    super(flags);
  }

  override read(): Uint8Array {
    return fail(E.EINVAL);
  }

  override write(): number {
    return fail(E.EINVAL);
  }

  ioctl(req: number, arg: number, as: AddressSpace): number {
    switch (req) {
      case USM_ENTER:
        this.usm.enter(arg);
        return 0;
      case USM_GET_LAYOUT:
        as.write(arg, this.usm.layout());
        return 0;
      case USM_SET_MM_LOG:
        if (arg !== 0 && (arg % 8 !== 0 || !as.covered(arg, arg + MM_LOG_SIZE))) return fail(E.EFAULT);
        this.usm.setMmLog(arg);
        return 0;
      default:
        return fail(E.ENOTTY);
    }
  }

  override stat(): FileStat {
    // A misc character device, like a kernel module's would be (major 10).
    return {
      dev: 5n, ino: 0x55_53_4dn, mode: BigInt(S_IFCHR | 0o666), nlink: 1n,
      uid: 0n, gid: 0n, rdev: (10n << 8n) | 233n,
      size: 0n, blksize: 4096n, blocks: 0n, atimeNs: made, mtimeNs: made, ctimeNs: made, birthtimeNs: 0n,
    };
  }

  override linkName(): string {
    return USM_DEVICE_PATH;
  }
}
