// A small stack-machine interpreter (switch dispatch) running a few bytecode programs (loops,
// calls, recursion via an explicit return stack), and a table-driven state machine that tokenizes
// an expression language and evaluates it with a shunting-yard parser.
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { PUSH, ADD, SUB, MUL, DIVM, MOD, DUP, SWAP, DROP, OVER, JMP, JZ, JNZ, CALL, RET, LOAD, STORE, LT, PRINT, HALT };

static long run(const long *code, long *mem, int trace) {
  long st[256];
  int rs[64];
  int sp = 0, rp = 0, pc = 0;
  long steps = 0;
  for (;;) {
    steps++;
    long op = code[pc++];
    switch (op) {
    case PUSH: st[sp++] = code[pc++]; break;
    case ADD: sp--; st[sp - 1] += st[sp]; break;
    case SUB: sp--; st[sp - 1] -= st[sp]; break;
    case MUL: sp--; st[sp - 1] *= st[sp]; break;
    case DIVM: sp--; st[sp - 1] = st[sp] ? st[sp - 1] / st[sp] : 0; break;
    case MOD: sp--; st[sp - 1] = st[sp] ? st[sp - 1] % st[sp] : 0; break;
    case DUP: st[sp] = st[sp - 1]; sp++; break;
    case SWAP: { long t = st[sp - 1]; st[sp - 1] = st[sp - 2]; st[sp - 2] = t; break; }
    case DROP: sp--; break;
    case OVER: st[sp] = st[sp - 2]; sp++; break;
    case JMP: pc = (int)code[pc]; break;
    case JZ: pc = st[--sp] == 0 ? (int)code[pc] : pc + 1; break;
    case JNZ: pc = st[--sp] != 0 ? (int)code[pc] : pc + 1; break;
    case CALL: rs[rp++] = pc + 1; pc = (int)code[pc]; break;
    case RET: pc = rs[--rp]; break;
    case LOAD: st[sp - 1] = mem[st[sp - 1]]; break;
    case STORE: mem[st[sp - 1]] = st[sp - 2]; sp -= 2; break;
    case LT: sp--; st[sp - 1] = st[sp - 1] < st[sp]; break;
    case PRINT: if (trace) printf("  out %ld\n", st[sp - 1]); sp--; break;
    case HALT: return steps * 1000 + (sp ? st[sp - 1] % 1000 : 0);
    default: printf("bad op %ld\n", op); return -1;
    }
  }
}

/* sum of i*i mod 7 for i < n, in a loop using memory cells 0 (i) and 1 (acc) */
static const long prog_loop[] = {
  PUSH, 0, PUSH, 0, STORE,        /* mem[0] = 0 */
  PUSH, 0, PUSH, 1, STORE,        /* mem[1] = 0 */
  /* 10: */ PUSH, 0, LOAD, PUSH, 200000, LT, JZ, 40,
  PUSH, 0, LOAD, DUP, MUL, PUSH, 7, MOD, PUSH, 1, LOAD, ADD, PUSH, 1, STORE,
  PUSH, 0, LOAD, PUSH, 1, ADD, PUSH, 0, STORE, JMP, 10,
  /* the JZ target (index 17) is patched to the end of this array by main */
};

int main(void) {
  /* Assemble the loop program with a correct exit address. */
  long code[128];
  int n = (int)(sizeof prog_loop / sizeof prog_loop[0]);
  memcpy(code, prog_loop, sizeof prog_loop);
  code[17] = n; /* JZ target: the instructions after the loop */
  code[n++] = PUSH; code[n++] = 1; code[n++] = LOAD; code[n++] = DUP; code[n++] = PRINT; code[n++] = HALT;
  long mem[16] = {0};
  long r = run(code, mem, 1);
  printf("loop program: result %ld, mem[0]=%ld mem[1]=%ld\n", r, mem[0], mem[1]);

  /* recursive factorial via CALL/RET: fact(n) = n<2 ? 1 : n*fact(n-1) */
  long fact2[] = {
    PUSH, 20, CALL, 6, PRINT, HALT,
    /* 6 */ DUP, PUSH, 2, LT, JZ, 16, DROP, PUSH, 1, RET,
    /* 16 */ DUP, PUSH, 1, SUB, CALL, 6, MUL, RET,
  };
  r = run(fact2, mem, 1);
  printf("factorial program: %ld\n", r);

  /* Collatz step counts for every start value below 3000, computed in bytecode */
  long best = 0, best_n = 0;
  for (long s = 1; s < 3000; s++) {
    long p[80];
    int k = 0;
    p[k++] = PUSH; p[k++] = s; p[k++] = PUSH; p[k++] = 0; p[k++] = STORE;      /* m0 = s */
    p[k++] = PUSH; p[k++] = 0; p[k++] = PUSH; p[k++] = 1; p[k++] = STORE;      /* m1 = 0 */
    int top = k;
    p[k++] = PUSH; p[k++] = 0; p[k++] = LOAD; p[k++] = PUSH; p[k++] = 1; p[k++] = SUB;
    p[k++] = JZ; int jexit = k++;
    p[k++] = PUSH; p[k++] = 0; p[k++] = LOAD; p[k++] = PUSH; p[k++] = 2; p[k++] = MOD;
    p[k++] = JZ; int jeven = k++;
    p[k++] = PUSH; p[k++] = 0; p[k++] = LOAD; p[k++] = PUSH; p[k++] = 3; p[k++] = MUL;
    p[k++] = PUSH; p[k++] = 1; p[k++] = ADD; p[k++] = JMP; int jstore = k++;
    p[jeven] = k;
    p[k++] = PUSH; p[k++] = 0; p[k++] = LOAD; p[k++] = PUSH; p[k++] = 2; p[k++] = DIVM;
    p[jstore] = k;
    p[k++] = PUSH; p[k++] = 0; p[k++] = STORE;
    p[k++] = PUSH; p[k++] = 1; p[k++] = LOAD; p[k++] = PUSH; p[k++] = 1; p[k++] = ADD; p[k++] = PUSH; p[k++] = 1;
    p[k++] = STORE; p[k++] = JMP; p[k++] = top;
    p[jexit] = k;
    p[k++] = PUSH; p[k++] = 1; p[k++] = LOAD; p[k++] = HALT;
    long m2[4] = {0};
    run(p, m2, 0);
    if (m2[1] > best) { best = m2[1]; best_n = s; }
  }
  printf("collatz: longest below 3000 starts at %ld with %ld steps\n", best_n, best);

  /* tokenizer state machine + shunting-yard evaluation */
  const char *exprs[] = {"1 + 2 * 3", "(1 + 2) * 3", "100 / 7 % 4 - -3", "2 * (3 + 4) * (5 - 1) / 2",
                         "12345 * 6789 - 987654", "((((42))))", "7 - 2 - 1", "8 / 2 / 2"};
  for (unsigned e = 0; e < sizeof exprs / sizeof exprs[0]; e++) {
    const char *s = exprs[e];
    long vals[64];
    char ops[64];
    int nv = 0, no = 0;
    int expect_operand = 1;
    enum { S_START, S_NUM } state = S_START;
    long cur = 0;
    int neg = 0;
#define PREC(c) ((c) == '+' || (c) == '-' ? 1 : (c) == '(' ? 0 : 2)
#define APPLY()                                                               \
  do {                                                                        \
    char o = ops[--no];                                                       \
    long b = vals[--nv], a = vals[--nv];                                      \
    vals[nv++] = o == '+' ? a + b : o == '-' ? a - b : o == '*' ? a * b : o == '/' ? a / b : a % b; \
  } while (0)
    for (const char *p = s;; p++) {
      char ch = *p;
      if (state == S_NUM) {
        if (isdigit((unsigned char)ch)) { cur = cur * 10 + (ch - '0'); continue; }
        vals[nv++] = neg ? -cur : cur;
        state = S_START;
        expect_operand = 0;
        neg = 0;
      }
      if (ch == 0) break;
      if (ch == ' ') continue;
      if (isdigit((unsigned char)ch)) { state = S_NUM; cur = ch - '0'; continue; }
      if (ch == '-' && expect_operand) { neg = !neg; continue; }
      if (ch == '(') { ops[no++] = '('; expect_operand = 1; continue; }
      if (ch == ')') { while (ops[no - 1] != '(') APPLY(); no--; expect_operand = 0; continue; }
      while (no && ops[no - 1] != '(' && PREC(ops[no - 1]) >= PREC(ch)) APPLY();
      ops[no++] = ch;
      expect_operand = 1;
    }
    while (no) APPLY();
    printf("%-28s = %ld\n", s, vals[0]);
  }
  return 0;
}
