/*
 * entry.S - libusm's assembly: entering USM mode, the 256 IDT entry stubs, the LSTAR system call
 * entry, and the jump to / return from ring 3.
 *
 * Trap frame (struct usm_tf, lowest address first):
 *   rdi rsi rdx rcx r8 r9 r10 r11 rbx rbp r12 r13 r14 r15 rax  vector err  rip cs rflags rsp ss
 * 22 quadwords = 176 bytes; the entry paths build it so that its top (the end of ss) is 16-byte
 * aligned, which leaves rsp 16-byte aligned for the C dispatcher.
 *
 * Every IDT gate uses IST1 (IST2 for #DF). The IST1 stack is only a trampoline: the common code
 * copies the hardware frame to the real stack and continues there, so nested exceptions work:
 *   - from CPL0: the interrupted stack, below its 128-byte red zone (gcc code keeps data there);
 *   - from CPL3: the per-CPU kernel stack (usm_pcpu.kstack), after swapgs.
 */

#define TF_SIZE 176
#define FX_SIZE 512

/* struct usm__pcpu (core.c) */
#define PCPU_KSTACK   0
#define PCPU_USER_RSP 8
#define PCPU_SUP_RSP  16
#define PCPU_CUR_TF   24
#define PCPU_CUR_FPU  32

#define TSS_RSP0 4

#define USER_CS 0x33
#define USER_DS 0x2b

	.text

/* ------------------------------------------------------------------------------------------
 * long usm__enter_asm(struct usm_config *cfg, int fd, unsigned long request)
 * Saves the callee-saved registers and rsp in cfg->regs, sets cfg->rip to .Lin_usm and issues the
 * ioctl. In USM mode execution continues at .Lin_usm with the same stack: returns 0. If the ioctl
 * fails, returns -errno (still in Linux mode). When USM mode ends the ioctl returns 0 in Linux
 * mode: the stack may have been reused since, so switch to a private stack and call
 * usm__after_usm(cfg), which does not return. */
	.globl usm__enter_asm
	.type usm__enter_asm, @function
usm__enter_asm:
	movq %rbx, 3*8(%rdi)
	movq %rsp, 4*8(%rdi)
	movq %rbp, 5*8(%rdi)
	movq %r12, 12*8(%rdi)
	movq %r13, 13*8(%rdi)
	movq %r14, 14*8(%rdi)
	movq %r15, 15*8(%rdi)
	movq $0, 0*8(%rdi)
	leaq .Lin_usm(%rip), %rax
	movq %rax, 16*8(%rdi)
	/* ioctl(fd, request, cfg) */
	movq %rdx, %rax
	movq %rdi, %rdx
	movl %esi, %edi
	movq %rax, %rsi
	movl $16, %eax              /* SYS_ioctl */
	syscall
	testq %rax, %rax
	jnz 1f
	/* USM mode has ended: rdx still holds cfg (syscall preserves it). */
	leaq usm__exit_stack_top(%rip), %rsp
	movq %rdx, %rdi
	call usm__after_usm
	ud2
1:	ret
.Lin_usm:
	xorl %eax, %eax
	ret
	.size usm__enter_asm, .-usm__enter_asm

/* ------------------------------------------------------------------------------------------
 * The IDT entry stubs: 16 bytes each, at usm__stubs + 16 * vector. Vectors without a hardware
 * error code push 0; then the vector. */
	.altmacro
	.macro USM_STUB vec
	.p2align 4
	.if (\vec == 8) || (\vec == 10) || (\vec == 11) || (\vec == 12) || (\vec == 13) || (\vec == 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	pushq $0
	.endif
	pushq $\vec
	.if \vec == 8
	jmp usm__df_common
	.else
	jmp usm__trap_common
	.endif
	.endm

	.p2align 4
	.globl usm__stubs
usm__stubs:
	.set usm_vec, 0
	.rept 256
	USM_STUB %usm_vec
	.set usm_vec, usm_vec + 1
	.endr
	.noaltmacro

/* ------------------------------------------------------------------------------------------
 * Common exception/interrupt path, on the IST1 trampoline stack:
 *   0 rcx, 8 rax (saved here), 16 vector, 24 err, 32 rip, 40 cs, 48 rflags, 56 rsp, 64 ss */
	.p2align 4
	.globl usm__trap_common
usm__trap_common:
	pushq %rax
	pushq %rcx
	cmpb $0, usm__tramp_busy(%rip)
	jne usm__tramp_recursion
	movb $1, usm__tramp_busy(%rip)
	testb $3, 40(%rsp)
	jz 1f
	/* from CPL3: per-CPU area, kernel stack */
	swapgs
	movb $0, usm_in_user(%rip)
	movq %gs:PCPU_KSTACK, %rax
	jmp 2f
1:	/* from CPL0: below the interrupted code's red zone */
	movq 56(%rsp), %rax
	subq $128, %rax
	andq $-16, %rax
2:	subq $72, %rax
	movq 0(%rsp), %rcx
	movq %rcx, 0(%rax)
	movq 8(%rsp), %rcx
	movq %rcx, 8(%rax)
	movq 16(%rsp), %rcx
	movq %rcx, 16(%rax)
	movq 24(%rsp), %rcx
	movq %rcx, 24(%rax)
	movq 32(%rsp), %rcx
	movq %rcx, 32(%rax)
	movq 40(%rsp), %rcx
	movq %rcx, 40(%rax)
	movq 48(%rsp), %rcx
	movq %rcx, 48(%rax)
	movq 56(%rsp), %rcx
	movq %rcx, 56(%rax)
	movq 64(%rsp), %rcx
	movq %rcx, 64(%rax)
	movq %rax, %rsp
	movb $0, usm__tramp_busy(%rip)
	popq %rcx
	popq %rax
	/* fall through */

/* rsp -> vector, err, rip, cs, rflags, rsp, ss (top 16-byte aligned) */
	.globl usm__trap_switched
usm__trap_switched:
	pushq %rax
	pushq %r15
	pushq %r14
	pushq %r13
	pushq %r12
	pushq %rbp
	pushq %rbx
	pushq %r11
	pushq %r10
	pushq %r9
	pushq %r8
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	movq %rsp, %rbx
	subq $FX_SIZE, %rsp
	/* CR0.TS set (lazy FPU switching): the x87/SSE state is not this context's, and any x87/SSE
	 * instruction would raise #NM: neither save nor restore it (the #NM handler clears TS). */
	movq %cr0, %rax
	testb $8, %al
	jnz 5f
	cmpb $0, usm_trap_fpu_full(%rip)
	jne 4f
	/* SSE state only, in fxsave's layout (FCW..FDP zeroed: an empty x87 stack for fxrstor) */
	movq $0x37f, 0(%rsp)
	movq $0, 8(%rsp)
	movq $0, 16(%rsp)
	stmxcsr 24(%rsp)
	movaps %xmm0, 160(%rsp)
	movaps %xmm1, 176(%rsp)
	movaps %xmm2, 192(%rsp)
	movaps %xmm3, 208(%rsp)
	movaps %xmm4, 224(%rsp)
	movaps %xmm5, 240(%rsp)
	movaps %xmm6, 256(%rsp)
	movaps %xmm7, 272(%rsp)
	movaps %xmm8, 288(%rsp)
	movaps %xmm9, 304(%rsp)
	movaps %xmm10, 320(%rsp)
	movaps %xmm11, 336(%rsp)
	movaps %xmm12, 352(%rsp)
	movaps %xmm13, 368(%rsp)
	movaps %xmm14, 384(%rsp)
	movaps %xmm15, 400(%rsp)
	cld
	movq %rbx, %rdi
	call usm__dispatch
	movq %cr0, %rax
	testb $8, %al	/* the handler set CR0.TS: it took over the FPU state, which stays as it is */
	jnz 6f
	ldmxcsr 24(%rsp)
	movaps 160(%rsp), %xmm0
	movaps 176(%rsp), %xmm1
	movaps 192(%rsp), %xmm2
	movaps 208(%rsp), %xmm3
	movaps 224(%rsp), %xmm4
	movaps 240(%rsp), %xmm5
	movaps 256(%rsp), %xmm6
	movaps 272(%rsp), %xmm7
	movaps 288(%rsp), %xmm8
	movaps 304(%rsp), %xmm9
	movaps 320(%rsp), %xmm10
	movaps 336(%rsp), %xmm11
	movaps 352(%rsp), %xmm12
	movaps 368(%rsp), %xmm13
	movaps 384(%rsp), %xmm14
	movaps 400(%rsp), %xmm15
6:	movq %rbx, %rsp
	jmp usm__trap_return
5:	/* CR0.TS was set: no FPU state saved, none restored */
	cld
	movq %rbx, %rdi
	call usm__dispatch
	movq %rbx, %rsp
	jmp usm__trap_return
4:	/* the complete x87/SSE state (usm_trap_fpu_full) */
	fxsave64 (%rsp)
	cld
	movq %rbx, %rdi
	call usm__dispatch
	movq %cr0, %rax
	testb $8, %al
	jnz 6b
	fxrstor64 (%rsp)
	movq %rbx, %rsp
	/* fall through */

/* rsp -> a complete trap frame: restore it and iretq (swapgs when going back to CPL3) */
	.globl usm__trap_return
usm__trap_return:
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %r8
	popq %r9
	popq %r10
	popq %r11
	popq %rbx
	popq %rbp
	popq %r12
	popq %r13
	popq %r14
	popq %r15
	popq %rax
	addq $16, %rsp
	testb $3, 8(%rsp)
	jz 3f
	movb $1, usm_in_user(%rip)
	swapgs
3:	iretq

/* #DF: on its own IST2 stack, no trampoline (the dispatcher reports it and exits). */
	.p2align 4
usm__df_common:
	testb $3, 24(%rsp)
	jz usm__trap_switched
	swapgs
	movb $0, usm_in_user(%rip)
	jmp usm__trap_switched

/* An exception while copying a frame off the trampoline (the interrupted stack is not
 * writable): nothing can be trusted; report from the emergency stack. */
usm__tramp_recursion:
	leaq usm__emergency_stack_top(%rip), %rsp
	call usm__tramp_fatal
	ud2

/* ------------------------------------------------------------------------------------------
 * The LSTAR entry. rcx = return rip, r11 = rflags (IF, TF, DF, AC cleared by SFMASK).
 * From CPL0 (glibc inside the supervisor): skip the red zone, call usm__ksyscall with the
 * registers, and return with the flags restored and a jump (sysretq would go to CPL3).
 * From CPL3: swapgs, kernel stack, a trap frame with vector USM_VEC_SYSCALL, the dispatcher. */
	.p2align 4
	.globl usm__syscall_entry
usm__syscall_entry:
	cmpb $0, usm_in_user(%rip)
	jne .Lsys_user
	leaq -128(%rsp), %rsp
	pushq %rbx
	pushq %rdi
	pushq %rsi
	pushq %rdx
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %rcx
	pushq %r11
	pushq %rax
	/* struct usm__ksys at rsp: rax r11 rcx r10 r9 r8 rdx rsi rdi */
	movq %rsp, %rdi
	movq %rsp, %rbx
	andq $-16, %rsp
	cld
	call usm__ksyscall
	movq %rbx, %rsp
	addq $8, %rsp
	popq %r11
	popq %rcx
	popq %r10
	popq %r9
	popq %r8
	popq %rdx
	popq %rsi
	popq %rdi
	popq %rbx
	pushq %r11
	popfq
	leaq 128(%rsp), %rsp
	jmp *%rcx

.Lsys_user:
	swapgs
	movb $0, usm_in_user(%rip)
	movq %rsp, %gs:PCPU_USER_RSP
	movq %gs:PCPU_KSTACK, %rsp
	pushq $USER_DS
	pushq %gs:PCPU_USER_RSP
	pushq %r11
	pushq $USER_CS
	pushq %rcx
	pushq $0
	pushq $256
	jmp usm__trap_switched

/* ------------------------------------------------------------------------------------------
 * int usm__jump_to_user(struct usm_tf *tf, struct usm__fpu *fpu)
 * Saves the supervisor context (callee-saved registers, rflags, the previous per-CPU values, so
 * that nesting works), makes the stack below it the kernel stack for traps from ring 3, copies
 * *tf there and leaves through the common return path. usm_ret_from_user() comes back here. */
	.p2align 4
	.globl usm__jump_to_user
usm__jump_to_user:
	pushfq
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq usm_pcpu+PCPU_SUP_RSP(%rip)
	pushq usm_pcpu+PCPU_KSTACK(%rip)
	pushq usm_pcpu+PCPU_CUR_TF(%rip)
	pushq usm_pcpu+PCPU_CUR_FPU(%rip)
	cli
	movq %rsp, usm_pcpu+PCPU_SUP_RSP(%rip)
	movq %rsp, %rax
	andq $-16, %rax
	movq %rax, usm_pcpu+PCPU_KSTACK(%rip)
	movq %rax, usm__tss+TSS_RSP0(%rip)
	movq %rdi, usm_pcpu+PCPU_CUR_TF(%rip)
	movq %rsi, usm_pcpu+PCPU_CUR_FPU(%rip)
	testq %rsi, %rsi
	jz 1f
	fxrstor64 (%rsi)
1:	leaq -TF_SIZE(%rax), %rsp
	xorl %ecx, %ecx
2:	movq (%rdi,%rcx,8), %rdx
	movq %rdx, (%rsp,%rcx,8)
	incl %ecx
	cmpl $TF_SIZE/8, %ecx
	jne 2b
	/* supervisor context: GS_BASE = supervisor's, KERNEL_GS_BASE = per-CPU. The return path
	 * swaps them for CPL3, so swap first to leave the user the supervisor's GS base. */
	testb $3, 18*8(%rsp)
	jz usm__trap_return
	swapgs
	jmp usm__trap_return

/* void usm_ret_from_user(int code): from a handler of a trap taken in ring 3. Copies the ring-3
 * frame (at kstack - TF_SIZE) to the caller's tf (and its FPU state, saved by the dispatcher path
 * just below it, to the caller's area), then resumes the supervisor in usm__jump_to_user. */
	.p2align 4
	.globl usm_ret_from_user
	.type usm_ret_from_user, @function
usm_ret_from_user:
	cli
	movslq %edi, %rdx
	movq usm_pcpu+PCPU_KSTACK(%rip), %rsi
	subq $TF_SIZE, %rsi
	movq usm_pcpu+PCPU_CUR_FPU(%rip), %rdi
	testq %rdi, %rdi
	jz 1f
	xorl %ecx, %ecx
2:	movq -FX_SIZE(%rsi,%rcx,8), %rax
	movq %rax, (%rdi,%rcx,8)
	incl %ecx
	cmpl $FX_SIZE/8, %ecx
	jne 2b
1:	movq usm_pcpu+PCPU_CUR_TF(%rip), %rdi
	xorl %ecx, %ecx
3:	movq (%rsi,%rcx,8), %rax
	movq %rax, (%rdi,%rcx,8)
	incl %ecx
	cmpl $TF_SIZE/8, %ecx
	jne 3b
	movq usm_pcpu+PCPU_SUP_RSP(%rip), %rsp
	popq usm_pcpu+PCPU_CUR_FPU(%rip)
	popq usm_pcpu+PCPU_CUR_TF(%rip)
	popq usm_pcpu+PCPU_KSTACK(%rip)
	popq usm_pcpu+PCPU_SUP_RSP(%rip)
	movq usm_pcpu+PCPU_KSTACK(%rip), %rax
	movq %rax, usm__tss+TSS_RSP0(%rip)
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	swapgs
	movq %rdx, %rax
	popfq
	ret
	.size usm_ret_from_user, .-usm_ret_from_user

	.bss
	.p2align 4
	.globl usm__exit_stack_top
usm__exit_stack:
	.skip 65536
usm__exit_stack_top:
	.skip 16
usm__emergency_stack:
	.skip 16384
usm__emergency_stack_top:
	.skip 16

	.section .note.GNU-stack,"",@progbits
