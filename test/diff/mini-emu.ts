/**
 * A minimal usmjit driver for the differential harness, used when the real CLI (dist/src/cli.js
 * with the Linux layer) is not available, or with `--emu mini`. It loads the static harness with
 * the project's loader and Machine and answers only the system calls the harness makes: read,
 * write, mmap (anonymous), arch_prctl (SET_FS/SET_GS), rt_sigaction / sigaltstack (accepted, nothing delivered), exit_group.
 *
 *   node dist/test/diff/mini-emu.js <program> [args...]   (stdin/stdout as for the program)
 */
import { readFileSync, readSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadProgram } from '../../src/loader/load.js';
import { Machine } from '../../src/vmx/machine.js';
import { HWCAP } from '../../src/vmx/cpuid.js';
import { GuestExit } from '../../src/core/exits.js';
import type { CpuState } from '../../src/core/cpu-state.js';

const ENOSYS = 38n, EBADF = 9n, EINVAL = 22n, EFAULT = 14n;

async function main(): Promise<number> {
  const [prog, ...args] = process.argv.slice(2);
  if (!prog) {
    process.stderr.write('usage: mini-emu <program> [args...]\n');
    return 2;
  }
  const path = resolve(prog);
  const m = await Machine.create();
  const loaded = loadProgram(m.as, readFileSync(path), {
    path, argv: [prog, ...args], envp: [], execfn: prog, hwcap: HWCAP, platform: 'x86_64',
  });
  m.cpu.rip = BigInt(loaded.entry);
  m.cpu.set(4, BigInt(loaded.sp));
  const as = m.as;
  let stdinEof = false;
  m.syscalls = {
    syscall(cpu: CpuState): bigint {
      const nr = Number(cpu.get(0));
      const a = [7, 6, 2, 10, 8, 9].map((r) => cpu.get(r));
      switch (nr) {
        case 0: { // read
          if (a[0] !== 0n) return -EBADF;
          const len = Number(a[2]);
          if (stdinEof || len === 0) return 0n;
          const buf = Buffer.alloc(Math.min(len, 1 << 20));
          let n: number;
          try {
            n = readSync(0, buf, 0, buf.length, null);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code === 'EAGAIN') { n = 0; } else throw e;
          }
          if (n === 0) { stdinEof = true; return 0n; }
          try { as.write(Number(a[1]), buf.subarray(0, n)); } catch { return -EFAULT; }
          return BigInt(n);
        }
        case 1: { // write
          const fd = Number(a[0]);
          if (fd !== 1 && fd !== 2) return -EBADF;
          let bytes: Uint8Array;
          try { bytes = as.read(Number(a[1]), Number(a[2])); } catch { return -EFAULT; }
          let off = 0;
          while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
          return BigInt(bytes.length);
        }
        case 9: { // mmap (anonymous only)
          const [addr, len, prot, flags] = [Number(a[0]), Number(a[1]), Number(a[2]), Number(a[3])];
          if ((flags & 0x20) === 0 || len <= 0) return -EINVAL;
          const size = Math.ceil(len / 4096) * 4096;
          const at = flags & 0x10 ? addr : as.findFree(size);
          as.map(at, size, prot & 7, 'anon');
          for (const t of as.tlbs) t.flushAll();
          return BigInt(at);
        }
        case 158: { // arch_prctl
          if (a[0] === 0x1002n) { cpu.fsBase = a[1]; return 0n; }
          if (a[0] === 0x1001n) { cpu.gsBase = a[1]; return 0n; }
          return -EINVAL;
        }
        case 13: case 131: return 0n; // rt_sigaction, sigaltstack: accepted (no delivery here)
        case 60: case 231: throw new GuestExit(Number(a[0] & 0xffn));
        default: return -ENOSYS;
      }
    },
  };
  return m.run();
}

main().then(
  (status) => process.exit(status),
  (e: unknown) => {
    process.stderr.write(`mini-emu: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(70);
  },
);
