// 8-bit add/adc/sub/sbb/and/or/xor/cmp/test/inc/dec/neg/not (register, memory and immediate forms)
// with all 16 setcc/jcc/cmovcc after each, plus gcc-generated compares, setcc and cmov.
#define BITS 8
#define PART_ALU
#include "alu_impl.h"
