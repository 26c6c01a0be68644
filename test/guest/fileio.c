// File I/O in a private temp directory (mkdtemp under /tmp): open/write/read/pread/pwrite/lseek,
// fstat/stat/lstat sizes and types, ftruncate, rename, link/symlink/readlink, unlink, mkdir/rmdir,
// opendir/readdir (names sorted), dup/dup2, pipe, stdio fopen/fprintf/fgets/fseek/ftell, access,
// getcwd/chdir. Prints only values that do not depend on the directory name or inode numbers,
// and removes everything at the end.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static char dir[64];
static char paths[4][256];
static int next_path;
/* Rotating buffers, so that two P() results can be passed to one call. */
static const char *P(const char *name) {
  char *p = paths[next_path++ & 3];
  snprintf(p, 256, "%s/%s", dir, name);
  return p;
}
static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list_dir(const char *label) {
  DIR *d = opendir(dir);
  if (!d) { printf("opendir failed\n"); return; }
  char *names[64];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 64) {
    char type = e->d_type == DT_DIR ? 'd' : e->d_type == DT_REG ? 'f' : e->d_type == DT_LNK ? 'l' : '?';
    char *s = malloc(strlen(e->d_name) + 3);
    sprintf(s, "%s:%c", e->d_name, type);
    names[n++] = s;
  }
  closedir(d);
  qsort(names, n, sizeof names[0], cmpstr);
  printf("%s (%d):", label, n);
  for (int i = 0; i < n; i++) { printf(" %s", names[i]); free(names[i]); }
  printf("\n");
}

int main(void) {
  strcpy(dir, "/tmp/usmjit-fileio-XXXXXX");
  if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
  printf("mkdtemp ok, name length %zu\n", strlen(dir));

  /* write / read / lseek */
  int fd = open(P("data.bin"), O_CREAT | O_RDWR | O_TRUNC, 0644);
  char buf[8192];
  for (int i = 0; i < (int)sizeof buf; i++) buf[i] = (char)('A' + i % 26);
  ssize_t w = write(fd, buf, sizeof buf);
  off_t end = lseek(fd, 0, SEEK_CUR);
  off_t pos = lseek(fd, 100, SEEK_SET);
  char rb[48] = {0};
  ssize_t r = read(fd, rb, 10);
  off_t cur = lseek(fd, -5, SEEK_CUR);
  off_t fromend = lseek(fd, -26, SEEK_END);
  ssize_t r2 = read(fd, rb + 10, 26);
  printf("write=%zd end=%lld set=%lld read=%zd '%.10s' cur=%lld fromend=%lld read=%zd '%.26s'\n", w, (long long)end,
         (long long)pos, r, rb, (long long)cur, (long long)fromend, r2, rb + 10);
  ssize_t pw = pwrite(fd, "0123456789", 10, 4000);
  char pr[16] = {0};
  ssize_t prd = pread(fd, pr, 12, 3999);
  off_t after = lseek(fd, 0, SEEK_CUR);
  printf("pwrite=%zd pread=%zd '%s' offset unchanged=%d\n", pw, prd, pr, after == 8192);
  /* sparse extension past the end reads back zeros */
  lseek(fd, 10000, SEEK_SET);
  write(fd, "Z", 1);
  char z[4];
  pread(fd, z, 4, 9000);
  struct stat st;
  fstat(fd, &st);
  printf("after hole: size=%lld zeros=%d reg=%d mode=%o\n", (long long)st.st_size, !z[0] && !z[1] && !z[2] && !z[3],
         S_ISREG(st.st_mode), st.st_mode & 0777);
  ftruncate(fd, 1234);
  fstat(fd, &st);
  printf("ftruncate: size=%lld\n", (long long)st.st_size);
  ssize_t eof = read(fd, buf, 10);
  printf("read at eof after truncate: %zd\n", eof);

  /* dup / dup2 share the offset */
  int fd2 = dup(fd);
  lseek(fd, 10, SEEK_SET);
  off_t shared = lseek(fd2, 0, SEEK_CUR);
  int fd3 = dup2(fd, 50);
  printf("dup shares offset: %lld, dup2 -> %d\n", (long long)shared, fd3);
  close(fd2);
  close(fd3);
  close(fd);

  /* stdio */
  FILE *f = fopen(P("text.txt"), "w+");
  for (int i = 1; i <= 20; i++) fprintf(f, "line %d: %s\n", i, i % 2 ? "odd" : "even");
  long tell = ftell(f);
  fseek(f, 0, SEEK_SET);
  char line[128];
  int count = 0;
  unsigned sum = 0;
  while (fgets(line, sizeof line, f)) { count++; for (char *p = line; *p; p++) sum = sum * 31 + (unsigned char)*p; }
  fseek(f, -9, SEEK_END);
  fgets(line, sizeof line, f);
  printf("stdio: ftell=%ld lines=%d sum=%08x tail='%s'", tell, count, sum, line);
  fclose(f);

  /* errors */
  errno = 0;
  int bad = open(P("missing"), O_RDONLY);
  printf("open missing: %d errno=%s\n", bad, errno == ENOENT ? "ENOENT" : "other");
  errno = 0;
  bad = open(P("data.bin"), O_CREAT | O_EXCL | O_WRONLY, 0600);
  printf("O_EXCL on existing: %d errno=%s\n", bad, errno == EEXIST ? "EEXIST" : "other");
  errno = 0;
  ssize_t badw = write(-1, "x", 1);
  printf("write(-1): %zd errno=%s\n", badw, errno == EBADF ? "EBADF" : "other");

  /* directories, links, rename */
  mkdir(P("sub"), 0755);
  mkdir(P("sub/deeper"), 0700);
  int rc = rename(P("text.txt"), P("sub/moved.txt"));
  char target[256];
  snprintf(target, sizeof target, "%s/sub/moved.txt", dir);
  int rl = link(target, P("hard.txt"));
  int rs = symlink("sub/moved.txt", P("soft.txt"));
  char lbuf[64] = {0};
  ssize_t ll = readlink(P("soft.txt"), lbuf, sizeof lbuf - 1);
  struct stat lst, sst;
  lstat(P("soft.txt"), &lst);
  stat(P("soft.txt"), &sst);
  stat(P("hard.txt"), &st);
  printf("rename=%d link=%d symlink=%d readlink=%zd '%s' lstat_lnk=%d stat_size=%lld nlink=%lu\n", rc, rl, rs, ll, lbuf,
         S_ISLNK(lst.st_mode), (long long)sst.st_size, (unsigned long)st.st_nlink);
  printf("access: R=%d W=%d X=%d missing=%d\n", access(P("hard.txt"), R_OK), access(P("hard.txt"), W_OK),
         access(P("sub"), X_OK), access(P("nope"), F_OK));
  list_dir("listing");

  /* chdir + relative paths + getcwd */
  char old[512];
  getcwd(old, sizeof old);
  chdir(dir);
  char cwd[512];
  getcwd(cwd, sizeof cwd);
  int relfd = open("sub/deeper/rel.txt", O_CREAT | O_WRONLY, 0644);
  write(relfd, "relative\n", 9);
  close(relfd);
  struct stat rst;
  int rst_rc = stat("sub/deeper/rel.txt", &rst);
  printf("getcwd matches: %d, relative create: %d size=%lld\n", strcmp(cwd, dir) == 0, rst_rc, (long long)rst.st_size);
  chdir(old);

  /* pipe */
  int pfd[2];
  pipe(pfd);
  write(pfd[1], "through a pipe", 14);
  close(pfd[1]);
  char pb[32] = {0};
  ssize_t pn = read(pfd[0], pb, sizeof pb);
  ssize_t pe = read(pfd[0], pb, sizeof pb);
  close(pfd[0]);
  printf("pipe: %zd '%s' then %zd\n", pn, pb, pe);

  /* cleanup */
  int u = 0;
  u |= unlink(P("sub/deeper/rel.txt"));
  u |= rmdir(P("sub/deeper"));
  u |= unlink(P("soft.txt"));
  u |= unlink(P("hard.txt"));
  u |= unlink(P("sub/moved.txt"));
  u |= rmdir(P("sub"));
  u |= unlink(P("data.bin"));
  list_dir("after cleanup");
  u |= rmdir(dir);
  printf("cleanup rc=%d dir gone=%d\n", u, access(dir, F_OK) != 0);
  return u != 0;
}
