/**
 * What one guest thread owns in the kernel: its tid, the set_tid_address / robust-list records,
 * the call it is blocked in, the futex it waits on, and, while another thread of its process
 * runs, its signal mask and alternate stack (SignalState holds the running thread's) and its CPU
 * block (the machine holds the running thread's). process/scheduler.ts swaps them.
 */
import type { BlockedCall } from './kernel.js';
import type { AltStack, SigInfo } from './signals.js';

/** A thread waiting in FUTEX_WAIT: on which word, for which bits, and whether it was woken. */
export interface FutexWait {
  addr: number;
  bitset: number;
  woken: boolean;
  deadlineNs?: bigint;
}

export class ThreadState {
  /** CLONE_CHILD_CLEARTID / set_tid_address: zeroed and woken when the thread ends. */
  clearChildTid = 0n;
  robustList = 0n;
  /** The call the thread is blocked in (kernel.ts). */
  blockedCall?: BlockedCall;
  /** When the thread's current call was first attempted. */
  callStartNs = 0n;
  futex?: FutexWait;
  /** Saved while another thread runs: the mask, the thread's own pending signals, the altstack. */
  blocked = 0n;
  own = 0n;
  ownInfo = new Map<number, SigInfo>();
  altstack: AltStack = { sp: 0n, flags: 0, size: 0n };
  savedMask: bigint | undefined;
  /** The CPU block (up to the TLBs) while another thread of the machine runs. */
  cpu?: Uint8Array;

  constructor(readonly tid: number, public name: string) {}
}
