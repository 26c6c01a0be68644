import { lstatSync, mkdirSync, mkdtempSync, opendirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AT_FDCWD, BUF, harness } from './harness.js';

const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0o100, O_EXCL = 0o200, O_TRUNC = 0o1000, O_APPEND = 0o2000;
const O_NONBLOCK = 0o4000, O_DIRECTORY = 0o200000, O_CLOEXEC = 0o2000000, O_LARGEFILE = 0o100000;
const ENOENT = -2n, EBADF = -9n, EFAULT = -14n, EEXIST = -17n, ENOTDIR = -20n, EISDIR = -21n, EINVAL = -22n, ESPIPE = -29n;
const ENOTEMPTY = -39n, ENOTTY = -25n, ERANGE = -34n, EPIPE = -32n, EAGAIN = -11n;

let dir: string;
beforeAll(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'usmjit-abi-')));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

describe('open, read, write, close', () => {
  it('reads a file like the host sees it', () => {
    const h = harness();
    const path = join(dir, 'hello.txt');
    writeFileSync(path, 'hello, world\n');
    h.str(BUF, path);
    const fd = h.sys('openat', AT_FDCWD, BUF, O_RDONLY | O_CLOEXEC);
    expect(fd).toBe(3n);
    expect(h.sys('read', fd, BUF + 0x1000, 5)).toBe(5n);
    expect(h.text(BUF + 0x1000, 5)).toBe('hello');
    expect(h.sys('read', fd, BUF + 0x1000, 100)).toBe(8n);
    expect(h.text(BUF + 0x1000, 8)).toBe(', world\n');
    expect(h.sys('read', fd, BUF + 0x1000, 100)).toBe(0n);
    expect(h.sys('fcntl', fd, 1 /* F_GETFD */)).toBe(1n);
    expect(h.sys('fcntl', fd, 3 /* F_GETFL */)).toBe(BigInt(O_RDONLY | O_LARGEFILE));
    expect(h.sys('close', fd)).toBe(0n);
    expect(h.sys('close', fd)).toBe(EBADF);
    expect(h.sys('read', fd, BUF, 1)).toBe(EBADF);
  });

  it('open of a missing file is -ENOENT; open(2) and creat(2) work too', () => {
    const h = harness();
    h.str(BUF, join(dir, 'does-not-exist'));
    expect(h.sys('openat', AT_FDCWD, BUF, O_RDONLY)).toBe(ENOENT);
    expect(h.sys('open', BUF, O_RDONLY)).toBe(ENOENT);
    const fd = h.sys('creat', BUF, 0o600);
    expect(fd).toBe(3n);
    expect(statSync(join(dir, 'does-not-exist')).mode & 0o777).toBe(0o600);
    expect(h.sys('open', BUF, O_CREAT | O_EXCL | O_WRONLY, 0o644)).toBe(EEXIST);
    rmSync(join(dir, 'does-not-exist'));
  });

  it('writes, appends, truncates; lseek and pread/pwrite', () => {
    const h = harness();
    const path = join(dir, 'w.txt');
    h.str(BUF, path);
    const fd = h.sys('openat', AT_FDCWD, BUF, O_RDWR | O_CREAT | O_TRUNC, 0o644);
    h.str(BUF + 0x100, 'abcdefgh');
    expect(h.sys('write', fd, BUF + 0x100, 8)).toBe(8n);
    expect(h.sys('lseek', fd, 0, 1 /* SEEK_CUR */)).toBe(8n);
    expect(h.sys('lseek', fd, 2, 0 /* SEEK_SET */)).toBe(2n);
    expect(h.sys('write', fd, BUF + 0x100, 2)).toBe(2n);
    expect(readFileSync(path, 'utf8')).toBe('ababefgh');
    expect(h.sys('lseek', fd, -1, 2 /* SEEK_END */)).toBe(7n);
    expect(h.sys('lseek', fd, -100, 0)).toBe(EINVAL);
    expect(h.sys('lseek', fd, 0, 9)).toBe(EINVAL);
    expect(h.sys('pread64', fd, BUF + 0x200, 3, 4)).toBe(3n);
    expect(h.text(BUF + 0x200, 3)).toBe('efg');
    expect(h.sys('lseek', fd, 0, 1)).toBe(7n); // pread leaves the position
    expect(h.sys('pwrite64', fd, BUF + 0x100, 1, 0)).toBe(1n);
    expect(h.sys('pread64', fd, BUF + 0x200, 3, -1)).toBe(EINVAL);
    expect(readFileSync(path, 'utf8')).toBe('abab' + 'efgh'.replace('e', 'e'));
    expect(h.sys('ftruncate', fd, 3)).toBe(0n);
    expect(readFileSync(path, 'utf8')).toBe('aba');
    expect(h.sys('ftruncate', fd, -1)).toBe(EINVAL);
    h.sys('close', fd);

    const afd = h.sys('openat', AT_FDCWD, BUF, O_WRONLY | O_APPEND);
    expect(h.sys('write', afd, BUF + 0x100, 3)).toBe(3n);
    expect(readFileSync(path, 'utf8')).toBe('abaabc');
    expect(h.sys('lseek', afd, 0, 1)).toBe(6n);
    expect(h.sys('fcntl', afd, 3)).toBe(BigInt(O_WRONLY | O_APPEND | O_LARGEFILE));
    expect(h.sys('read', afd, BUF, 1)).toBe(EBADF);
    expect(h.sys('truncate', BUF, 1)).toBe(0n);
    expect(readFileSync(path, 'utf8')).toBe('a');
  });

  it('readv and writev scatter and gather', () => {
    const h = harness();
    const path = join(dir, 'v.txt');
    h.str(BUF, path);
    const fd = h.sys('openat', AT_FDCWD, BUF, O_RDWR | O_CREAT | O_TRUNC, 0o644);
    h.str(BUF + 0x100, 'Hello');
    h.str(BUF + 0x200, ', ');
    h.str(BUF + 0x300, 'vectors');
    const iov = BUF + 0x400;
    const v = dv(h.bytes(iov, 48));
    [[BUF + 0x100, 5], [BUF + 0x200, 2], [BUF + 0x300, 7]].forEach(([b, l], i) => {
      v.setBigUint64(i * 16, BigInt(b), true);
      v.setBigUint64(i * 16 + 8, BigInt(l), true);
    });
    h.as.write(iov, new Uint8Array(v.buffer));
    expect(h.sys('writev', fd, iov, 3)).toBe(14n);
    expect(readFileSync(path, 'utf8')).toBe('Hello, vectors');
    h.sys('lseek', fd, 0, 0);
    const r = dv(new Uint8Array(32));
    r.setBigUint64(0, BigInt(BUF + 0x500), true);
    r.setBigUint64(8, 4n, true);
    r.setBigUint64(16, BigInt(BUF + 0x600), true);
    r.setBigUint64(24, 100n, true);
    h.as.write(iov, new Uint8Array(r.buffer));
    expect(h.sys('readv', fd, iov, 2)).toBe(14n);
    expect(h.text(BUF + 0x500, 4)).toBe('Hell');
    expect(h.text(BUF + 0x600, 10)).toBe('o, vectors');
    expect(h.sys('readv', fd, iov, -1)).toBe(EINVAL);
    expect(h.sys('writev', fd, iov, 0)).toBe(0n);
  });

  it('a bad buffer is -EFAULT and consumes nothing', () => {
    const h = harness();
    const path = join(dir, 'f.txt');
    writeFileSync(path, 'data');
    h.str(BUF, path);
    const fd = h.sys('openat', AT_FDCWD, BUF, O_RDONLY);
    expect(h.sys('read', fd, 0xdead0000, 4)).toBe(EFAULT);
    expect(h.sys('read', fd, 0xffff_ffff_ffff_f000n, 4)).toBe(EFAULT);
    expect(h.sys('read', fd, BUF + 0x100, 4)).toBe(4n);
    expect(h.sys('write', 1, 0x1234, 10)).toBe(EFAULT);
    expect(h.sys('openat', AT_FDCWD, 0, O_RDONLY)).toBe(EFAULT);
    expect(h.sys('fstat', fd, 0x42)).toBe(EFAULT);
    // A read that runs off the end of the mapping returns what fits.
    writeFileSync(path, 'abcdefgh');
    h.sys('lseek', fd, 0, 0);
    expect(h.sys('read', fd, BUF + 0x10_0000 - 3, 8)).toBe(3n);
    expect(h.sys('lseek', fd, 0, 1)).toBe(3n);
  });

  it('reading a directory is -EISDIR; O_DIRECTORY on a file is -ENOTDIR', () => {
    const h = harness();
    h.str(BUF, dir);
    const fd = h.sys('openat', AT_FDCWD, BUF, O_RDONLY | O_DIRECTORY);
    expect(fd).toBeGreaterThanOrEqual(3n);
    expect(h.sys('read', fd, BUF + 0x100, 10)).toBe(EISDIR);
    writeFileSync(join(dir, 'plain'), 'x');
    h.str(BUF, join(dir, 'plain'));
    expect(h.sys('openat', AT_FDCWD, BUF, O_RDONLY | O_DIRECTORY)).toBe(ENOTDIR);
  });

  it('writes to stdout/stderr reach the host fds', () => {
    const h = harness();
    h.str(BUF, '');
    expect(h.sys('write', 1, BUF, 0)).toBe(0n);
    expect(h.sys('fstat', 1, BUF + 0x100)).toBe(0n);
  });
});

describe('dup, fcntl, pipes', () => {
  it('dup shares the position; dup2/dup3 follow Linux rules', () => {
    const h = harness();
    const path = join(dir, 'd.txt');
    writeFileSync(path, '0123456789');
    h.str(BUF, path);
    const fd = h.sys('openat', AT_FDCWD, BUF, O_RDONLY);
    const d = h.sys('dup', fd);
    expect(d).toBe(fd + 1n);
    h.sys('read', fd, BUF + 0x100, 4);
    expect(h.sys('lseek', d, 0, 1)).toBe(4n);
    expect(h.sys('dup2', fd, 10)).toBe(10n);
    expect(h.sys('dup2', fd, fd)).toBe(fd);
    expect(h.sys('dup2', 99, 10)).toBe(EBADF);
    expect(h.sys('dup3', fd, fd, 0)).toBe(EINVAL);
    expect(h.sys('dup3', fd, 11, O_CLOEXEC)).toBe(11n);
    expect(h.sys('fcntl', 11, 1)).toBe(1n);
    expect(h.sys('fcntl', 10, 1)).toBe(0n);
    expect(h.sys('fcntl', fd, 0 /* F_DUPFD */, 20)).toBe(20n);
    expect(h.sys('fcntl', fd, 1030 /* F_DUPFD_CLOEXEC */, 20)).toBe(21n);
    expect(h.sys('fcntl', 21, 1)).toBe(1n);
    expect(h.sys('fcntl', 21, 2 /* F_SETFD */, 0)).toBe(0n);
    expect(h.sys('fcntl', 21, 1)).toBe(0n);
    expect(h.sys('fcntl', fd, 4 /* F_SETFL */, O_NONBLOCK)).toBe(0n);
    expect(h.sys('fcntl', d, 3) & BigInt(O_NONBLOCK)).toBe(BigInt(O_NONBLOCK)); // shared description
    expect(h.sys('fcntl', fd, 9999)).toBe(EINVAL);
    // Closing one fd keeps the description open for the others.
    h.sys('close', fd);
    expect(h.sys('read', d, BUF + 0x100, 2)).toBe(2n);
    expect(h.text(BUF + 0x100, 2)).toBe('45');
  });

  it('pipe: data flows, EOF after the writer closes, EPIPE + SIGPIPE without readers', () => {
    const h = harness();
    expect(h.sys('pipe2', BUF, O_CLOEXEC)).toBe(0n);
    const fds = dv(h.bytes(BUF, 8));
    const r = fds.getInt32(0, true), w = fds.getInt32(4, true);
    expect([r, w]).toEqual([3, 4]);
    expect(h.sys('fcntl', r, 1)).toBe(1n);
    h.str(BUF + 0x100, 'through the pipe');
    expect(h.sys('write', w, BUF + 0x100, 16)).toBe(16n);
    expect(h.sys('ioctl', r, 0x541b /* FIONREAD */, BUF + 0x200)).toBe(0n);
    expect(dv(h.bytes(BUF + 0x200, 4)).getInt32(0, true)).toBe(16);
    expect(h.sys('read', r, BUF + 0x300, 7)).toBe(7n);
    expect(h.text(BUF + 0x300, 7)).toBe('through');
    expect(h.sys('lseek', r, 0, 0)).toBe(ESPIPE);
    expect(h.sys('pread64', r, BUF, 1, 0)).toBe(ESPIPE);
    expect(h.sys('fstat', r, BUF + 0x400)).toBe(0n);
    expect(dv(h.bytes(BUF + 0x400, 144)).getUint32(24, true) & 0o170000).toBe(0o010000);
    expect(h.sys('close', w)).toBe(0n);
    expect(h.sys('read', r, BUF + 0x300, 100)).toBe(9n);
    expect(h.sys('read', r, BUF + 0x300, 100)).toBe(0n);
    // Writer without reader.
    h.sys('pipe', BUF);
    const f2 = dv(h.bytes(BUF, 8));
    h.sys('close', f2.getInt32(0, true));
    h.sys('rt_sigaction', 13, BUF + 0x800, 0, 8); // SIGPIPE: SIG_DFL would kill; ignore it
    const act = new Uint8Array(32);
    act[0] = 1; // SIG_IGN
    h.as.write(BUF + 0x800, act);
    expect(h.sys('rt_sigaction', 13, BUF + 0x800, 0, 8)).toBe(0n);
    expect(h.sys('write', f2.getInt32(4, true), BUF + 0x100, 1)).toBe(EPIPE);
  });

  it('non-blocking pipe reads are -EAGAIN; pipe2 rejects unknown flags', () => {
    const h = harness();
    h.sys('pipe2', BUF, O_NONBLOCK);
    const r = dv(h.bytes(BUF, 8)).getInt32(0, true);
    expect(h.sys('read', r, BUF + 0x100, 1)).toBe(EAGAIN);
    expect(h.sys('pipe2', BUF, 0x1)).toBe(EINVAL);
    expect(h.sys('pipe', 0x1000)).toBe(EFAULT);
    expect(h.sys('fcntl', r, 1032 /* F_GETPIPE_SZ */)).toBe(65536n);
  });

  it('ioctl terminal requests on a non-tty are -ENOTTY', () => {
    const h = harness();
    h.str(BUF, join(dir));
    writeFileSync(join(dir, 't'), '');
    h.str(BUF, join(dir, 't'));
    const fd = h.sys('openat', AT_FDCWD, BUF, O_RDONLY);
    expect(h.sys('ioctl', fd, 0x5401 /* TCGETS */, BUF + 0x100)).toBe(ENOTTY);
    expect(h.sys('ioctl', fd, 0x5413 /* TIOCGWINSZ */, BUF + 0x100)).toBe(ENOTTY);
    expect(h.sys('ioctl', fd, 0x5451 /* FIOCLEX */)).toBe(0n);
    expect(h.sys('fcntl', fd, 1)).toBe(1n);
    expect(h.sys('ioctl', 77, 0x5401, BUF)).toBe(EBADF);
  });

  it('poll reports pipe readiness', () => {
    const h = harness();
    h.sys('pipe', BUF);
    const r = dv(h.bytes(BUF, 8)).getInt32(0, true), w = dv(h.bytes(BUF, 8)).getInt32(4, true);
    const pfd = new Uint8Array(24);
    const p = dv(pfd);
    p.setInt32(0, r, true); p.setInt16(4, 1 /* POLLIN */, true);
    p.setInt32(8, w, true); p.setInt16(12, 4 /* POLLOUT */, true);
    p.setInt32(16, 99, true); p.setInt16(20, 1, true);
    h.as.write(BUF + 0x100, pfd);
    expect(h.sys('poll', BUF + 0x100, 3, 0)).toBe(2n);
    let out = dv(h.bytes(BUF + 0x100, 24));
    expect(out.getInt16(6, true)).toBe(0);
    expect(out.getInt16(14, true)).toBe(4);
    expect(out.getInt16(22, true)).toBe(0x20); // POLLNVAL
    h.str(BUF + 0x200, 'x');
    h.sys('write', w, BUF + 0x200, 1);
    expect(h.sys('poll', BUF + 0x100, 2, 0)).toBe(2n);
    out = dv(h.bytes(BUF + 0x100, 24));
    expect(out.getInt16(6, true)).toBe(1);
    // select: read set {r}, write set {w}
    const rs = new Uint8Array(8), ws = new Uint8Array(8);
    rs[0] = 1 << r; ws[0] = 1 << w;
    h.as.write(BUF + 0x300, rs);
    h.as.write(BUF + 0x308, ws);
    expect(h.sys('select', w + 1, BUF + 0x300, BUF + 0x308, 0, 0)).toBe(2n);
    const bad = new Uint8Array(8);
    bad[1] = 0x80; // fd 15, not open
    h.as.write(BUF + 0x300, bad);
    expect(h.sys('select', 16, BUF + 0x300, 0, 0, 0)).toBe(EBADF);
  });
});

describe('stat family', () => {
  const check = (b: Uint8Array, path: string, follow = true) => {
    const st = follow ? statSync(path, { bigint: true }) : lstatSync(path, { bigint: true });
    const v = dv(b);
    expect(v.getBigUint64(0, true)).toBe(st.dev);
    expect(v.getBigUint64(8, true)).toBe(st.ino);
    expect(v.getBigUint64(16, true)).toBe(st.nlink);
    expect(BigInt(v.getUint32(24, true))).toBe(st.mode);
    expect(BigInt(v.getUint32(28, true))).toBe(st.uid);
    expect(BigInt(v.getUint32(32, true))).toBe(st.gid);
    expect(v.getBigUint64(40, true)).toBe(st.rdev);
    expect(v.getBigInt64(48, true)).toBe(st.size);
    expect(v.getBigInt64(56, true)).toBe(st.blksize);
    expect(v.getBigInt64(64, true)).toBe(st.blocks);
    expect(v.getBigInt64(72, true) * 1_000_000_000n + v.getBigInt64(80, true)).toBe(st.atimeNs);
    expect(v.getBigInt64(88, true) * 1_000_000_000n + v.getBigInt64(96, true)).toBe(st.mtimeNs);
    expect(v.getBigInt64(104, true) * 1_000_000_000n + v.getBigInt64(112, true)).toBe(st.ctimeNs);
  };

  it('stat, lstat, fstat, newfstatat match fs.statSync', () => {
    const h = harness();
    const path = join(dir, 's.txt');
    writeFileSync(path, 'x'.repeat(12345));
    const link = join(dir, 's.link');
    symlinkSync(path, link);
    h.str(BUF, path);
    expect(h.sys('stat', BUF, BUF + 0x1000)).toBe(0n);
    check(h.bytes(BUF + 0x1000, 144), path);
    h.str(BUF, link);
    expect(h.sys('lstat', BUF, BUF + 0x1000)).toBe(0n);
    check(h.bytes(BUF + 0x1000, 144), link, false);
    expect(h.sys('stat', BUF, BUF + 0x1000)).toBe(0n);
    check(h.bytes(BUF + 0x1000, 144), path);
    expect(h.sys('newfstatat', AT_FDCWD, BUF, BUF + 0x1000, 0x100 /* AT_SYMLINK_NOFOLLOW */)).toBe(0n);
    check(h.bytes(BUF + 0x1000, 144), link, false);
    h.str(BUF, path);
    const fd = h.sys('openat', AT_FDCWD, BUF, O_RDONLY);
    expect(h.sys('fstat', fd, BUF + 0x1000)).toBe(0n);
    check(h.bytes(BUF + 0x1000, 144), path);
    h.str(BUF + 0x800, '');
    expect(h.sys('newfstatat', fd, BUF + 0x800, BUF + 0x1000, 0x1000 /* AT_EMPTY_PATH */)).toBe(0n);
    check(h.bytes(BUF + 0x1000, 144), path);
    expect(h.sys('newfstatat', fd, BUF + 0x800, BUF + 0x1000, 0)).toBe(ENOENT);
    expect(h.sys('newfstatat', fd, BUF + 0x800, BUF + 0x1000, 0x8000000)).toBe(EINVAL);
    // Relative to a directory fd.
    h.str(BUF, dir);
    const dfd = h.sys('openat', AT_FDCWD, BUF, O_RDONLY | O_DIRECTORY);
    h.str(BUF + 0x800, 's.txt');
    expect(h.sys('newfstatat', dfd, BUF + 0x800, BUF + 0x1000, 0)).toBe(0n);
    check(h.bytes(BUF + 0x1000, 144), path);
    expect(h.sys('newfstatat', fd, BUF + 0x800, BUF + 0x1000, 0)).toBe(ENOTDIR);
    expect(h.sys('newfstatat', 55, BUF + 0x800, BUF + 0x1000, 0)).toBe(EBADF);
    h.str(BUF, join(dir, 'nope'));
    expect(h.sys('stat', BUF, BUF + 0x1000)).toBe(ENOENT);
    expect(h.sys('fstat', 99, BUF + 0x1000)).toBe(EBADF);
  });

  it('statx fills struct statx', () => {
    const h = harness();
    const path = join(dir, 'sx.txt');
    writeFileSync(path, 'statx!');
    const st = statSync(path, { bigint: true });
    h.str(BUF, path);
    expect(h.sys('statx', AT_FDCWD, BUF, 0, 0xfff, BUF + 0x1000)).toBe(0n);
    const v = dv(h.bytes(BUF + 0x1000, 256));
    expect(v.getUint32(0, true) & 0x7ff).toBe(0x7ff);
    expect(BigInt(v.getUint32(4, true))).toBe(st.blksize);
    expect(BigInt(v.getUint32(16, true))).toBe(st.nlink);
    expect(BigInt(v.getUint16(28, true))).toBe(st.mode);
    expect(v.getBigUint64(32, true)).toBe(st.ino);
    expect(v.getBigUint64(40, true)).toBe(6n);
    expect(v.getBigUint64(48, true)).toBe(st.blocks);
    expect(v.getBigInt64(112, true) * 1_000_000_000n + BigInt(v.getUint32(120, true))).toBe(st.mtimeNs);
    const major = v.getUint32(136, true), minor = v.getUint32(140, true);
    expect(BigInt(((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12))).toBe(st.dev);
    expect(h.sys('statx', AT_FDCWD, BUF, 0x6000, 0xfff, BUF + 0x1000)).toBe(EINVAL);
    expect(h.sys('statx', AT_FDCWD, BUF, 0, 0x80000000, BUF + 0x1000)).toBe(EINVAL);
  });

  it('statfs reports the host file system', () => {
    const h = harness();
    h.str(BUF, dir);
    expect(h.sys('statfs', BUF, BUF + 0x1000)).toBe(0n);
    const v = dv(h.bytes(BUF + 0x1000, 120));
    expect(v.getBigInt64(8, true)).toBeGreaterThan(0n);
    expect(v.getBigInt64(64, true)).toBe(255n);
    expect(h.sys('fstatfs', 1, BUF + 0x1000)).toBe(0n);
  });

  it('access and faccessat', () => {
    const h = harness();
    const path = join(dir, 'a.txt');
    writeFileSync(path, '');
    h.str(BUF, path);
    expect(h.sys('access', BUF, 0)).toBe(0n);
    expect(h.sys('access', BUF, 4)).toBe(0n);
    expect(h.sys('faccessat', AT_FDCWD, BUF, 6)).toBe(0n);
    expect(h.sys('access', BUF, 8)).toBe(EINVAL);
    expect(h.sys('faccessat2', AT_FDCWD, BUF, 0, 0x8000)).toBe(EINVAL);
    h.str(BUF, join(dir, 'missing'));
    expect(h.sys('access', BUF, 0)).toBe(ENOENT);
  });
});

describe('directories and names', () => {
  it('getdents64 lists the directory in the host order (opendirSync), with real inode numbers and types, across calls', () => {
    const h = harness();
    const d = join(dir, 'list');
    mkdirSync(d);
    for (let i = 0; i < 40; i++) writeFileSync(join(d, `file-${i}`), '');
    mkdirSync(join(d, 'subdir'));
    symlinkSync('file-0', join(d, 'link'));
    h.str(BUF, d);
    const fd = h.sys('openat', AT_FDCWD, BUF, O_RDONLY | O_DIRECTORY);
    const seen = new Map<string, { ino: bigint; type: number }>();
    let calls = 0;
    for (;;) {
      const n = Number(h.sys('getdents64', fd, BUF + 0x1000, 256));
      expect(n).toBeGreaterThanOrEqual(0);
      if (n === 0) break;
      calls++;
      const b = h.bytes(BUF + 0x1000, n);
      const v = dv(b);
      for (let off = 0; off < n;) {
        const reclen = v.getUint16(off + 16, true);
        const type = b[off + 18];
        const end = b.indexOf(0, off + 19);
        const name = Buffer.from(b.subarray(off + 19, end)).toString();
        expect(reclen % 8).toBe(0);
        expect(seen.has(name)).toBe(false);
        seen.set(name, { ino: v.getBigUint64(off, true), type });
        off += reclen;
      }
    }
    expect(calls).toBeGreaterThan(1);
    // The host's own order (Node's Dir does not sort), "." and ".." first.
    const hostOrder: string[] = [];
    const hd = opendirSync(d);
    for (let e = hd.readSync(); e; e = hd.readSync()) hostOrder.push(e.name);
    hd.closeSync();
    expect([...seen.keys()]).toEqual(['.', '..', ...hostOrder]);
    expect([...hostOrder].sort()).toEqual(readdirSync(d).sort());
    expect(seen.get('.')!.ino).toBe(statSync(d, { bigint: true }).ino);
    expect(seen.get('..')!.ino).toBe(statSync(dir, { bigint: true }).ino);
    expect(seen.get('file-7')!.ino).toBe(statSync(join(d, 'file-7'), { bigint: true }).ino);
    expect(seen.get('file-7')!.type).toBe(8); // DT_REG
    expect(seen.get('subdir')!.type).toBe(4); // DT_DIR
    expect(seen.get('link')!.type).toBe(10); // DT_LNK
    // Too small a buffer for even one entry.
    h.sys('lseek', fd, 0, 0);
    expect(h.sys('getdents64', fd, BUF + 0x1000, 8)).toBe(EINVAL);
    // rewind and read again: everything comes back.
    expect(Number(h.sys('getdents64', fd, BUF + 0x1000, 65536))).toBeGreaterThan(0);
    expect(h.sys('getdents64', fd, BUF + 0x1000, 65536)).toBe(0n);
    h.str(BUF, join(d, 'file-1'));
    const f = h.sys('openat', AT_FDCWD, BUF, O_RDONLY);
    expect(h.sys('getdents64', f, BUF + 0x1000, 4096)).toBe(ENOTDIR);
  });

  it('getdents64 gives names as the bytes the host has (not UTF-8)', () => {
    const h = harness();
    const d = join(dir, 'bytes');
    mkdirSync(d);
    const raw = Buffer.from([0x66, 0xff, 0xfe, 0x61]);
    writeFileSync(Buffer.concat([Buffer.from(d + '/'), raw]), '');
    h.str(BUF, d);
    const fd = h.sys('openat', AT_FDCWD, BUF, O_RDONLY | O_DIRECTORY);
    const n = Number(h.sys('getdents64', fd, BUF + 0x1000, 4096));
    const b = h.bytes(BUF + 0x1000, n);
    const v = dv(b);
    const names: Buffer[] = [];
    for (let off = 0; off < n; off += v.getUint16(off + 16, true)) names.push(Buffer.from(b.subarray(off + 19, b.indexOf(0, off + 19))));
    expect(names.map((x) => x.toString('hex'))).toEqual(['2e', '2e2e', raw.toString('hex')]);
  });

  it('getcwd, chdir, fchdir and relative paths', () => {
    const h = harness();
    const n = Number(h.sys('getcwd', BUF, 4096));
    expect(h.text(BUF, n - 1)).toBe(realpathSync(process.cwd()));
    expect(h.sys('getcwd', BUF, 2)).toBe(ERANGE);
    h.str(BUF, dir);
    expect(h.sys('chdir', BUF)).toBe(0n);
    expect(h.text(BUF + 0x100, Number(h.sys('getcwd', BUF + 0x100, 4096)) - 1)).toBe(dir);
    writeFileSync(join(dir, 'rel.txt'), 'relative');
    h.str(BUF, 'rel.txt');
    const fd = h.sys('open', BUF, O_RDONLY);
    expect(h.sys('read', fd, BUF + 0x200, 20)).toBe(8n);
    mkdirSync(join(dir, 'sub'), { recursive: true });
    h.str(BUF, 'sub');
    const sub = h.sys('open', BUF, O_RDONLY | O_DIRECTORY);
    expect(h.sys('fchdir', sub)).toBe(0n);
    expect(h.text(BUF + 0x100, Number(h.sys('getcwd', BUF + 0x100, 4096)) - 1)).toBe(join(dir, 'sub'));
    h.str(BUF, '..');
    expect(h.sys('chdir', BUF)).toBe(0n);
    expect(h.text(BUF + 0x100, Number(h.sys('getcwd', BUF + 0x100, 4096)) - 1)).toBe(dir);
    h.str(BUF, 'rel.txt');
    expect(h.sys('chdir', BUF)).toBe(ENOTDIR);
    expect(h.sys('fchdir', fd)).toBe(ENOTDIR);
    // Node's own cwd is untouched.
    expect(process.cwd()).not.toBe(dir);
  });

  it('mkdir, rename, link, symlink, readlink, unlink, rmdir', () => {
    const h = harness();
    const base = join(dir, 'names');
    h.str(BUF, base);
    expect(h.sys('mkdir', BUF, 0o755)).toBe(0n);
    expect(statSync(base).isDirectory()).toBe(true);
    expect(h.sys('mkdir', BUF, 0o755)).toBe(EEXIST);
    const dfd = h.sys('open', BUF, O_RDONLY | O_DIRECTORY);
    h.str(BUF + 0x100, 'inner');
    expect(h.sys('mkdirat', dfd, BUF + 0x100, 0o700)).toBe(0n);
    expect(statSync(join(base, 'inner')).mode & 0o777).toBe(0o700);
    writeFileSync(join(base, 'a'), 'A');
    h.str(BUF + 0x100, 'a');
    h.str(BUF + 0x200, 'b');
    expect(h.sys('renameat', dfd, BUF + 0x100, dfd, BUF + 0x200)).toBe(0n);
    expect(existsSync(join(base, 'b'))).toBe(true);
    writeFileSync(join(base, 'c'), 'C');
    h.str(BUF + 0x100, 'c');
    expect(h.sys('renameat2', dfd, BUF + 0x100, dfd, BUF + 0x200, 1 /* RENAME_NOREPLACE */)).toBe(EEXIST);
    expect(h.sys('renameat2', dfd, BUF + 0x100, dfd, BUF + 0x200, 0x100)).toBe(EINVAL);
    h.str(BUF + 0x300, join(base, 'b'));
    h.str(BUF + 0x400, join(base, 'hard'));
    expect(h.sys('link', BUF + 0x300, BUF + 0x400)).toBe(0n);
    expect(statSync(join(base, 'hard')).ino).toBe(statSync(join(base, 'b')).ino);
    h.str(BUF + 0x300, 'b');
    h.str(BUF + 0x400, join(base, 'sym'));
    expect(h.sys('symlink', BUF + 0x300, BUF + 0x400)).toBe(0n);
    expect(h.sys('readlink', BUF + 0x400, BUF + 0x500, 100)).toBe(1n);
    expect(h.text(BUF + 0x500, 1)).toBe('b');
    expect(h.sys('readlink', BUF + 0x400, BUF + 0x500, 0)).toBe(EINVAL);
    h.str(BUF + 0x300, join(base, 'b'));
    expect(h.sys('readlink', BUF + 0x300, BUF + 0x500, 100)).toBe(EINVAL);
    h.str(BUF + 0x100, 'sym');
    expect(h.sys('unlinkat', dfd, BUF + 0x100, 0)).toBe(0n);
    expect(existsSync(join(base, 'sym'))).toBe(false);
    h.str(BUF + 0x100, 'inner');
    expect(h.sys('unlinkat', dfd, BUF + 0x100, 0)).toBe(EISDIR);
    expect(h.sys('unlinkat', dfd, BUF + 0x100, 0x200 /* AT_REMOVEDIR */)).toBe(0n);
    expect(h.sys('unlinkat', dfd, BUF + 0x100, 0x1)).toBe(EINVAL);
    expect(h.sys('rmdir', BUF)).toBe(ENOTEMPTY);
    for (const f of ['b', 'c', 'hard']) {
      h.str(BUF + 0x100, join(base, f));
      expect(h.sys('unlink', BUF + 0x100)).toBe(0n);
    }
    expect(h.sys('rmdir', BUF)).toBe(0n);
    expect(existsSync(base)).toBe(false);
  });

  it('chmod, fchmod, utimensat', () => {
    const h = harness();
    const path = join(dir, 'm.txt');
    writeFileSync(path, '');
    h.str(BUF, path);
    expect(h.sys('chmod', BUF, 0o640)).toBe(0n);
    expect(statSync(path).mode & 0o777).toBe(0o640);
    const fd = h.sys('open', BUF, O_RDONLY);
    expect(h.sys('fchmod', fd, 0o604)).toBe(0n);
    expect(statSync(path).mode & 0o777).toBe(0o604);
    expect(h.sys('fchmodat', AT_FDCWD, BUF, 0o600)).toBe(0n);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const ts = dv(new Uint8Array(32));
    ts.setBigInt64(0, 1_000_000_000n, true); ts.setBigInt64(8, 0n, true);
    ts.setBigInt64(16, 1_500_000_000n, true); ts.setBigInt64(24, 250_000_000n, true);
    h.as.write(BUF + 0x100, new Uint8Array(ts.buffer));
    expect(h.sys('utimensat', AT_FDCWD, BUF, BUF + 0x100, 0)).toBe(0n);
    const st = statSync(path, { bigint: true });
    expect(st.atimeNs).toBe(1_000_000_000n * 1_000_000_000n);
    expect(st.mtimeNs / 1000n).toBe((1_500_000_000n * 1_000_000_000n + 250_000_000n) / 1000n);
    // UTIME_OMIT keeps atime, UTIME_NOW sets mtime to now.
    ts.setBigInt64(8, (1n << 30n) - 2n, true);
    ts.setBigInt64(24, (1n << 30n) - 1n, true);
    h.as.write(BUF + 0x100, new Uint8Array(ts.buffer));
    expect(h.sys('utimensat', fd, 0, BUF + 0x100, 0)).toBe(0n);
    const st2 = statSync(path, { bigint: true });
    expect(st2.atimeNs).toBe(st.atimeNs);
    expect(Number(st2.mtimeNs / 1_000_000n)).toBeGreaterThan(Date.now() - 60_000);
    ts.setBigInt64(8, 2_000_000_000n, true);
    h.as.write(BUF + 0x100, new Uint8Array(ts.buffer));
    expect(h.sys('utimensat', AT_FDCWD, BUF, BUF + 0x100, 0)).toBe(EINVAL);
  });

  it('xattrs are not supported', () => {
    const h = harness();
    h.str(BUF, dir);
    expect(h.sys('getxattr', BUF, BUF, BUF + 0x100, 10)).toBe(-95n);
    expect(h.sys('listxattr', BUF, BUF + 0x100, 10)).toBe(-95n);
  });
});

describe('/proc/self', () => {
  it('readlink /proc/self/exe is the guest executable', () => {
    const h = harness({ exePath: '/usr/bin/guest-program' });
    h.str(BUF, '/proc/self/exe');
    const n = h.sys('readlink', BUF, BUF + 0x100, 4096);
    expect(h.text(BUF + 0x100, Number(n))).toBe('/usr/bin/guest-program');
    h.str(BUF, `/proc/${process.pid}/exe`);
    expect(h.text(BUF + 0x100, Number(h.sys('readlinkat', AT_FDCWD, BUF, BUF + 0x100, 4096)))).toBe('/usr/bin/guest-program');
    // Truncated to the buffer, no NUL.
    h.str(BUF, '/proc/self/exe');
    expect(h.sys('readlink', BUF, BUF + 0x100, 4)).toBe(4n);
  });

  it('/proc/self/fd/N names guest fds; /proc/self/cwd is the guest cwd', () => {
    const h = harness();
    const path = join(dir, 'named');
    writeFileSync(path, 'n');
    h.str(BUF, path);
    const fd = h.sys('open', BUF, O_RDONLY);
    h.str(BUF, `/proc/self/fd/${fd}`);
    expect(h.text(BUF + 0x100, Number(h.sys('readlink', BUF, BUF + 0x100, 4096)))).toBe(path);
    h.sys('pipe', BUF + 0x800);
    const r = dv(h.bytes(BUF + 0x800, 8)).getInt32(0, true);
    h.str(BUF, `/proc/self/fd/${r}`);
    expect(h.text(BUF + 0x100, Number(h.sys('readlink', BUF, BUF + 0x100, 4096)))).toMatch(/^pipe:\[\d+\]$/);
    h.str(BUF, '/proc/self/fd/77');
    expect(h.sys('readlink', BUF, BUF + 0x100, 4096)).toBe(ENOENT);
    h.str(BUF, dir);
    h.sys('chdir', BUF);
    h.str(BUF, '/proc/self/cwd');
    expect(h.text(BUF + 0x100, Number(h.sys('readlink', BUF, BUF + 0x100, 4096)))).toBe(dir);
  });

  it('/proc/self/maps shows the guest regions', () => {
    const h = harness();
    h.sys('mmap', 0x7000_0000, 0x3000, 3, 0x22 | 0x10, -1, 0);
    h.str(BUF, '/proc/self/maps');
    const fd = h.sys('open', BUF, O_RDONLY);
    const n = h.sys('read', fd, BUF + 0x1000, 0x4000);
    const text = h.text(BUF + 0x1000, Number(n));
    expect(text.split('\n')).toContain('00100000-00200000 rw-p 00000000 00:00 0 ');
    expect(text.split('\n')).toContain('70000000-70003000 rw-p 00000000 00:00 0 ');
    h.sys('brk', 0x60_3000);
    const again = h.sys('open', BUF, O_RDONLY);
    const t2 = h.text(BUF + 0x1000, Number(h.sys('read', again, BUF + 0x1000, 0x4000)));
    expect(t2.split('\n')).toContain('00600000-00603000 rw-p 00000000 00:00 0' + ' '.repeat(34) + '[heap]');
    expect(h.sys('read', fd, BUF + 0x1000, 0x4000)).toBe(0n);
    expect(h.sys('open', BUF, O_WRONLY)).toBe(-13n);
  });
});
