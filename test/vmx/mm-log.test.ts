/**
 * vmx/mm-log.ts: the events a vmcall's memory-map change appends to the supervisor's ring
 * (struct usm_mm_log, include/usm/usm_abi.h), and overflow when the supervisor lags.
 */
import { describe, expect, it } from 'vitest';
import { AddressSpace, PROT_READ, PROT_WRITE } from '../../src/paging/address-space.js';
import { MM_LOG_LEN, MmLog } from '../../src/vmx/mm-log.js';

const LOG = 0x10000;
const RW = PROT_READ | PROT_WRITE;

function setup(): { as: AddressSpace; log: MmLog; events: () => [bigint, bigint, bigint][] } {
  const as = new AddressSpace();
  as.map(LOG, 0x1000, RW, 'log');
  const log = new MmLog(as);
  log.addr = LOG;
  const events = () => {
    const head = as.readU32(LOG), tail = as.readU32(LOG + 4), out: [bigint, bigint, bigint][] = [];
    for (let n = tail; n !== head; n++) {
      const at = LOG + 16 + (n % MM_LOG_LEN) * 24;
      out.push([as.readU64(at), as.readU64(at + 8), as.readU64(at + 16)]);
    }
    return out;
  };
  return { as, log, events };
}

describe('the mm log', () => {
  it('records mmap, mprotect, munmap and a failed call as page-aligned ranges with their protection', () => {
    const { log, events } = setup();
    expect(log.wants(9) && log.wants(10) && log.wants(11) && log.wants(12) && log.wants(25)).toBe(true);
    expect(log.wants(39)).toBe(false); // getpid
    log.after(log.before(9), [0n, 0x2001n, 3n], 0x7000_0000n); // mmap(NULL, 0x2001, RW) = 0x70000000
    log.after(log.before(10), [0x7000_0000n, 0x1000n, 1n], 0n); // mprotect(.., 0x1000, R)
    log.after(log.before(11), [0x7000_1000n, 0x10n, 0n], 0n); // munmap
    log.after(log.before(9), [0n, 0x1000n, 3n], -12n); // ENOMEM: nothing
    expect(events()).toEqual([
      [0x7000_0000n, 0x7000_3000n, 3n],
      [0x7000_0000n, 0x7000_1000n, 1n],
      [0x7000_1000n, 0x7000_2000n, 0n],
    ]);
  });

  it('records brk growth and shrinking from the break before the call', () => {
    const { as, log, events } = setup();
    as.brkStart = as.brkEnd = 0x60_0000;
    const b = log.before(12);
    as.brkEnd = 0x60_2800; // what the brk handler did
    log.after(b, [0x60_2800n, 0n, 0n], 0x60_2800n);
    const c = log.before(12);
    as.brkEnd = 0x60_1000;
    log.after(c, [0x60_1000n, 0n, 0n], 0x60_1000n);
    expect(events()).toEqual([[0x60_0000n, 0x60_3000n, 3n], [0x60_1000n, 0x60_3000n, 0n]]);
  });

  it('records a moved mremap as the old range gone and the new one with the region protection', () => {
    const { as, log, events } = setup();
    as.map(0x5000_0000, 0x4000, PROT_READ, 'new');
    log.after(log.before(25), [0x4000_0000n, 0x2000n, 0x4000n, 1n], 0x5000_0000n);
    expect(events()).toEqual([[0x4000_0000n, 0x4000_2000n, 0n], [0x5000_0000n, 0x5000_4000n, 1n]]);
  });

  it('sets overflow instead of overwriting events the supervisor has not consumed', () => {
    const { as, log, events } = setup();
    for (let i = 0; i < MM_LOG_LEN + 3; i++) log.after(log.before(11), [BigInt(0x1000 * (i + 1)), 0x1000n, 0n], 0n);
    expect(events().length).toBe(MM_LOG_LEN);
    expect(as.readU32(LOG + 8)).toBe(1);
    as.writeU32(LOG + 4, as.readU32(LOG)); // the supervisor consumed everything
    log.after(log.before(11), [0x9000_0000n, 0x1000n, 0n], 0n);
    expect(events()).toEqual([[0x9000_0000n, 0x9000_1000n, 0n]]);
  });
});
