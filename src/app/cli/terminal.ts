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

/**
 * Everything the CLI prints passes here: control characters from files, hosts and people (escape
 * sequences that could retitle, move or clear the terminal) are shown escaped. Kept as they are:
 * newline, tab, and the two sequences the CLI itself writes (SGR colours `ESC[…m`, and the
 * progress line's `\r ESC[2K`), which cannot do more than colour text or clear one line.
 */
export function escapeForTerminal(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\r\x1b\[2K|\x1b\[[0-9;]*m|[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (m) => {
    if (m.length > 1) return m;
    return `\\x${m.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

const GUARDED = Symbol('rollwise.guarded');

/** Makes a stream's write() escape control characters (see escapeForTerminal); once per stream. */
export function guardStream(stream: NodeJS.WriteStream): void {
  const s = stream as NodeJS.WriteStream & { [GUARDED]?: true };
  if (s[GUARDED]) return;
  s[GUARDED] = true;
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => write(typeof chunk === 'string' ? escapeForTerminal(chunk) : chunk, ...rest)) as typeof stream.write;
}
