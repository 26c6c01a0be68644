/* Built as a shared library and given through LD_PRELOAD: it overrides libc's rand(). */
int rand(void) { return 42; }
