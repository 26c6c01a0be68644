// 64-bit shl/shr/sar/rol/ror/rcl/rcr (by cl with counts 0..255, by 1 and by imm8), shld/shrd,
// with all 16 setcc/jcc/cmovcc after each, plus gcc-generated variable shifts and rotates.
#define BITS 64
#define PART_SHIFT
#include "alu_impl.h"
