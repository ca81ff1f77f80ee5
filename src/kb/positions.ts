/**
 * Maps a path inside a parsed YAML document (as zod reports it: keys and indexes) back to
 * file:line:column, using the `yaml` library's node ranges and a LineCounter.
 */
import { LineCounter, Scalar, isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import type { SourcePosition } from '../shared/errors.js';

export type KbPath = ReadonlyArray<string | number>;

export interface SourceDoc {
  file: string;
  text: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
}

export function parseSource(file: string, text: string): SourceDoc {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, keepSourceTokens: false });
  return { file, text, doc, lineCounter };
}

export function positionAt(src: SourceDoc, offset: number): SourcePosition {
  const p = src.lineCounter.linePos(Math.max(0, Math.min(offset, src.text.length)));
  return { file: src.file, line: p.line, column: p.col };
}

/**
 * The position of the value at `path` (or of its key, with `key: true`). When the path goes
 * further than the document (a missing key), the deepest existing node is used. `offset` points
 * inside a single-line scalar string (plain, or quoted without escapes).
 */
export function locatePath(src: SourceDoc, path: KbPath, options: { key?: boolean; offset?: number } = {}): SourcePosition {
  let node: unknown = src.doc.contents;
  let at: number = (node as Node | null)?.range?.[0] ?? 0;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return positionAt(src, at);
      const keyNode = pair.key as Node;
      if (last && options.key) return positionAt(src, keyNode.range?.[0] ?? at);
      const value = pair.value as Node | null;
      if (!value || !value.range) return positionAt(src, keyNode.range?.[0] ?? at);
      node = value;
      at = value.range[0];
    } else if (isSeq(node)) {
      const item = typeof seg === 'number' ? (node.items[seg] as Node | undefined) : undefined;
      if (!item || !item.range) return positionAt(src, at);
      node = item;
      at = item.range[0];
    } else {
      return positionAt(src, at);
    }
  }
  if (options.offset !== undefined && isScalar(node)) {
    const inner = scalarContentStart(src, node);
    if (inner !== undefined) return positionAt(src, inner + options.offset);
  }
  return positionAt(src, at);
}

/** Where the characters of a single-line scalar's value start, if they appear verbatim in the source. */
function scalarContentStart(src: SourceDoc, node: Scalar): number | undefined {
  const range = node.range;
  if (!range || typeof node.value !== 'string') return undefined;
  const value = node.value;
  const raw = src.text.slice(range[0], range[1]);
  if (node.type === Scalar.PLAIN && raw === value) return range[0];
  if ((node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE) && raw.slice(1, -1) === value) return range[0] + 1;
  return undefined;
}
