/** The terminal: colours only on terminals (never with NO_COLOR), progress on a terminal's stderr only. */
import { randomBytes } from 'node:crypto';
import pc from 'picocolors';
import { PLAIN, type Palette } from '../render/index.js';

/**
 * The CLI's own control characters (ESC of its colours, CR of its progress line) are written as
 * tokens no file or host can forge (random per process); the stream guard escapes every control
 * character it is given and only then turns the tokens into the real characters. So text from a
 * file that carries `\r`, `ESC[2K` or colours is shown escaped, whatever it contains.
 */
const NONCE = randomBytes(6).toString('hex');
const ESC_TOKEN = `\u{e000}${NONCE}e\u{e001}`;
const CR_TOKEN = `\u{e000}${NONCE}r\u{e001}`;

const sgr = (open: number, close: number) => (s: string): string => `${ESC_TOKEN}[${open}m${s}${ESC_TOKEN}[${close}m`;

export function paletteFor(stream: NodeJS.WriteStream = process.stdout): Palette {
  const on = pc.isColorSupported && stream.isTTY === true && !('NO_COLOR' in process.env);
  if (!on) return PLAIN;
  return { bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), cyan: sgr(36, 39) };
}

/** Progress on a terminal's stderr (one rewritten line); silent in pipes. */
export function createProgress(stream: NodeJS.WriteStream = process.stderr): { update(text: string): void; done(): void } {
  const on = stream.isTTY === true;
  let shown = false;
  return {
    update(text) {
      if (!on) return;
      stream.write(`${CR_TOKEN}${ESC_TOKEN}[2K${text}`);
      shown = true;
    },
    done() {
      if (on && shown) stream.write(`${CR_TOKEN}${ESC_TOKEN}[2K`);
      shown = false;
    },
  };
}

/**
 * A command that drives hosts (deploy, resume, abort) must not stop half-way because its output
 * went into a pipe that closed (`rollwise deploy ID | head`): after this, a closed stdout/stderr
 * drops the output and the command goes on (the journal keeps everything).
 */
let keepRunningOnClosedOutput = false;
export function keepRunningWhenOutputCloses(): void {
  keepRunningOnClosedOutput = true;
}
export function keepsRunningWhenOutputCloses(): boolean {
  return keepRunningOnClosedOutput;
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
 * Everything the CLI prints passes here: every control character (escape sequences from files,
 * hosts and people that could retitle, move or clear the terminal; a carriage return that would
 * overwrite a line) is shown escaped, except newline and tab; then the CLI's own tokens become
 * the ESC and CR of its colours and progress line.
 */
export function escapeForTerminal(text: string): string {
  // eslint-disable-next-line no-control-regex
  const escaped = text.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (m) => `\\x${m.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return escaped.includes(NONCE) ? escaped.replaceAll(ESC_TOKEN, '\x1b').replaceAll(CR_TOKEN, '\r') : escaped;
}

const GUARDED = Symbol('rollwise.guarded');
type Guarded = NodeJS.WriteStream & { [GUARDED]?: (chunk: unknown, ...rest: unknown[]) => boolean };

/** Makes a stream's write() escape control characters (see escapeForTerminal); once per stream. */
export function guardStream(stream: NodeJS.WriteStream): void {
  const s = stream as Guarded;
  if (s[GUARDED]) return;
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  s[GUARDED] = write;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => write(typeof chunk === 'string' ? escapeForTerminal(chunk) : chunk, ...rest)) as typeof stream.write;
}

/**
 * The stream as it was before guardStream, for a terminal UI that writes its own cursor
 * movements (the interactive prompts); whatever text it is given must be escaped by the caller.
 */
export function unguarded(stream: NodeJS.WriteStream): NodeJS.WriteStream {
  const write = (stream as Guarded)[GUARDED];
  if (!write) return stream;
  return Object.create(stream, { write: { value: write } }) as NodeJS.WriteStream;
}
