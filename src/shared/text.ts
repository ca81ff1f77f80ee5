/**
 * Text from files, hosts and people, made safe to print: control characters (escape sequences
 * that would drive the terminal), invalid characters and long runs are escaped or cut, so an
 * error message quotes at most a short, escaped excerpt of what it read.
 */

/** Longest excerpt an error quotes (characters, before escaping). */
export const EXCERPT_LENGTH = 40;

/** Escapes C0/C1 control characters, DEL and U+FFFD (what invalid UTF-8 decodes to) as \xNN / \u{...}. */
export function escapeControls(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\ufffd\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

/** A short, escaped excerpt of `text` (one line; `…` where it was cut). */
export function excerpt(text: string, max = EXCERPT_LENGTH): string {
  const oneLine = text.replace(/\r?\n/g, '\\n').replace(/\t/g, '\\t');
  const cut = [...oneLine].length > max ? `${[...oneLine].slice(0, max).join('')}…` : oneLine;
  return escapeControls(cut);
}

/** Whether text read as UTF-8 is text at all: no NUL byte and no invalid sequence (U+FFFD). */
export function looksLikeText(text: string): boolean {
  return !text.includes('\u0000') && !text.includes('\ufffd');
}
