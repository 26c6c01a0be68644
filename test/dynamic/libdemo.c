/* A shared library that is not installed: found through LD_LIBRARY_PATH or under -L PREFIX. */
#include <math.h>
const char *demo(void) { return "hello from libdemo"; }
double demo_hypot(double a, double b) { return hypot(a, b); }
