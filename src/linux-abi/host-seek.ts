/**
 * lseek on a host fd. Node's fs has no lseek; its WASI implementation (uvwasi) does, on the fds
 * it is given as stdin. The kernel needs it for descriptions inherited from the host (stdio
 * redirected from a file), whose offset other processes share: `(prog; cat) < file` must leave
 * the offset where prog's lseek put it, as on Linux.
 *
 * Returns undefined when this is not possible (no node:wasi, or the host refuses), and the
 * caller then keeps a private position instead.
 */
import { createRequire } from 'node:module';

interface WasiLike {
  wasiImport: Record<string, (...args: (number | bigint)[]) => number>;
  initialize(instance: WebAssembly.Instance): void;
}
type WasiCtor = new (opts: { version: 'preview1'; stdin: number; returnOnExit: boolean }) => WasiLike;

/** (module (memory (export "memory") 1) (func (export "_initialize"))) */
const MODULE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5, 3, 1, 0, 1,
  7, 24, 2, 6, 109, 101, 109, 111, 114, 121, 2, 0, 11, 95, 105, 110, 105, 116, 105, 97, 108, 105, 122, 101, 0, 0,
  10, 4, 1, 2, 0, 11]);

let ctor: WasiCtor | null | undefined;
const seekers = new Map<number, { wasi: WasiLike; mem: WebAssembly.Memory } | null>();

function wasiCtor(): WasiCtor | null {
  if (ctor !== undefined) return ctor;
  // Loading node:wasi prints an ExperimentalWarning; this use is internal, so keep stderr clean.
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (!/WASI/.test(text)) (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    ctor = (createRequire(import.meta.url)('node:wasi') as { WASI: WasiCtor }).WASI;
  } catch {
    ctor = null;
  } finally {
    process.emitWarning = emit;
  }
  return ctor;
}

function seeker(fd: number): { wasi: WasiLike; mem: WebAssembly.Memory } | null {
  let s = seekers.get(fd);
  if (s !== undefined) return s;
  s = null;
  const Wasi = wasiCtor();
  if (Wasi) {
    try {
      const wasi = new Wasi({ version: 'preview1', stdin: fd, returnOnExit: true });
      const inst = new WebAssembly.Instance(new WebAssembly.Module(MODULE), {});
      wasi.initialize(inst);
      s = { wasi, mem: inst.exports.memory as WebAssembly.Memory };
    } catch {
      s = null;
    }
  }
  seekers.set(fd, s);
  return s;
}

/** lseek(fd, offset, whence) for SEEK_SET/CUR/END on the host; the new offset or undefined. */
export function hostLseek(fd: number, offset: bigint, whence: 0 | 1 | 2): bigint | undefined {
  const s = seeker(fd);
  if (!s) return undefined;
  // WASI's whence numbering is SET=0, CUR=1, END=2, like Linux; the result goes to memory[0..8).
  const rc = s.wasi.wasiImport.fd_seek(0, offset, whence, 0);
  if (rc !== 0) return undefined;
  return new DataView(s.mem.buffer).getBigUint64(0, true);
}
