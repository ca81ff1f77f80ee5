/**
 * The one YAML-with-positions reader, shared by the knowledge base, inventories, request files
 * and resolution files: parse with a line counter (duplicate keys are errors), and map a path
 * inside the document (as zod reports it: keys and indexes) back to file:line:column, using the
 * `yaml` library's node ranges.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, Scalar, isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import { RollwiseError, type ErrorCode, type SourcePosition } from './errors.js';

/** A path inside a YAML document: map keys and sequence indexes. */
export type YamlPath = ReadonlyArray<string | number>;

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
export function locatePath(src: SourceDoc, path: YamlPath, options: { key?: boolean; offset?: number } = {}): SourcePosition {
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

/** A YAML syntax problem of a parsed document, positioned. */
export interface YamlSyntaxProblem {
  position: SourcePosition;
  message: string;
  /** The `yaml` library's code (BAD_INDENT, DUPLICATE_KEY, ...). */
  code: string;
  offset: number;
}

export function syntaxProblems(src: SourceDoc): YamlSyntaxProblem[] {
  return src.doc.errors.map((e) => ({ position: positionAt(src, e.pos[0]), message: e.message.split('\n')[0] ?? e.message, code: e.code, offset: e.pos[0] }));
}

/** Reads and parses a YAML file; an unreadable file is `code` (RW_IO by default) naming the file. */
export function readYamlFile(file: string, what: string, code: ErrorCode = 'RW_IO'): SourceDoc {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new RollwiseError(code, `cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { hint: 'check the path and its permissions' });
  }
  return parseSource(file, text);
}

/** The position of the node at `path` (or the nearest existing ancestor), for zod issues. */
export function positionOfPath(src: SourceDoc, path: ReadonlyArray<PropertyKey>, options: { key?: string } = {}): SourcePosition {
  const parts = path.map((p) => (typeof p === 'symbol' ? String(p) : p)) as Array<string | number>;
  if (options.key !== undefined) {
    const node = src.doc.getIn(parts, true);
    if (isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === options.key);
      if (pair && isScalar(pair.key) && pair.key.range) return positionAt(src, pair.key.range[0]);
    }
  }
  return locatePath(src, parts);
}

/**
 * The document's data, or a positioned problem when building it would exhaust memory (a YAML
 * alias bomb: `yaml` refuses more aliases than its limit and throws) — never an uncaught error.
 */
export function documentData(src: SourceDoc): { ok: true; data: unknown } | { ok: false; problem: YamlSyntaxProblem } {
  try {
    return { ok: true, data: src.doc.toJS({ maxAliasCount: 100 }) };
  } catch (e) {
    if (!(e instanceof ReferenceError || e instanceof RangeError)) throw e;
    const alias = /(^|[\s[{,:-])\*[^\s,\]}]/m.exec(src.text);
    const offset = alias ? alias.index + alias[1]!.length : 0;
    return {
      ok: false,
      problem: { position: positionAt(src, offset), message: 'YAML aliases expand too much (more than 100 alias uses): refused as a resource-exhaustion attack', code: 'ALIAS_COUNT', offset },
    };
  }
}
