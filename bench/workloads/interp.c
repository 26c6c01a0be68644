// A bytecode interpreter with switch dispatch (a register VM) running nested loops that compute a
// checksum: the classic workload for indirect branches.
#include <stdint.h>
#include <stdio.h>

enum { LI, ADD, ADDI, SUB, MUL, XOR, SHR, AND, BLT, JMP, HALT };
typedef struct { uint8_t op, a, b, c; int32_t imm; } insn;

static __attribute__((noinline)) uint64_t run(const insn *code, int64_t *r) {
  int pc = 0;
  for (;;) {
    const insn *i = &code[pc++];
    switch (i->op) {
    case LI: r[i->a] = i->imm; break;
    case ADD: r[i->a] = r[i->b] + r[i->c]; break;
    case ADDI: r[i->a] = r[i->b] + i->imm; break;
    case SUB: r[i->a] = r[i->b] - r[i->c]; break;
    case MUL: r[i->a] = r[i->b] * r[i->c]; break;
    case XOR: r[i->a] = r[i->b] ^ r[i->c]; break;
    case SHR: r[i->a] = (int64_t)((uint64_t)r[i->b] >> i->imm); break;
    case AND: r[i->a] = r[i->b] & r[i->c]; break;
    case BLT: if (r[i->a] < r[i->b]) pc = i->imm; break;
    case JMP: pc = i->imm; break;
    case HALT: return (uint64_t)r[i->a];
    }
  }
}

int main(void) {
  /* r0 = i, r1 = j, r2 = acc, r3 = N, r4 = M, r5..r7 temporaries */
  const insn prog[] = {
    /* 0 */ {LI, 0, 0, 0, 0},
    /* 1 */ {LI, 2, 0, 0, 12345},
    /* 2 */ {LI, 3, 0, 0, 9000},
    /* 3 */ {LI, 4, 0, 0, 5000},
    /* 4 */ {LI, 1, 0, 0, 0},          /* outer: j = 0 */
    /* 5 */ {MUL, 5, 0, 1, 0},         /* inner: t = i*j */
    /* 6 */ {ADD, 5, 5, 2, 0},         /* t += acc */
    /* 7 */ {SHR, 6, 5, 0, 7},         /* u = t >> 7 */
    /* 8 */ {XOR, 2, 5, 6, 0},         /* acc = t ^ u */
    /* 9 */ {ADDI, 7, 2, 0, 0x3f},
    /* 10 */ {AND, 7, 7, 4, 0},
    /* 11 */ {SUB, 2, 2, 7, 0},
    /* 12 */ {ADDI, 1, 1, 0, 1},
    /* 13 */ {BLT, 1, 4, 0, 5},
    /* 14 */ {ADDI, 0, 0, 0, 1},
    /* 15 */ {BLT, 0, 3, 0, 4},
    /* 16 */ {HALT, 2, 0, 0, 0},
  };
  int64_t regs[8] = {0};
  uint64_t r = run(prog, regs);
  printf("interp result %016llx\n", (unsigned long long)r);
  return 0;
}
