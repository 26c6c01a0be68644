// Returning 42 from main.
// EXIT: 42
#include <stdio.h>

int main(int argc, char **argv) {
  (void)argv;
  printf("returning %d\n", 41 + argc);
  return 41 + argc;
}
