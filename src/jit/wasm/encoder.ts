/**
 * A small WebAssembly binary encoder: the first JIT tier writes function bodies straight into
 * bytes (Binaryen's JS API costs ~14 µs per statement, far too slow for cold code). Method names
 * follow the Wasm instruction names so emitted code reads like the text format.
 */

export const enum T { i32 = 0x7f, i64 = 0x7e, f32 = 0x7d, f64 = 0x7c, v128 = 0x7b, funcref = 0x70 }
export const BLOCK_VOID = 0x40;

/** Writes `v` (0 <= v < 2^31) at `at` as a 5-byte LEB128. */
export function writeLeb5(buf: Uint8Array, at: number, v: number): void {
  for (let k = 0; k < 4; k++) buf[at + k] = ((v >>> (7 * k)) & 0x7f) | 0x80;
  buf[at + 4] = (v >>> 28) & 0x7f;
}

/**
 * What a relocatable constant in a function body names (relocation.ts): a number that depends on
 * the process that compiled the code (table slots, chain slots, JS op ids), so that a body can be
 * stored and loaded into another process (the persistent translation cache).
 */
export const enum Reloc {
  /** i32.const of a chain slot's address (SLOTS_BASE + 4 * slot). */
  Slot = 0,
  /** i32.const of the region's table slot. */
  Region = 1,
  /** i32.const of the region's entry counter's address (COUNTERS_BASE + 4 * table slot). */
  Counter = 2,
  /** return_call's function index: the region itself. */
  Func = 3,
  /** i32.const of a JS-implemented op's id. */
  Op = 4,
  /**
   * Direct chaining inside one linked module (relocation.ts linkImages): i32.const 1 if the region
   * has a direct target there, else 0 (a region compiled alone: the code it guards is dead).
   */
  Linked = 5,
  /** i32.const of the entry the region's n-th chain slot holds when its target is in the module, else 0. */
  DirectEntry = 6,
  /** return_call's function index: that target's function (else the region itself: never called). */
  DirectFunc = 7,
}

/**
 * A relocatable constant in a body: where its 5 bytes are, what it names, its value when emitted,
 * and (for the kinds whose value does not tell it) its ordinal: which chain slot of the region.
 */
export interface RelocSite { at: number; kind: Reloc; value: number; ord?: number }

export class Bytes {
  buf: Uint8Array<ArrayBuffer>;
  len = 0;
  constructor(cap = 256) {
    this.buf = new Uint8Array(cap);
  }
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = Math.max(this.buf.length * 2, 64);
    while (cap < this.len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }
  u8(b: number): void {
    this.room(1);
    this.buf[this.len++] = b;
  }
  bytes(b: ArrayLike<number>): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  u32(v: number): void {
    this.room(5);
    v >>>= 0;
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v !== 0) b |= 0x80;
      this.buf[this.len++] = b;
    } while (v !== 0);
  }
  s32(v: number): void {
    this.room(5);
    v |= 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
        this.buf[this.len++] = b;
        return;
      }
      this.buf[this.len++] = b | 0x80;
    }
  }
  /**
   * A 5-byte LEB128 (unsigned and signed read the same for 0 <= v < 2^31): a value a relocation
   * rewrites in place later (relocation.ts).
   */
  leb5(v: number): void {
    this.room(5);
    writeLeb5(this.buf, this.len, v);
    this.len += 5;
  }
  /** Signed LEB128 of a safe integer without going through BigInt. */
  sNum(v: number): void {
    if (v >= -0x8000_0000 && v <= 0x7fff_ffff) return this.s32(v);
    this.room(10);
    for (;;) {
      const b = ((v % 128) + 128) % 128;
      v = Math.floor(v / 128);
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
        this.buf[this.len++] = b;
        return;
      }
      this.buf[this.len++] = b | 0x80;
    }
  }
  s64(v: bigint): void {
    v = BigInt.asIntN(64, v);
    if (v >= -0x8000_0000n && v <= 0x7fff_ffffn) return this.s32(Number(v));
    this.room(10);
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
        this.buf[this.len++] = b;
        return;
      }
      this.buf[this.len++] = b | 0x80;
    }
  }
  name(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u32(b.length);
    this.bytes(b);
  }
  /** A section/vector with its byte length prefixed. */
  sized(inner: Bytes): void {
    this.u32(inner.len);
    this.bytes(inner.buf.subarray(0, inner.len));
  }
  done(): Uint8Array<ArrayBuffer> {
    return this.buf.slice(0, this.len);
  }
  /** Empties it for reuse (its buffer stays). */
  reset(): this {
    this.len = 0;
    return this;
  }
}

/**
 * Buffers that outlive one function or module: a fresh Uint8Array of a kilobyte or more is an
 * ArrayBuffer with off-heap memory V8 tracks for its collector, several per region translated
 * (a cold busybox sh start translates ~400), while usmjit's JavaScript is still cold.
 */
const codePool: Uint8Array<ArrayBuffer>[] = [];
const sectionScratch = new Bytes(16 << 10);
/** ModuleBuilder.emitOne's copies of the sections before the code section, by shape. */
const prefixes = new Map<string, { counts: string; bytes: Uint8Array }>();
const lebLen = (v: number): number => (v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x20_0000 ? 3 : v < 0x1000_0000 ? 4 : 5);
function putLeb(out: Uint8Array, at: number, v: number): number {
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out[at++] = b;
  } while (v !== 0);
  return at;
}
const moduleScratch = new Bytes(64 << 10);
const EMPTY_CODE = new Uint8Array(0);
/** A Bytes for a function's code, its buffer from codePool when one is there. */
function pooledBytes(): Bytes {
  const b = new Bytes(0);
  b.buf = codePool.pop() ?? new Uint8Array(16 << 10);
  return b;
}

/**
 * One function body under construction. Locals are allocated on demand; `temp`/`free` recycle
 * scratch locals so long blocks do not declare thousands of them.
 */
export class Fn {
  readonly code = pooledBytes();
  /** Structured-control nesting depth at the current position (block/loop/if open, end closes). */
  depth = 0;
  /** Code placed before `code` in the body: written last, run first (e.g. register loads). */
  readonly prologue = new Bytes(64);
  /**
   * Code generated when the body is finished, spliced in at recorded positions: for sequences that
   * depend on facts known only after the whole function is emitted (which registers are dirty).
   */
  private late: { pos: number; gen: () => Bytes }[] = [];
  /** Relocatable constants, by position in `code`. */
  private relocs: RelocSite[] = [];
  /** The finished body (body() is asked again when a region is stored). */
  private finished?: { bytes: Uint8Array; relocs: RelocSite[] };

  /** A position to roll back to (code, nesting depth and placeholders). */
  mark(): { len: number; depth: number; late: number } {
    return { len: this.code.len, depth: this.depth, late: this.late.length };
  }
  rollback(m: { len: number; depth: number; late: number }): void {
    this.code.len = m.len;
    this.depth = m.depth;
    this.late.length = m.late;
    while (this.relocs.length && this.relocs[this.relocs.length - 1].at >= m.len) this.relocs.pop();
  }

  placeholder(gen: () => Bytes): this {
    this.late.push({ pos: this.code.len, gen });
    return this;
  }
  private localTypes: T[] = [];
  private pool = new Map<T, number[]>();
  constructor(readonly params: T[], readonly results: T[]) {}

  local(t: T): number {
    this.localTypes.push(t);
    return this.params.length + this.localTypes.length - 1;
  }
  temp(t: T): number {
    const p = this.pool.get(t);
    return p && p.length ? p.pop()! : this.local(t);
  }
  free(t: T, i: number): void {
    let p = this.pool.get(t);
    if (!p) this.pool.set(t, (p = []));
    if (p.includes(i)) throw new Error(`local ${i} freed twice`);
    p.push(i);
  }

  /** The body with its locals declaration, as the code section wants it. */
  body(): Uint8Array {
    return this.finish().bytes;
  }

  /** The body and where its relocatable constants ended up in it. */
  finish(): { bytes: Uint8Array; relocs: RelocSite[] } {
    if (this.finished) return this.finished;
    const out = new Bytes(this.code.len + 32);
    const groups: [number, T][] = [];
    for (let k = 0; k < this.localTypes.length; k++) {
      const t = this.localTypes[k];
      const g = groups[groups.length - 1];
      if (g && g[1] === t) g[0]++;
      else groups.push([1, t]);
    }
    out.u32(groups.length);
    for (const [n, t] of groups) {
      out.u32(n);
      out.u8(t);
    }
    out.bytes(this.prologue.buf.subarray(0, this.prologue.len));
    // A constant's body position: where its stretch of `code` starts in `out`, plus its offset in it.
    const relocs: RelocSite[] = [];
    let r = 0;
    const moveRelocs = (upTo: number) => {
      for (; r < this.relocs.length && this.relocs[r].at < upTo; r++) {
        const x = this.relocs[r];
        relocs.push({ ...x, at: out.len - at + x.at });
      }
    };
    let at = 0;
    for (let k = 0; k < this.late.length; k++) {
      const { pos, gen } = this.late[k];
      moveRelocs(pos);
      out.bytes(this.code.buf.subarray(at, pos));
      at = pos;
      const g = gen();
      // The late code goes in at `pos`: constants from `pos` on come after it.
      out.bytes(g.buf.subarray(0, g.len));
    }
    moveRelocs(Infinity);
    out.bytes(this.code.buf.subarray(at, this.code.len));
    out.u8(0x0b);
    this.finished = { bytes: out.done(), relocs };
    // Nothing reads `code` once the body is made: its buffer serves the next function.
    if (codePool.length < 4) codePool.push(this.code.buf);
    this.code.buf = EMPTY_CODE;
    this.code.len = 0;
    return this.finished;
  }

  // ---- control -------------------------------------------------------------------------
  op(b: number): this { this.code.u8(b); return this; }
  unreachable() { return this.op(0x00); }
  block(bt: number = BLOCK_VOID) { this.code.u8(0x02); this.code.u8(bt); this.depth++; return this; }
  loop(bt: number = BLOCK_VOID) { this.code.u8(0x03); this.code.u8(bt); this.depth++; return this; }
  if_(bt: number = BLOCK_VOID) { this.code.u8(0x04); this.code.u8(bt); this.depth++; return this; }
  else_() { return this.op(0x05); }
  /** Exception handling (the form V8 11 ships): try ... catch_all ... end, rethrow. */
  try_(bt: number = BLOCK_VOID) { this.code.u8(0x06); this.code.u8(bt); this.depth++; return this; }
  catch_all() { return this.op(0x19); }
  rethrow(depth: number) { this.code.u8(0x09); this.code.u32(depth); return this; }
  end() { this.depth--; return this.op(0x0b); }
  br(depth: number) { this.code.u8(0x0c); this.code.u32(depth); return this; }
  br_if(depth: number) { this.code.u8(0x0d); this.code.u32(depth); return this; }
  br_table(depths: number[], dflt: number) {
    this.code.u8(0x0e);
    this.code.u32(depths.length);
    for (let k = 0; k < depths.length; k++) this.code.u32(depths[k]);
    this.code.u32(dflt);
    return this;
  }
  return_() { return this.op(0x0f); }
  call(fn: number) { this.code.u8(0x10); this.code.u32(fn); return this; }
  call_indirect(type: number, table = 0) { this.code.u8(0x11); this.code.u32(type); this.code.u32(table); return this; }
  /** Calls a runtime function through table 0 (jit/runtime-table.ts) at a constant slot. */
  call_rt(c: { slot: number; type: number }) { return this.i32(c.slot).call_indirect(c.type); }
  return_call_rt(c: { slot: number; type: number }) { return this.i32(c.slot).return_call_indirect(c.type); }
  return_call(fn: number) { this.code.u8(0x12); this.code.u32(fn); return this; }
  /** return_call to a function whose index is relocated (Reloc.Func). */
  return_call_reloc(fn: number, kind: Reloc = Reloc.Func, ord?: number) { this.code.u8(0x12); this.relocs.push({ at: this.code.len, kind, value: fn, ord }); this.code.leb5(fn); return this; }
  /** i32.const of a relocated value (Reloc): 5 bytes, whatever the value. */
  i32_reloc(kind: Reloc, v: number, ord?: number) { this.code.u8(0x41); this.relocs.push({ at: this.code.len, kind, value: v, ord }); this.code.leb5(v); return this; }
  return_call_indirect(type: number, table = 0) { this.code.u8(0x13); this.code.u32(type); this.code.u32(table); return this; }
  drop() { return this.op(0x1a); }
  select() { return this.op(0x1b); }

  // ---- locals / consts -----------------------------------------------------------------
  get(i: number) { this.code.u8(0x20); this.code.u32(i); return this; }
  set(i: number) { this.code.u8(0x21); this.code.u32(i); return this; }
  tee(i: number) { this.code.u8(0x22); this.code.u32(i); return this; }
  i32(v: number) { this.code.u8(0x41); this.code.s32(v); return this; }
  i64(v: bigint | number) {
    this.code.u8(0x42);
    if (typeof v === 'number' && Number.isSafeInteger(v)) this.code.sNum(v);
    else this.code.s64(BigInt(v));
    return this;
  }
  f64(v: number) {
    this.code.u8(0x44);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    this.code.bytes(b);
    return this;
  }

  // ---- memory (offset is the memarg offset; align is log2) -----------------------------
  private mem(op: number, align: number, offset: number) {
    this.code.u8(op);
    this.code.u32(align);
    this.code.u32(offset);
    return this;
  }
  i32_load(o = 0) { return this.mem(0x28, 2, o); }
  i64_load(o = 0) { return this.mem(0x29, 3, o); }
  f32_load(o = 0) { return this.mem(0x2a, 2, o); }
  f64_load(o = 0) { return this.mem(0x2b, 3, o); }
  i32_load8_u(o = 0) { return this.mem(0x2d, 0, o); }
  i32_load16_u(o = 0) { return this.mem(0x2f, 1, o); }
  i64_load8_s(o = 0) { return this.mem(0x30, 0, o); }
  i64_load8_u(o = 0) { return this.mem(0x31, 0, o); }
  i64_load16_s(o = 0) { return this.mem(0x32, 1, o); }
  i64_load16_u(o = 0) { return this.mem(0x33, 1, o); }
  i64_load32_s(o = 0) { return this.mem(0x34, 2, o); }
  i64_load32_u(o = 0) { return this.mem(0x35, 2, o); }
  i32_store(o = 0) { return this.mem(0x36, 2, o); }
  i64_store(o = 0) { return this.mem(0x37, 3, o); }
  f32_store(o = 0) { return this.mem(0x38, 2, o); }
  f64_store(o = 0) { return this.mem(0x39, 3, o); }
  i32_store8(o = 0) { return this.mem(0x3a, 0, o); }
  i32_store16(o = 0) { return this.mem(0x3b, 1, o); }
  i64_store8(o = 0) { return this.mem(0x3c, 0, o); }
  i64_store16(o = 0) { return this.mem(0x3d, 1, o); }
  i64_store32(o = 0) { return this.mem(0x3e, 2, o); }

  // ---- i32 -----------------------------------------------------------------------------
  i32_eqz() { return this.op(0x45); }
  i32_eq() { return this.op(0x46); }
  i32_ne() { return this.op(0x47); }
  i32_lt_s() { return this.op(0x48); }
  i32_lt_u() { return this.op(0x49); }
  i32_gt_s() { return this.op(0x4a); }
  i32_gt_u() { return this.op(0x4b); }
  i32_le_s() { return this.op(0x4c); }
  i32_le_u() { return this.op(0x4d); }
  i32_ge_s() { return this.op(0x4e); }
  i32_ge_u() { return this.op(0x4f); }
  i32_clz() { return this.op(0x67); }
  i32_ctz() { return this.op(0x68); }
  i32_popcnt() { return this.op(0x69); }
  i32_add() { return this.op(0x6a); }
  i32_sub() { return this.op(0x6b); }
  i32_mul() { return this.op(0x6c); }
  i32_div_s() { return this.op(0x6d); }
  i32_div_u() { return this.op(0x6e); }
  i32_rem_s() { return this.op(0x6f); }
  i32_rem_u() { return this.op(0x70); }
  i32_and() { return this.op(0x71); }
  i32_or() { return this.op(0x72); }
  i32_xor() { return this.op(0x73); }
  i32_shl() { return this.op(0x74); }
  i32_shr_s() { return this.op(0x75); }
  i32_shr_u() { return this.op(0x76); }
  i32_rotl() { return this.op(0x77); }
  i32_rotr() { return this.op(0x78); }

  // ---- i64 -----------------------------------------------------------------------------
  i64_eqz() { return this.op(0x50); }
  i64_eq() { return this.op(0x51); }
  i64_ne() { return this.op(0x52); }
  i64_lt_s() { return this.op(0x53); }
  i64_lt_u() { return this.op(0x54); }
  i64_gt_s() { return this.op(0x55); }
  i64_gt_u() { return this.op(0x56); }
  i64_le_s() { return this.op(0x57); }
  i64_le_u() { return this.op(0x58); }
  i64_ge_s() { return this.op(0x59); }
  i64_ge_u() { return this.op(0x5a); }
  i64_clz() { return this.op(0x79); }
  i64_ctz() { return this.op(0x7a); }
  i64_popcnt() { return this.op(0x7b); }
  i64_add() { return this.op(0x7c); }
  i64_sub() { return this.op(0x7d); }
  i64_mul() { return this.op(0x7e); }
  i64_div_s() { return this.op(0x7f); }
  i64_div_u() { return this.op(0x80); }
  i64_rem_s() { return this.op(0x81); }
  i64_rem_u() { return this.op(0x82); }
  i64_and() { return this.op(0x83); }
  i64_or() { return this.op(0x84); }
  i64_xor() { return this.op(0x85); }
  i64_shl() { return this.op(0x86); }
  i64_shr_s() { return this.op(0x87); }
  i64_shr_u() { return this.op(0x88); }
  i64_rotl() { return this.op(0x89); }
  i64_rotr() { return this.op(0x8a); }

  // ---- f64 / f32 -----------------------------------------------------------------------
  f32_eq() { return this.op(0x5b); }
  f32_lt() { return this.op(0x5d); }
  f32_gt() { return this.op(0x5e); }
  f64_eq() { return this.op(0x61); }
  f64_ne() { return this.op(0x62); }
  f64_lt() { return this.op(0x63); }
  f64_gt() { return this.op(0x64); }
  f64_le() { return this.op(0x65); }
  f64_ge() { return this.op(0x66); }
  f32_abs() { return this.op(0x8b); }
  f32_neg() { return this.op(0x8c); }
  f32_sqrt() { return this.op(0x91); }
  f32_add() { return this.op(0x92); }
  f32_sub() { return this.op(0x93); }
  f32_mul() { return this.op(0x94); }
  f32_div() { return this.op(0x95); }
  f32_min() { return this.op(0x96); }
  f32_max() { return this.op(0x97); }
  f64_abs() { return this.op(0x99); }
  f64_neg() { return this.op(0x9a); }
  f64_ceil() { return this.op(0x9b); }
  f64_floor() { return this.op(0x9c); }
  f64_trunc() { return this.op(0x9d); }
  f64_nearest() { return this.op(0x9e); }
  f64_sqrt() { return this.op(0x9f); }
  f64_add() { return this.op(0xa0); }
  f64_sub() { return this.op(0xa1); }
  f64_mul() { return this.op(0xa2); }
  f64_div() { return this.op(0xa3); }
  f64_min() { return this.op(0xa4); }
  f64_max() { return this.op(0xa5); }

  // ---- conversions ---------------------------------------------------------------------
  i32_wrap_i64() { return this.op(0xa7); }
  i64_extend_i32_s() { return this.op(0xac); }
  i64_extend_i32_u() { return this.op(0xad); }
  f32_convert_i32_s() { return this.op(0xb2); }
  f32_convert_i64_s() { return this.op(0xb4); }
  f32_demote_f64() { return this.op(0xb6); }
  f64_convert_i32_s() { return this.op(0xb7); }
  f64_convert_i64_s() { return this.op(0xb9); }
  f64_convert_i64_u() { return this.op(0xba); }
  f64_promote_f32() { return this.op(0xbb); }
  i32_reinterpret_f32() { return this.op(0xbc); }
  i64_reinterpret_f64() { return this.op(0xbd); }
  f32_reinterpret_i32() { return this.op(0xbe); }
  f64_reinterpret_i64() { return this.op(0xbf); }
  i32_extend8_s() { return this.op(0xc0); }
  i32_extend16_s() { return this.op(0xc1); }
  i64_extend8_s() { return this.op(0xc2); }
  i64_extend16_s() { return this.op(0xc3); }
  i64_extend32_s() { return this.op(0xc4); }
  /** Saturating float->int (0xfc prefix). */
  sat(sub: number) { this.code.u8(0xfc); this.code.u32(sub); return this; }

  // ---- SIMD (0xfd prefix) --------------------------------------------------------------
  simd(sub: number) { this.code.u8(0xfd); this.code.u32(sub); return this; }
  v128_load(o = 0) { this.simd(SIMD.v128_load); this.code.u32(4); this.code.u32(o); return this; }
  v128_store(o = 0) { this.simd(SIMD.v128_store); this.code.u32(4); this.code.u32(o); return this; }
  v128_const(bytes: ArrayLike<number>) { this.simd(SIMD.v128_const); this.code.bytes(bytes); return this; }
  /** i8x16.shuffle with 16 lane indices. */
  shuffle(lanes: ArrayLike<number>) { this.simd(SIMD.i8x16_shuffle); this.code.bytes(lanes); return this; }
  lane(sub: number, idx: number) { this.simd(sub); this.code.u8(idx); return this; }
  /** i64 on the stack -> v128 with it in lane 0 and zero in lane 1. */
  i64x2Splat0() {
    this.simd(SIMD.i64x2_splat);
    this.v128_const([255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0]);
    return this.simd(SIMD.v128_and);
  }
  memory_fill() { this.code.u8(0xfc); this.code.u32(11); this.code.u8(0); return this; }
  memory_copy() { this.code.u8(0xfc); this.code.u32(10); this.code.u8(0); this.code.u8(0); return this; }
}

/**
 * Wasm SIMD opcodes (the sub-opcode after the 0xfd prefix), named as in the text format with '_'
 * for '.': SIMD.f64x2_add is f64x2.add. Emitters pass these to Fn.simd() (and lane()).
 */
export const SIMD = {
  v128_load: 0x00, v128_load8x8_s: 0x01, v128_load8x8_u: 0x02, v128_load16x4_s: 0x03,
  v128_load16x4_u: 0x04, v128_load32x2_s: 0x05, v128_load32x2_u: 0x06, v128_load8_splat: 0x07,
  v128_load16_splat: 0x08, v128_load32_splat: 0x09, v128_load64_splat: 0x0a, v128_store: 0x0b,
  v128_const: 0x0c, i8x16_shuffle: 0x0d, i8x16_swizzle: 0x0e, i8x16_splat: 0x0f,
  i16x8_splat: 0x10, i32x4_splat: 0x11, i64x2_splat: 0x12, f32x4_splat: 0x13,
  f64x2_splat: 0x14, i8x16_extract_lane_s: 0x15, i8x16_extract_lane_u: 0x16, i8x16_replace_lane: 0x17,
  i16x8_extract_lane_s: 0x18, i16x8_extract_lane_u: 0x19, i16x8_replace_lane: 0x1a, i32x4_extract_lane: 0x1b,
  i32x4_replace_lane: 0x1c, i64x2_extract_lane: 0x1d, i64x2_replace_lane: 0x1e, f32x4_extract_lane: 0x1f,
  f32x4_replace_lane: 0x20, f64x2_extract_lane: 0x21, f64x2_replace_lane: 0x22, i8x16_eq: 0x23,
  i8x16_ne: 0x24, i8x16_lt_s: 0x25, i8x16_lt_u: 0x26, i8x16_gt_s: 0x27,
  i8x16_gt_u: 0x28, i8x16_le_s: 0x29, i8x16_le_u: 0x2a, i8x16_ge_s: 0x2b,
  i8x16_ge_u: 0x2c, i16x8_eq: 0x2d, i16x8_ne: 0x2e, i16x8_lt_s: 0x2f,
  i16x8_lt_u: 0x30, i16x8_gt_s: 0x31, i16x8_gt_u: 0x32, i16x8_le_s: 0x33,
  i16x8_le_u: 0x34, i16x8_ge_s: 0x35, i16x8_ge_u: 0x36, i32x4_eq: 0x37,
  i32x4_ne: 0x38, i32x4_lt_s: 0x39, i32x4_lt_u: 0x3a, i32x4_gt_s: 0x3b,
  i32x4_gt_u: 0x3c, i32x4_le_s: 0x3d, i32x4_le_u: 0x3e, i32x4_ge_s: 0x3f,
  i32x4_ge_u: 0x40, f32x4_eq: 0x41, f32x4_ne: 0x42, f32x4_lt: 0x43,
  f32x4_gt: 0x44, f32x4_le: 0x45, f32x4_ge: 0x46, f64x2_eq: 0x47,
  f64x2_ne: 0x48, f64x2_lt: 0x49, f64x2_gt: 0x4a, f64x2_le: 0x4b,
  f64x2_ge: 0x4c, v128_not: 0x4d, v128_and: 0x4e, v128_andnot: 0x4f,
  v128_or: 0x50, v128_xor: 0x51, v128_bitselect: 0x52, v128_any_true: 0x53,
  v128_load32_zero: 0x5c, v128_load64_zero: 0x5d, f32x4_demote_f64x2_zero: 0x5e, f64x2_promote_low_f32x4: 0x5f,
  i8x16_abs: 0x60, i8x16_neg: 0x61, i8x16_popcnt: 0x62, i8x16_all_true: 0x63,
  i8x16_bitmask: 0x64, i8x16_narrow_i16x8_s: 0x65, i8x16_narrow_i16x8_u: 0x66, f32x4_ceil: 0x67,
  f32x4_floor: 0x68, f32x4_trunc: 0x69, f32x4_nearest: 0x6a, i8x16_shl: 0x6b,
  i8x16_shr_s: 0x6c, i8x16_shr_u: 0x6d, i8x16_add: 0x6e, i8x16_add_sat_s: 0x6f,
  i8x16_add_sat_u: 0x70, i8x16_sub: 0x71, i8x16_sub_sat_s: 0x72, i8x16_sub_sat_u: 0x73,
  f64x2_ceil: 0x74, f64x2_floor: 0x75, i8x16_min_s: 0x76, i8x16_min_u: 0x77,
  i8x16_max_s: 0x78, i8x16_max_u: 0x79, f64x2_trunc: 0x7a, i8x16_avgr_u: 0x7b,
  i16x8_extadd_pairwise_i8x16_s: 0x7c, i16x8_extadd_pairwise_i8x16_u: 0x7d, i32x4_extadd_pairwise_i16x8_s: 0x7e, i32x4_extadd_pairwise_i16x8_u: 0x7f,
  i16x8_abs: 0x80, i16x8_neg: 0x81, i16x8_q15mulr_sat_s: 0x82, i16x8_all_true: 0x83,
  i16x8_bitmask: 0x84, i16x8_narrow_i32x4_s: 0x85, i16x8_narrow_i32x4_u: 0x86, i16x8_extend_low_i8x16_s: 0x87,
  i16x8_extend_high_i8x16_s: 0x88, i16x8_extend_low_i8x16_u: 0x89, i16x8_extend_high_i8x16_u: 0x8a, i16x8_shl: 0x8b,
  i16x8_shr_s: 0x8c, i16x8_shr_u: 0x8d, i16x8_add: 0x8e, i16x8_add_sat_s: 0x8f,
  i16x8_add_sat_u: 0x90, i16x8_sub: 0x91, i16x8_sub_sat_s: 0x92, i16x8_sub_sat_u: 0x93,
  f64x2_nearest: 0x94, i16x8_mul: 0x95, i16x8_min_s: 0x96, i16x8_min_u: 0x97,
  i16x8_max_s: 0x98, i16x8_max_u: 0x99, i16x8_avgr_u: 0x9b, i16x8_extmul_low_i8x16_s: 0x9c,
  i16x8_extmul_high_i8x16_s: 0x9d, i16x8_extmul_low_i8x16_u: 0x9e, i16x8_extmul_high_i8x16_u: 0x9f, i32x4_abs: 0xa0,
  i32x4_neg: 0xa1, i32x4_all_true: 0xa3, i32x4_bitmask: 0xa4, i32x4_extend_low_i16x8_s: 0xa7,
  i32x4_extend_high_i16x8_s: 0xa8, i32x4_extend_low_i16x8_u: 0xa9, i32x4_extend_high_i16x8_u: 0xaa, i32x4_shl: 0xab,
  i32x4_shr_s: 0xac, i32x4_shr_u: 0xad, i32x4_add: 0xae, i32x4_sub: 0xb1,
  i32x4_mul: 0xb5, i32x4_min_s: 0xb6, i32x4_min_u: 0xb7, i32x4_max_s: 0xb8,
  i32x4_max_u: 0xb9, i32x4_dot_i16x8_s: 0xba, i32x4_extmul_low_i16x8_s: 0xbc, i32x4_extmul_high_i16x8_s: 0xbd,
  i32x4_extmul_low_i16x8_u: 0xbe, i32x4_extmul_high_i16x8_u: 0xbf, i64x2_abs: 0xc0, i64x2_neg: 0xc1,
  i64x2_all_true: 0xc3, i64x2_bitmask: 0xc4, i64x2_extend_low_i32x4_s: 0xc7, i64x2_extend_high_i32x4_s: 0xc8,
  i64x2_extend_low_i32x4_u: 0xc9, i64x2_extend_high_i32x4_u: 0xca, i64x2_shl: 0xcb, i64x2_shr_s: 0xcc,
  i64x2_shr_u: 0xcd, i64x2_add: 0xce, i64x2_sub: 0xd1, i64x2_mul: 0xd5,
  i64x2_eq: 0xd6, i64x2_ne: 0xd7, i64x2_lt_s: 0xd8, i64x2_gt_s: 0xd9,
  i64x2_le_s: 0xda, i64x2_ge_s: 0xdb, i64x2_extmul_low_i32x4_s: 0xdc, i64x2_extmul_high_i32x4_s: 0xdd,
  i64x2_extmul_low_i32x4_u: 0xde, i64x2_extmul_high_i32x4_u: 0xdf, f32x4_abs: 0xe0, f32x4_neg: 0xe1,
  f32x4_sqrt: 0xe3, f32x4_add: 0xe4, f32x4_sub: 0xe5, f32x4_mul: 0xe6,
  f32x4_div: 0xe7, f32x4_min: 0xe8, f32x4_max: 0xe9, f32x4_pmin: 0xea,
  f32x4_pmax: 0xeb, f64x2_abs: 0xec, f64x2_neg: 0xed, f64x2_sqrt: 0xef,
  f64x2_add: 0xf0, f64x2_sub: 0xf1, f64x2_mul: 0xf2, f64x2_div: 0xf3,
  f64x2_min: 0xf4, f64x2_max: 0xf5, f64x2_pmin: 0xf6, f64x2_pmax: 0xf7,
  i32x4_trunc_sat_f32x4_s: 0xf8, i32x4_trunc_sat_f32x4_u: 0xf9, f32x4_convert_i32x4_s: 0xfa, f32x4_convert_i32x4_u: 0xfb,
  i32x4_trunc_sat_f64x2_s_zero: 0xfc, i32x4_trunc_sat_f64x2_u_zero: 0xfd, f64x2_convert_low_i32x4_s: 0xfe, f64x2_convert_low_i32x4_u: 0xff,
} as const;

export interface FuncType { params: T[]; results: T[] }

/** A function to put in a module: built by an Fn, or a finished body (a stored region). */
export interface FnBody { readonly params: T[]; readonly results: T[]; body(): Uint8Array }

export interface ImportFunc { module: string; name: string; type: number }

/** Assembles a module that imports memory "env.mem", table "env.table" and some functions. */
export class ModuleBuilder {
  private types: FuncType[] = [];
  private typeKeys = new Map<string, number>();
  readonly imports: ImportFunc[] = [];
  private funcs: { type: number; fn: FnBody }[] = [];
  private exports: { name: string; index: number }[] = [];
  /** Active element segment: table offset -> defined function indices. */
  private elems: { offset: number; funcs: number[] }[] = [];
  /**
   * `hints`: one byte of V8's compilation-hints section for every function (strategy | baseline
   * tier << 2 | top tier << 4), emitted between the function and code sections; V8 reads it only
   * while --experimental-wasm-compilation-hints is set.
   */
  constructor(private readonly opts: { memoryPages: number; memoryMax: number; tableMin: number; noTable?: boolean; hints?: number }) {}

  type(params: T[], results: T[]): number {
    const key = params.join(',') + '>' + results.join(',');
    let i = this.typeKeys.get(key);
    if (i === undefined) {
      i = this.types.length;
      this.types.push({ params, results });
      this.typeKeys.set(key, i);
    }
    return i;
  }

  importFunc(module: string, name: string, params: T[], results: T[]): number {
    if (this.funcs.length) throw new Error('imports must come before definitions');
    this.imports.push({ module, name, type: this.type(params, results) });
    return this.imports.length - 1;
  }

  /** Reserves the index of a function defined later with define(). */
  add(fn: FnBody): number {
    this.funcs.push({ type: this.type(fn.params, fn.results), fn });
    return this.imports.length + this.funcs.length - 1;
  }

  export(name: string, index: number): void {
    this.exports.push({ name, index });
  }

  elem(offset: number, funcs: number[]): void {
    this.elems.push({ offset, funcs });
  }

  /**
   * The module of one defined function and nothing but the sections before the code section
   * (types, imports, the function's type, exports), which `shape` names: those come from a copy
   * made the first time, and the function body is copied once, straight into the result. Every
   * translated batch is such a module with the same runtime-call types, imports and export; written
   * out section by section and byte by byte, the module cost 50-100 us of interpreted JavaScript
   * each (10-20 ms of a cold `busybox true`). The copy is checked against the builder's counts; a
   * shape that does not match is written out in full.
   */
  emitOne(shape: string): Uint8Array<ArrayBuffer> {
    const counts = `${this.types.length},${this.imports.length},${this.funcs.length},${this.exports.length},${this.elems.length},${this.opts.hints ?? ''}`;
    const cached = prefixes.get(shape);
    if (this.funcs.length !== 1 || (cached && cached.counts !== counts)) return this.emit();
    if (!cached) {
      const bytes = this.emit();
      // Everything before the code section: the code section is the last (see emit).
      prefixes.set(shape, { counts, bytes: bytes.slice(0, this.codeAt) });
      return bytes;
    }
    const body = this.funcs[0].fn.body();
    // Code section: id 10, size, one body: its size, then its bytes.
    const inner = 1 + lebLen(body.length) + body.length;
    const out = new Uint8Array(cached.bytes.length + 1 + lebLen(inner) + inner);
    out.set(cached.bytes, 0);
    let at = cached.bytes.length;
    out[at++] = 10;
    at = putLeb(out, at, inner);
    out[at++] = 1;
    at = putLeb(out, at, body.length);
    this.bodies = Int32Array.of(at, at + body.length);
    out.set(body, at);
    return out;
  }

  emit(): Uint8Array<ArrayBuffer> {
    const out = moduleScratch.reset();
    out.bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    const section = (id: number, fill: (b: Bytes) => void) => {
      const b = sectionScratch.reset();
      fill(b);
      out.u8(id);
      out.sized(b);
    };
    section(1, (b) => {
      b.u32(this.types.length);
      for (const t of this.types) {
        b.u8(0x60);
        b.u32(t.params.length);
        for (const p of t.params) b.u8(p);
        b.u32(t.results.length);
        for (const r of t.results) b.u8(r);
      }
    });
    section(2, (b) => {
      b.u32(this.imports.length + (this.opts.noTable ? 1 : 2));
      b.name('env'); b.name('mem'); b.u8(0x02); b.u8(0x01); b.u32(this.opts.memoryPages); b.u32(this.opts.memoryMax);
      if (!this.opts.noTable) { b.name('env'); b.name('table'); b.u8(0x01); b.u8(T.funcref); b.u8(0x00); b.u32(this.opts.tableMin); }
      for (const im of this.imports) {
        b.name(im.module); b.name(im.name); b.u8(0x00); b.u32(im.type);
      }
    });
    section(3, (b) => {
      b.u32(this.funcs.length);
      for (const f of this.funcs) b.u32(f.type);
    });
    const hints = this.opts.hints;
    if (hints !== undefined) {
      section(0, (b) => {
        b.name('compilationHints');
        b.u32(this.funcs.length);
        for (let k = 0; k < this.funcs.length; k++) b.u8(hints);
      });
    }
    if (this.exports.length) {
      section(7, (b) => {
        b.u32(this.exports.length);
        for (const e of this.exports) { b.name(e.name); b.u8(0x00); b.u32(e.index); }
      });
    }
    if (this.elems.length) {
      section(9, (b) => {
        b.u32(this.elems.length);
        for (const e of this.elems) {
          b.u32(0); // active, table 0, funcref
          b.u8(0x41); b.s32(e.offset); b.u8(0x0b);
          b.u32(e.funcs.length);
          for (const f of e.funcs) b.u32(f);
        }
      });
    }
    const at = new Int32Array(2 * this.funcs.length);
    this.codeAt = out.len;
    section(10, (b) => {
      b.u32(this.funcs.length);
      this.funcs.forEach((f, k) => {
        const body = f.fn.body();
        b.u32(body.length);
        at[2 * k] = b.len;
        b.bytes(body);
        at[2 * k + 1] = b.len;
      });
    });
    // (The code section is the last: its contents end where the module does.)
    const start = out.len - sectionScratch.len;
    for (let k = 0; k < at.length; k++) at[k] += start;
    this.bodies = at;
    return out.done();
  }

  /** Where emit() put each function's body in the module: (start, end) pairs, in function order. */
  bodies?: Int32Array;
  /** Where emit() put the code section (the last). */
  private codeAt = 0;
}
