/**
 * Text from files, hosts and people, made safe to print: control characters (escape sequences
 * that would drive the terminal), invalid characters and long runs are escaped or cut, so an
 * error message quotes at most a short, escaped excerpt of what it read.
 */

/** Longest excerpt an error quotes (characters as printed, escapes included). */
export const EXCERPT_LENGTH = 40;

/** Escapes C0/C1 control characters, DEL and U+FFFD (what invalid UTF-8 decodes to) as \xNN / \u{...}. */
export function escapeControls(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\ufffd\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

/**
 * A short, escaped excerpt of `text` (one line; `…` where it was cut): at most `max` characters
 * as printed, counted after escaping, and never cut inside an escape.
 */
export function excerpt(text: string, max = EXCERPT_LENGTH): string {
  let out = '';
  let shown = 0;
  for (const c of text) {
    const e = c === '\n' ? '\\n' : c === '\t' ? '\\t' : escapeControls(c);
    if (shown + e.length > max) return `${out}…`;
    out += e;
    shown += e.length;
  }
  return out;
}

/** Whether text read as UTF-8 is text at all: no NUL byte and no invalid sequence (U+FFFD). */
export function looksLikeText(text: string): boolean {
  return !text.includes('\u0000') && !text.includes('\ufffd');
}

/** Edit distance (insertions, deletions, substitutions, adjacent swaps) between two short words. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The known names closest to a mistyped one (for "did you mean …?"): those within an edit
 * distance of a third of the word's length (at least 1), nearest first; none when nothing is close.
 */
export function closestNames(word: string, known: readonly string[]): string[] {
  const limit = Math.max(1, Math.floor(word.length / 3));
  const w = word.toLowerCase();
  return known
    // the distance is at least the difference in length: most of a 60,000-name archive is skipped unmeasured
    .filter((k) => Math.abs(k.length - w.length) <= limit)
    .map((k) => ({ k, d: editDistance(w, k.toLowerCase()) }))
    .filter((x) => x.d <= limit)
    .sort((x, y) => x.d - y.d || x.k.localeCompare(y.k))
    .map((x) => x.k);
}

/**
 * `; did you mean 'nginx' or 'nginx-full'?` for a name no list has (the closest known names, at
 * most `max`, each one `accept` takes), or '' when nothing is close. Every "no such name" message
 * words it this way.
 */
export function didYouMean(word: string, known: readonly string[], max = 3, accept: (name: string) => boolean = () => true): string {
  const close = [...new Set(closestNames(word, known))].filter(accept).slice(0, max);
  return close.length === 0 ? '' : `; did you mean ${close.map((c) => `'${c}'`).join(' or ')}?`;
}
