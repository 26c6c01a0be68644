/**
 * Terminal state for ioctl on a host tty. Node cannot read or set termios, so the kernel answers
 * TCGETS with a cooked-mode default (what a fresh terminal has) and remembers TCSETS* so that a
 * later TCGETS returns what the guest set. The window size comes from Node's tty streams.
 */
import { WriteStream } from 'node:tty';

/** Kernel struct termios (x86-64): 4 u32 flags, c_line, c_cc[19] = 36 bytes. */
export const TERMIOS_SIZE = 36;

function defaultTermios(): Uint8Array {
  const t = new Uint8Array(TERMIOS_SIZE);
  const dv = new DataView(t.buffer);
  dv.setUint32(0, 0x0500, true); // c_iflag: ICRNL | IXON
  dv.setUint32(4, 0x0005, true); // c_oflag: OPOST | ONLCR
  dv.setUint32(8, 0x00bf, true); // c_cflag: B38400 | CS8 | CREAD
  dv.setUint32(12, 0x8a3b, true); // c_lflag: ISIG ICANON ECHO ECHOE ECHOK ECHOCTL ECHOKE IEXTEN
  t[16] = 0; // c_line
  // c_cc: VINTR VQUIT VERASE VKILL VEOF VTIME VMIN VSWTC VSTART VSTOP VSUSP VEOL VREPRINT VDISCARD VWERASE VLNEXT VEOL2
  const cc = [0x03, 0x1c, 0x7f, 0x15, 0x04, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0x0f, 0x17, 0x16, 0];
  t.set(cc, 17);
  return t;
}

export class TtyState {
  termios = defaultTermios();
  /** Set by TIOCSWINSZ; otherwise the host terminal's size is asked each time. */
  winsize?: { rows: number; cols: number; xpixel: number; ypixel: number };
  /** Foreground process group (TIOCGPGRP/TIOCSPGRP). */
  fgPgrp?: number;

  /** The terminal size: what the guest set, else the host's, else $LINES x $COLUMNS, else 24x80. */
  size(hostFd: number): { rows: number; cols: number; xpixel: number; ypixel: number } {
    if (this.winsize) return this.winsize;
    for (const s of [process.stdout, process.stderr]) {
      if (s.isTTY) {
        try {
          const [cols, rows] = (s as WriteStream).getWindowSize();
          if (cols > 0 && rows > 0) return { rows, cols, xpixel: 0, ypixel: 0 };
        } catch { /* try the next */ }
      }
    }
    void hostFd;
    const rows = Number(process.env.LINES) || 24;
    const cols = Number(process.env.COLUMNS) || 80;
    return { rows, cols, xpixel: 0, ypixel: 0 };
  }
}
