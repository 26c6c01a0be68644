// Start-up probe: the smallest static program. Not part of the ratio table.
#include <stdio.h>

int main(void) {
  puts("hello, world");
  return 0;
}
