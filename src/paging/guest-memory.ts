/**
 * Guest memory as the runtime (syscalls, TypeScript-implemented instructions) sees it. In Linux
 * mode the AddressSpace implements it; in USM mode an MMU that walks the guest's page tables
 * will, so code written against this interface works in both. Every method throws GuestFault
 * for an access the guest itself could not make.
 */
export interface GuestMemory {
  read(addr: number, len: number): Uint8Array;
  write(addr: number, data: Uint8Array): void;
  readU64(addr: number): bigint;
  readU32(addr: number): number;
  writeU64(addr: number, v: bigint): void;
  writeU32(addr: number, v: number): void;
  readCString(addr: number, max?: number): string;
}
