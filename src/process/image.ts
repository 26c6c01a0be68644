/**
 * A program image into a machine: what process start-up (cli.ts) and execve share. Reads the
 * file, follows `#!` interpreter lines (up to 4 deep, as Linux's binfmt_script), and loads the ELF
 * (loader/load.ts) into the machine's address space with rip and rsp set.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { ElfError } from '../loader/elf.js';
import { loadProgram, type LoadedProgram } from '../loader/load.js';
import { E, SysError } from '../linux-abi/errno.js';
import { underSysroot } from '../linux-abi/paths.js';
import type { Machine } from '../vmx/machine.js';
import { HWCAP } from '../vmx/cpuid.js';

export interface ImageRequest {
  /** Host path of the file to run. */
  path: string;
  argv: string[];
  envp: string[];
  /** AT_EXECFN: the path as the caller named it. */
  execfn: string;
  /** `-L PREFIX`. */
  sysroot?: string;
  /** Resolves an interpreter path of a `#!` line to a host path (the guest's cwd and -L). */
  resolve?: (path: string) => string;
  /**
   * Follow `#!` lines (execve). The program usmjit itself is given must be an ELF file, as with
   * qemu-user: a script is an ElfError there.
   */
  scripts?: boolean;
}

export interface LoadedImage extends LoadedProgram {
  /** The host path of the ELF file finally loaded (after `#!` lines). */
  exePath: string;
}

/** Why a file cannot be run, as execve's errno. */
function checkRunnable(path: string): Uint8Array {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SysError(code === 'ENOTDIR' ? E.ENOTDIR : code === 'EACCES' ? E.EACCES : code === 'ELOOP' ? E.ELOOP : E.ENOENT);
  }
  if (!st.isFile()) throw new SysError(E.EACCES);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new SysError(E.EACCES);
  }
  try {
    return readFileSync(path);
  } catch {
    throw new SysError(E.EACCES);
  }
}

/**
 * Loads `req` into `m`: rip and rsp set. Throws SysError (ENOENT, EACCES, ENOEXEC, ELOOP) before
 * touching the machine when the file cannot be run; an ElfError for a malformed ELF.
 */
export function loadImage(m: Machine, req: ImageRequest): LoadedImage {
  let { path, argv } = req;
  let bytes = checkRunnable(path);
  for (let depth = 0; req.scripts && bytes[0] === 0x23 && bytes[1] === 0x21; depth++) { // "#!"
    if (depth >= 4) throw new SysError(E.ELOOP);
    const end = bytes.indexOf(0x0a);
    const line = Buffer.from(bytes.subarray(2, end < 0 ? Math.min(bytes.length, 256) : Math.min(end, 256))).toString('latin1').trim();
    const m1 = /^(\S+)(?:\s+(.*))?$/.exec(line);
    if (!m1) throw new SysError(E.ENOEXEC);
    const interp = m1[1];
    // Linux passes the rest of the line as one argument, and the script by the path execve got.
    argv = [interp, ...(m1[2] ? [m1[2]] : []), req.execfn, ...argv.slice(1)];
    path = req.resolve ? req.resolve(interp) : interp;
    bytes = checkRunnable(path);
  }
  if (req.scripts && (bytes.length < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46)) {
    throw new SysError(E.ENOEXEC);
  }
  const sysroot = req.sysroot;
  const loaded = loadProgram(m.as, bytes, {
    path, argv, envp: req.envp, execfn: req.execfn, hwcap: HWCAP, platform: 'x86_64',
    interpPath: sysroot !== undefined ? (p) => (p.startsWith('/') ? underSysroot(sysroot, p) : p) : undefined,
  });
  m.cpu.rip = BigInt(loaded.entry);
  m.cpu.set(4, BigInt(loaded.sp));
  return { ...loaded, exePath: path };
}

export { ElfError };
