// _exit does not flush stdio: the buffered line is lost natively and must be lost under usmjit too
// (stdout is a pipe, so it is fully buffered). What was written with write(2) appears.
// EXIT: 5
#include <stdio.h>
#include <unistd.h>

int main(void) {
  printf("buffered, never shown\n");
  write(1, "written directly\n", 17);
  write(2, "to stderr directly\n", 19);
  _exit(5);
}
