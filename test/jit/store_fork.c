// The persistent translation cache's fork test (test/jit/translation-store.test.ts): the child
// runs code the parent never does, and ends first; the parent's save must keep the child's
// regions (the file's are merged), so the next run's child finds its code stored.
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) long child_only(long x) {
  for (int i = 0; i < 1000; i++) x = x * 6364136223846793005L + 1442695040888963407L;
  return x;
}

int main(void) {
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    printf("child %lx\n", (unsigned long)child_only(7));
    fflush(stdout);
    _exit(0);
  }
  int st;
  waitpid(p, &st, 0);
  printf("parent, child status %d\n", WEXITSTATUS(st));
  return 0;
}
