// elfy 1.0.0 ships no types: declare the part the loader uses. It is a CommonJS module
// (`module.exports = { parse, Parser, constants }`), imported as `import elfy from 'elfy'`.
//
// Known quirks (see src/loader/elf.ts for how the loader works around them):
//  - no validation at all: offsets and counts are trusted, so hostile input gives TypeErrors,
//    RangeErrors ("offset is out of range") or AssertionErrors;
//  - 64-bit fields are read as lo + hi * 2^32 (JS numbers, inexact above 2^53);
//  - unknown program header types (PT_GNU_PROPERTY, ...) come back as `undefined`, and
//    PT_GNU_EH_FRAME as 'sunw_eh_frame';
//  - `osabi`/`abiversion` are read from e_ident[6]/[7] instead of [7]/[8];
//  - `parse()` also parses section headers, reading sh_addralign/sh_entsize at the wrong offsets
//    and throwing on files without a section header string table.
declare module 'elfy' {
  namespace elfy {
    interface ProgramFlags {
      r?: boolean;
      w?: boolean;
      x?: boolean;
      [bit: string]: boolean | undefined;
    }

    interface Program {
      type: string | undefined;
      offset: number;
      vaddr: number;
      paddr: number;
      filesz: number;
      memsz: number;
      flags: ProgramFlags;
      align: number;
      /** The file bytes [offset, offset + filesz), clamped to the file. */
      data: Buffer;
    }

    interface Section {
      name: string;
      type: string | number;
      flags: Record<string, boolean>;
      addr: number;
      off: number;
      size: number;
      link: number;
      info: number;
      addralign: number;
      entsize: number;
      data: Buffer;
    }

    interface Header {
      class: '32' | '64';
      endian: 'lsb' | 'msb';
      osabi: string | undefined;
      abiversion: string | undefined;
      /** 'none' | 'rel' | 'exec' | 'dyn' | 'core' | 'num', or undefined. */
      type: string | undefined;
      /** e.g. 'amd64', '386', 'AArch64', or undefined. */
      machine: string | undefined;
      version: number;
      entry: number;
      phoff: number;
      shoff: number;
      flags: number;
      ehsize: number;
      phentsize: number;
      phnum: number;
      shentsize: number;
      shnum: number;
      shstrndx: number;
    }

    interface File extends Header {
      body: { programs: Program[]; sections: Section[] };
    }

    class Parser {
      constructor();
      execute(buf: Buffer): File;
      parseHeader(buf: Buffer): Header;
      parsePrograms(buf: Buffer, header: Header): Program[];
    }

    function parse(buf: Buffer): File;

    const constants: {
      class: Record<number, string>;
      endian: Record<number, string>;
      machine: Record<number, string>;
      type: Record<number, string>;
      entryType: Record<number, string>;
      entryFlags: Record<number, string>;
    };
  }
  export = elfy;
}
