// capstone-wasm ships types its package.json "exports" map hides from NodeNext resolution:
// declare the part we use.
declare module 'capstone-wasm' {
  export class Capstone {
    constructor(arch: number, mode: number);
    get handle(): number;
    setOption(opt: number, value: unknown): number;
    getRegName(id: number): string;
    getInsnName(id: number): string;
    static call(name: string, ...args: unknown[]): any;
  }
  export const Const: Record<string, number>;
  export function loadCapstone(module?: Record<string, unknown>): Promise<void>;
}
