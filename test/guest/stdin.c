// Reads all of standard input (the harness pipes fixed text): counts lines/words/bytes, sums the
// numbers it finds, echoes each line reversed, then checks that a further read returns EOF.
// STDIN: hello world
// STDIN: 12 apples and 30 oranges
// STDIN:   leading spaces\ttab
// STDIN:
// STDIN: -7 +5 1e3 last line without digits? no: 42
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void) {
  char line[1024];
  int lines = 0, words = 0;
  long bytes = 0, numsum = 0;
  while (fgets(line, sizeof line, stdin)) {
    size_t n = strlen(line);
    bytes += (long)n;
    lines++;
    int inword = 0;
    for (size_t i = 0; i < n; i++) {
      if (isspace((unsigned char)line[i])) inword = 0;
      else if (!inword) { inword = 1; words++; }
    }
    for (char *p = line; *p;) {
      if (isdigit((unsigned char)*p) || ((*p == '-' || *p == '+') && isdigit((unsigned char)p[1]))) {
        char *end;
        long v = strtol(p, &end, 10);
        numsum += v;
        p = end;
      } else {
        p++;
      }
    }
    if (n && line[n - 1] == '\n') line[--n] = 0;
    printf("%2d: '", lines);
    for (size_t i = n; i > 0; i--) putchar(line[i - 1]);
    printf("'\n");
  }
  char extra;
  ssize_t r = read(0, &extra, 1);
  printf("lines=%d words=%d bytes=%ld numsum=%ld feof=%d read_after=%zd\n", lines, words, bytes, numsum, feof(stdin) != 0, r);
  return 0;
}
