import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { escapeBytes } from '../../src/linux-abi/strace.js';
import { errnoFromNode, errnoMessage, errnoName, E } from '../../src/linux-abi/errno.js';
import { SYSCALL_NAMES } from '../../src/linux-abi/syscall-names.js';
import { SYSCALLS } from '../../src/linux-abi/syscalls/index.js';
import { BUF, harness } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'usmjit-strace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('errno', () => {
  it('has Linux numbers, names and messages', () => {
    expect([E.EPERM, E.ENOENT, E.EBADF, E.EAGAIN, E.ENOMEM, E.EFAULT, E.EINVAL, E.ENOSYS, E.ENOTSUP]).toEqual([1, 2, 9, 11, 12, 14, 22, 38, 95]);
    expect(errnoName(2)).toBe('ENOENT');
    expect(errnoMessage(2)).toBe('No such file or directory');
    expect(errnoMessage(38)).toBe('Function not implemented');
    expect(errnoFromNode(Object.assign(new Error('x'), { code: 'ENOTEMPTY' }))).toBe(39);
    expect(errnoFromNode(Object.assign(new Error('x'), { code: 'EXDEV' }))).toBe(18);
    expect(errnoFromNode(new Error('plain'))).toBeUndefined();
  });
});

describe('syscall table', () => {
  it('names every x86-64 number and agrees with the table', () => {
    for (let n = 0; n <= 334; n++) expect(SYSCALL_NAMES[n], `nr ${n}`).toBeDefined();
    for (let n = 424; n <= 450; n++) expect(SYSCALL_NAMES[n], `nr ${n}`).toBeDefined();
    expect(SYSCALL_NAMES[59][0]).toBe('execve');
    expect(SYSCALL_NAMES[231]).toEqual(['exit_group', 1]);
    for (const [nr, def] of Object.entries(SYSCALLS)) {
      expect(SYSCALL_NAMES[Number(nr)][0]).toBe(def.name);
      expect(def.args.length, def.name).toBeLessThanOrEqual(6);
    }
  });
});

describe('strace lines', () => {
  it('escapes like strace', () => {
    expect(escapeBytes(Buffer.from('a\n\t"\\'))).toBe('a\\n\\t\\"\\\\');
    expect(escapeBytes(Uint8Array.of(0x7f, 0x45, 0, 1, 0x31))).toBe('\\177E\\0\\0011');
  });

  it('formats open/read/errors like strace', () => {
    const h = harness({ strace: true });
    const path = join(dir, 'passwd');
    writeFileSync(path, 'root:x:0:0:root:/root:/bin/bash\nmore lines follow here\n');
    h.str(BUF, path);
    const fd = h.sys('openat', -100, BUF, 0o2000000);
    h.sys('read', fd, BUF + 0x100, 4096);
    h.str(BUF, join(dir, 'missing'));
    h.sys('openat', -100, BUF, 0o1101, 0o600);
    h.str(BUF, '/nonexistent/x');
    h.sys('openat', -100, BUF, 0);
    h.sys('close', 42);
    expect(h.log).toEqual([
      `openat(AT_FDCWD, "${path}", O_RDONLY|O_CLOEXEC) = 3`,
      'read(3, "root:x:0:0:root:/root:/bin/bash\\n"..., 4096) = 55',
      `openat(AT_FDCWD, "${join(dir, 'missing')}", O_WRONLY|O_CREAT|O_TRUNC, 0600) = 4`,
      'openat(AT_FDCWD, "/nonexistent/x", O_RDONLY) = -1 ENOENT (No such file or directory)',
      'close(42) = -1 EBADF (Bad file descriptor)',
    ]);
  });

  it('unknown and unimplemented calls are -ENOSYS and still named', () => {
    const h = harness({ strace: true });
    expect(h.sys(167 /* swapon */, 0x1000, 0)).toBe(-38n);
    expect(h.sys(1000, 1, 2)).toBe(-38n);
    expect(h.sys(0x1_0000_0000n + 39n)).toBe(-38n);
    expect(h.log[0]).toBe('swapon(0x1000, 0) = -1 ENOSYS (Function not implemented)');
    expect(h.log[1]).toBe('syscall_0x3e8(0x1, 0x2, 0, 0, 0, 0) = -1 ENOSYS (Function not implemented)');
  });

  it('mmap and brk results in hex; write data; exit_group before it happens', () => {
    const h = harness({ strace: true });
    h.sys('mmap', 0, 0x1000, 3, 0x22, -1, 0);
    expect(h.log.pop()).toMatch(/^mmap\(NULL, 4096, PROT_READ\|PROT_WRITE, MAP_PRIVATE\|MAP_ANONYMOUS, -1, 0\) = 0x7fff[0-9a-f]+$/);
    h.sys('brk', 0);
    expect(h.log.pop()).toBe('brk(NULL) = 0x600000');
    h.str(BUF, 'hi\n');
    h.sys('write', 1, BUF, 0);
    expect(h.log.pop()).toBe('write(1, "", 0) = 0');
    h.sys('rt_sigprocmask', 0, 0, 0, 8);
    expect(h.log.pop()).toBe('rt_sigprocmask(SIG_BLOCK, NULL, NULL, 8) = 0');
    const old = h.sys('umask', 0o22);
    expect(h.log.pop()).toBe(`umask(022) = ${('0' + Number(old).toString(8)).padStart(3, '0')}`);
    h.sys('umask', old);
    expect(h.log.pop()).toBe(`umask(${('0' + Number(old).toString(8)).padStart(3, '0')}) = 022`);
    h.sys('getcwd', BUF, 4096);
    expect(h.log.pop()).toMatch(/^getcwd\("\/[^"]*", 4096\) = \d+$/);
    expect(() => h.sys('exit_group', 0)).toThrow();
    expect(h.log).toEqual(['exit_group(0) = ?', '+++ exited with 0 +++']);
  });

  it('a fatal signal shows its line, the call result and the kill', () => {
    const h = harness({ strace: true });
    expect(() => h.sys('kill', process.pid, 15)).toThrow();
    expect(h.log).toEqual([
      `kill(${process.pid}, SIGTERM) = 0`,
      `--- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=${process.pid}, si_uid=${process.getuid!()}} ---`,
      '+++ killed by SIGTERM +++',
    ]);
  });
});
