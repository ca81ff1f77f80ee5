/** The terminal: colours only on terminals (never with NO_COLOR), progress on a terminal's stderr only. */
import pc from 'picocolors';
import { PLAIN, type Palette } from '../render/index.js';

export function paletteFor(stream: NodeJS.WriteStream = process.stdout): Palette {
  const on = pc.isColorSupported && stream.isTTY === true && !('NO_COLOR' in process.env);
  if (!on) return PLAIN;
  const c = pc.createColors(true);
  return { bold: c.bold, dim: c.dim, red: c.red, green: c.green, yellow: c.yellow, cyan: c.cyan };
}

/** Progress on a terminal's stderr (one rewritten line); silent in pipes. */
export function createProgress(stream: NodeJS.WriteStream = process.stderr): { update(text: string): void; done(): void } {
  const on = stream.isTTY === true;
  let shown = false;
  return {
    update(text) {
      if (!on) return;
      stream.write(`\r\x1b[2K${text}`);
      shown = true;
    },
    done() {
      if (on && shown) stream.write('\r\x1b[2K');
      shown = false;
    },
  };
}

/** A warning on stderr (one line). */
export function warn(message: string): void {
  process.stderr.write(`rollwise: warning: ${message}\n`);
}

/** Commander's collector for repeatable options. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
