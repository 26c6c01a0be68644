/* sgdt, sidt, str and sldt store what lgdt, lidt, ltr and lldt loaded (SDM vol. 2: "SGDT stores
 * the contents of the GDTR", "STR stores the segment selector from the task register", ...): at
 * CPL0, and at CPL3 too, since USM has no CR4.UMIP (docs/usm-abi.md: not privileged). The
 * differential tester cannot compare them with the host in user mode (not-generated.ts). LDTs:
 * usmjit loads only the null selector (lldt of another one raises #GP, see docs/usm-abi.md), so
 * only that is checked here. */
#include "usmtest.h"

struct __attribute__((packed)) dtr {
  uint16_t limit;
  uint64_t base;
};

static uint64_t gdt_copy[32] __attribute__((aligned(16)));
static uint64_t idt_copy[512] __attribute__((aligned(16)));

static USM_USER_DATA struct dtr u_gdtr, u_idtr;
static USM_USER_DATA uint16_t u_tr, u_ldtr;
static USM_USER_DATA char stack[8192] __attribute__((aligned(16)));

static USM_USER_TEXT void child(void *arg) {
  (void)arg;
  __asm__ volatile("sgdt %0" : "=m"(u_gdtr));
  __asm__ volatile("sidt %0" : "=m"(u_idtr));
  __asm__ volatile("str %0" : "=m"(u_tr));
  __asm__ volatile("sldt %0" : "=m"(u_ldtr));
  for (;;) __asm__ volatile("movq $1000, %%rax\n syscall" ::: "rax", "rcx", "r11", "memory");
}

static struct dtr sgdt(void) { struct dtr d; __asm__ volatile("sgdt %0" : "=m"(d)); return d; }
static struct dtr sidt(void) { struct dtr d; __asm__ volatile("sidt %0" : "=m"(d)); return d; }
static uint16_t str(void) { uint16_t s; __asm__ volatile("str %0" : "=m"(s)); return s; }
static uint16_t sldt(void) { uint16_t s; __asm__ volatile("sldt %0" : "=m"(s)); return s; }

int main(void) {
  usmtest_enter(0);
  struct dtr g0 = sgdt(), i0 = sidt();
  CHECK(g0.limit >= USM_TSS_SEL + 15 && g0.limit + 16 < sizeof gdt_copy, "sgdt: libusm's GDT, its limit covering the TSS descriptor");
  CHECK(i0.limit == 256 * 16 - 1, "sidt: libusm's IDT, 256 16-byte gates");
  CHECK(str() == USM_TSS_SEL, "str: the selector ltr loaded (%#x)", USM_TSS_SEL);

  /* A copy of the GDT, two descriptors longer. */
  memcpy(gdt_copy, (void *)g0.base, g0.limit + 1);
  struct dtr g1 = {g0.limit + 16, (uint64_t)gdt_copy};
  __asm__ volatile("lgdt %0" : : "m"(g1) : "memory");
  struct dtr g = sgdt();
  CHECK(g.base == g1.base && g.limit == g1.limit, "sgdt after lgdt: the new base and limit");
  memcpy(idt_copy, (void *)i0.base, i0.limit + 1);
  struct dtr i1 = {i0.limit, (uint64_t)idt_copy};
  __asm__ volatile("lidt %0" : : "m"(i1) : "memory");
  struct dtr i = sidt();
  CHECK(i.base == i1.base && i.limit == i1.limit, "sidt after lidt: the new base and limit");
  __asm__ volatile("lldt %w0" : : "r"((uint16_t)0) : "memory");
  CHECK(sldt() == 0, "sldt after lldt 0: the null selector");

  /* At CPL3 (no UMIP) the same values. */
  usm_map_user_sections(usm_root);
  struct usm_tf tf;
  usm_init_user_tf(&tf, child, 0, stack + sizeof stack);
  int r = usm_jump_to_user(&tf);
  CHECK(r == USM_UEXIT_SYSCALL && tf.rax == 1000, "the ring-3 child ran to its exit call");
  CHECK(u_gdtr.base == g1.base && u_gdtr.limit == g1.limit, "sgdt at CPL3: the same GDTR");
  CHECK(u_idtr.base == i1.base && u_idtr.limit == i1.limit, "sidt at CPL3: the same IDTR");
  CHECK(u_tr == USM_TSS_SEL, "str at CPL3: the same selector");
  CHECK(u_ldtr == 0, "sldt at CPL3: the same selector");

  /* Back to libusm's tables. */
  __asm__ volatile("lgdt %0\n lidt %1" : : "m"(g0), "m"(i0) : "memory");
  g = sgdt();
  i = sidt();
  CHECK(g.base == g0.base && g.limit == g0.limit && i.base == i0.base && i.limit == i0.limit, "libusm's tables back");
  return usmtest_done();
}
