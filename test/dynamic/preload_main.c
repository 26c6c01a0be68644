/* Prints rand(): glibc's sequence, or what a preloaded library puts in its place. */
#include <stdio.h>
#include <stdlib.h>
int main(void) {
  for (int i = 0; i < 4; i++) printf("rand %d\n", rand());
  return 0;
}
