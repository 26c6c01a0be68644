/**
 * A small WebAssembly binary encoder: the first JIT tier writes function bodies straight into
 * bytes (Binaryen's JS API costs ~14 µs per statement, far too slow for cold code). Method names
 * follow the Wasm instruction names so emitted code reads like the text format.
 */

export const enum T { i32 = 0x7f, i64 = 0x7e, f32 = 0x7d, f64 = 0x7c, v128 = 0x7b, funcref = 0x70 }
export const BLOCK_VOID = 0x40;

export class Bytes {
  buf: Uint8Array<ArrayBuffer>;
  len = 0;
  constructor(cap = 256) {
    this.buf = new Uint8Array(cap);
  }
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
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
}

/**
 * One function body under construction. Locals are allocated on demand; `temp`/`free` recycle
 * scratch locals so long blocks do not declare thousands of them.
 */
export class Fn {
  readonly code = new Bytes(1024);
  /** Structured-control nesting depth at the current position (block/loop/if open, end closes). */
  depth = 0;
  /** Code placed before `code` in the body: written last, run first (e.g. register loads). */
  readonly prologue = new Bytes(64);
  /**
   * Code generated when the body is finished, spliced in at recorded positions: for sequences that
   * depend on facts known only after the whole function is emitted (which registers are dirty).
   */
  private late: { pos: number; gen: () => Bytes }[] = [];

  /** A position to roll back to (code, nesting depth and placeholders). */
  mark(): { len: number; depth: number; late: number } {
    return { len: this.code.len, depth: this.depth, late: this.late.length };
  }
  rollback(m: { len: number; depth: number; late: number }): void {
    this.code.len = m.len;
    this.depth = m.depth;
    this.late.length = m.late;
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
    const out = new Bytes(this.code.len + 32);
    const groups: [number, T][] = [];
    for (const t of this.localTypes) {
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
    let at = 0;
    for (const { pos, gen } of this.late) {
      out.bytes(this.code.buf.subarray(at, pos));
      const g = gen();
      out.bytes(g.buf.subarray(0, g.len));
      at = pos;
    }
    out.bytes(this.code.buf.subarray(at, this.code.len));
    out.u8(0x0b);
    return out.done();
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
    for (const d of depths) this.code.u32(d);
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
  v128_load(o = 0) { this.simd(0); this.code.u32(4); this.code.u32(o); return this; }
  v128_store(o = 0) { this.simd(11); this.code.u32(4); this.code.u32(o); return this; }
  v128_const(bytes: ArrayLike<number>) { this.simd(12); this.code.bytes(bytes); return this; }
  /** i8x16.shuffle with 16 lane indices. */
  shuffle(lanes: ArrayLike<number>) { this.simd(13); this.code.bytes(lanes); return this; }
  lane(sub: number, idx: number) { this.simd(sub); this.code.u8(idx); return this; }
  /** i64 on the stack -> v128 with it in lane 0 and zero in lane 1. */
  i64x2Splat0() {
    this.simd(18);
    this.v128_const([255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0]);
    return this.simd(78);
  }
  memory_fill() { this.code.u8(0xfc); this.code.u32(11); this.code.u8(0); return this; }
  memory_copy() { this.code.u8(0xfc); this.code.u32(10); this.code.u8(0); this.code.u8(0); return this; }
}

export interface FuncType { params: T[]; results: T[] }

export interface ImportFunc { module: string; name: string; type: number }

/** Assembles a module that imports memory "env.mem", table "env.table" and some functions. */
export class ModuleBuilder {
  private types: FuncType[] = [];
  private typeKeys = new Map<string, number>();
  readonly imports: ImportFunc[] = [];
  private funcs: { type: number; fn: Fn }[] = [];
  private exports: { name: string; index: number }[] = [];
  /** Active element segment: table offset -> defined function indices. */
  private elems: { offset: number; funcs: number[] }[] = [];
  constructor(private readonly opts: { memoryPages: number; memoryMax: number; tableMin: number; noTable?: boolean }) {}

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
  add(fn: Fn): number {
    this.funcs.push({ type: this.type(fn.params, fn.results), fn });
    return this.imports.length + this.funcs.length - 1;
  }

  export(name: string, index: number): void {
    this.exports.push({ name, index });
  }

  elem(offset: number, funcs: number[]): void {
    this.elems.push({ offset, funcs });
  }

  emit(): Uint8Array<ArrayBuffer> {
    const out = new Bytes(4096);
    out.bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    const section = (id: number, fill: (b: Bytes) => void) => {
      const b = new Bytes(256);
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
    section(10, (b) => {
      b.u32(this.funcs.length);
      for (const f of this.funcs) {
        const body = f.fn.body();
        b.u32(body.length);
        b.bytes(body);
      }
    });
    return out.done();
  }
}
