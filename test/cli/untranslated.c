/* An instruction usmjit does not translate (AVX, 256-bit): the guest gets SIGILL there, and
 * usmjit's report names the instruction (test/cli.test.ts). */
int main(void) {
  __asm__ volatile("vaddps %ymm0, %ymm1, %ymm2");
  return 0;
}
