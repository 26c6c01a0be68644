// exit(0) after output to stdout and stderr.
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  printf("exit0: stdout\n");
  fprintf(stderr, "exit0: stderr\n");
  exit(0);
}
