/**
 * How a translated block hands control back to the dispatcher: its i32 return value.
 * Details go in the CPU block's exit fields (core/layout.ts CPU.exitArg, exitSlot, exitInsn).
 */
export const enum Exit {
  /** rip holds the next guest address; exitSlot (if non-zero) is a chain slot to patch. */
  Lookup = 0,
  /** `syscall` executed; rip is the following instruction. */
  Syscall = 1,
  /** A CPU exception: the record of core/exception.ts (exitArg = vector | error << 8, exitInsn, faultAddr). */
  Exception = 2,
  /** The block budget ran out; rip is the block to resume at. */
  Budget = 3,
  /**
   * A memory access missed the TLB in code that leaves instead of calling its slow path
   * (jit/emitter.ts missExit): rip is the instruction (it runs again), exitArg the address,
   * exitSlot its size | 0x100 for a write, exitRegion the region's table slot.
   */
  Miss = 4,
}

/** x86 exception vectors. */
export const enum Vector {
  DE = 0, DB = 1, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8, TS = 10, NP = 11, SS = 12,
  GP = 13, PF = 14, MF = 16, AC = 17, XM = 19,
}

/** The guest ended (exit/exit_group): unwinds the dispatcher. */
export class GuestExit extends Error {
  constructor(readonly status: number) {
    super(`guest exited with ${status}`);
  }
}

/** exit(2): the calling thread ends (the process too if it was the last one). */
export class ThreadExit extends GuestExit {}

/**
 * The guest was killed by a signal (default action): unwinds the dispatcher. `report`: usmjit
 * prints a one-line report (a fault, a signal whose default action dumps core, or a kill of its
 * own such as out of memory), as qemu-user does; SIGTERM, SIGPIPE, SIGKILL end it silently.
 */
export class GuestKilled extends Error {
  constructor(readonly signo: number, readonly rip: bigint, readonly faultAddr?: number, readonly detail = '', readonly report = true) {
    super(`guest killed by signal ${signo}`);
  }
}

/**
 * A system call must wait for another guest task (linux-abi/block.ts): unwinds the dispatcher,
 * whose run() then returns BLOCKED; the call is kept by the kernel until the scheduler retries it.
 */
export class TaskBlocked {}

/**
 * execve replaced the process image: unwinds the old image's dispatcher (run() returns EXECED);
 * the process continues on the machine that holds the new image.
 */
export class ExecDone {
  constructor(readonly machine: unknown) {}
}
