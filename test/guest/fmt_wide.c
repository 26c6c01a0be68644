// printf formatting with wide and computed widths/precisions: %*d, %-*s, %0*x, %.*s, %+ d,
// %#o/%#x, %c, %%, %n, long long / size_t / intmax / hh / h modifiers, positional %1$,
// output longer than stdio's buffer, and snprintf return values.
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  volatile int w = 20;
  printf("[%*d] [%-*d] [%0*d]\n", w, 42, w, -42, w, 42);
  printf("[%*s] [%-*s] [%.*s]\n", w, "right", w, "left", 3, "truncate");
  printf("[%+d] [% d] [%+d] [% d]\n", 5, 5, -5, -5);
  printf("[%#o] [%#x] [%#X] [%o] [%x] [%#.0x]\n", 8, 255, 255, 0, 0, 0);
  printf("[%5c] [%-5c] [%%] [%c]\n", 'x', 'y', 0x41);
  printf("[%hhd] [%hhu] [%hd] [%hu]\n", (signed char)-1, (unsigned char)255, (short)-32768, (unsigned short)65535);
  printf("[%lld] [%llu] [%llx]\n", LLONG_MIN, ULLONG_MAX, 0x0123456789abcdefULL);
  printf("[%zu] [%zd] [%jd] [%td]\n", (size_t)-1, (ssize_t)-1, INTMAX_MIN, (ptrdiff_t)-12345);
  printf("[%" PRId64 "] [%" PRIu32 "] [%" PRIx16 "]\n", INT64_C(-9000000000), UINT32_MAX, (uint16_t)0xbeef);
  printf("[%2$s %1$s] [%3$*4$d]\n", "world", "hello", 7, 6);
  printf("[%.0d] [%.5d] [%8.3d] [%-8.3d|]\n", 0, 42, 7, -7);
  printf("[%10.4f] [%-10.2e|] [%010.3f] [%+.3g]\n", 3.14159265, 12345.678, -2.5, 0.000123456);
  int n1 = 0, n2 = 0;
  printf("abc%n defgh%n\n", &n1, &n2);
  printf("n1=%d n2=%d\n", n1, n2);
  /* very wide fields cross stdio's internal buffer */
  printf("[%300d]\n", 1);
  printf("[%-5000s]\n", "x");
  printf("[%08000.3f]\n", -1.5);
  char big[9000];
  memset(big, 'q', sizeof big - 1);
  big[sizeof big - 1] = 0;
  printf("%s|\n", big);
  char buf[16];
  int r = snprintf(buf, sizeof buf, "%s=%d", "a_rather_long_key", 123456);
  int r0 = snprintf(NULL, 0, "%0*d", 100, 1);
  printf("snprintf: '%s' r=%d r0=%d\n", buf, r, r0);
  for (int i = 0; i < 40; i++) printf("%*s%d\n", i, "", i);
  return 0;
}
