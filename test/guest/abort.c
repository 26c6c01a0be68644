// abort() raises SIGABRT: the guest dies with status 134. Buffered stdout is lost, as natively
// (glibc's abort does not flush streams), so only the flushed line shows.
// EXIT: 134
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  printf("flushed line\n");
  fflush(stdout);
  printf("this line stays in the buffer");
  abort();
}
