// exit(255), and exit(-1 & 0xff) semantics: status is truncated to 8 bits.
// EXIT: 255
#include <stdio.h>
#include <stdlib.h>

static volatile int code = -1;

int main(void) {
  printf("exiting with %d\n", code);
  exit(code);
}
