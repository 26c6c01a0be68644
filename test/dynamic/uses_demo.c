/* Linked against libdemo.so (not installed on the host): needs LD_LIBRARY_PATH or -L. */
#include <stdio.h>
const char *demo(void);
double demo_hypot(double, double);
int main(void) { printf("%s %g\n", demo(), demo_hypot(3, 4)); return 0; }
