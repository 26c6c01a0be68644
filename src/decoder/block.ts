import type { Block, Insn } from './ir.js';
import type { Decoder } from './capstone.js';

/** Where instruction bytes come from: the guest's executable memory. */
export interface CodeFetcher {
  /**
   * Up to `len` bytes at `addr`, stopping early at the first page that cannot be executed.
   * `pages` lists the guest page numbers read. Throws GuestFault if `addr` itself is not executable.
   */
  fetch(addr: number, len: number): { bytes: Uint8Array; pages: number[] };
}

const MAX_BLOCK_INSNS = 64;
const FETCH_BYTES = 320; // 64 instructions average under 5 bytes; a longer block just ends early
const DECODE_STEP = 4;
const MAX_INSN_LEN = 15;

/**
 * Block discovery: decode from `start` until an instruction that `ends` the block (the
 * translator's table says which: jit/isa endsBlock), the size limit, or bytes that do not decode.
 * Decoding and emission are separate steps (v86-style), so a batch can discover several blocks
 * before any Wasm is built.
 */
export function discoverBlock(dec: Decoder, code: CodeFetcher, start: number, ends: (i: Insn) => boolean, maxInsns = MAX_BLOCK_INSNS,
  ahead?: Map<number, Insn>): Block {
  const { bytes, pages } = code.fetch(start, FETCH_BYTES);
  const insns: Insn[] = [];
  let end = start;
  // Decode a few instructions at a time: most blocks are short, and Capstone's cost is per
  // instruction decoded, so decoding a whole window and discarding the tail wastes most of it.
  // What was decoded past a block's end goes to `ahead`: the block that starts there (a
  // conditional branch's fall-through, usually discovered next in the same batch) takes it.
  let stopped = false;
  while (insns.length < maxInsns && !stopped) {
    const known = ahead?.get(end);
    if (known) {
      insns.push(known);
      end = known.addr + known.len;
      if (ends(known)) return { start, end, insns, pages: pagesOf(pages, start, end) };
      continue;
    }
    const off = end - start;
    const want = Math.min(DECODE_STEP, maxInsns - insns.length);
    const got = dec.decode(bytes.subarray(off), end, want);
    for (let k = 0; k < got.length; k++) {
      const i = got[k];
      insns.push(i);
      end = i.addr + i.len;
      if (ends(i)) {
        if (ahead) for (let j = k + 1; j < got.length; j++) ahead.set(got[j].addr, got[j]);
        return { start, end, insns, pages: pagesOf(pages, start, end) };
      }
    }
    if (got.length < want) stopped = true;
  }
  const block: Block = { start, end, insns, pages: pagesOf(pages, start, end) };
  if (stopped) {
    // Decoding stopped before the limit: the bytes at `end` are not a valid instruction, or were cut
    // short by a page the guest cannot execute.
    const left = bytes.length - (end - start);
    if (left >= MAX_INSN_LEN) block.fault = { addr: end, vector: 'UD' };
    else if (bytes.length < FETCH_BYTES) block.fault = { addr: end, vector: 'PF', pfAddr: start + bytes.length };
    // Otherwise the fetch window ended mid-instruction: the next block starts there.
  }
  return block;
}

function pagesOf(fetched: number[], start: number, end: number): number[] {
  const first = Math.floor(start / 4096), last = Math.floor((Math.max(end, start + 1) - 1) / 4096);
  return fetched.filter((p) => p >= first && p <= last);
}
