/**
 * Turns zod issues into positioned knowledge-base problems: the words are the shared schema
 * wording (src/shared/schema-words.ts: YAML path, what is expected, what was found); this file
 * adds the RW_KB_* code of each kind of mistake, the position, and the knowledge base's hints
 * (a field's description from the schema, or where the format is documented).
 */
import type { z } from 'zod';
import { locatePath, wordIssues, type SourceDoc, type WordedIssueKind } from '../shared/index.js';
import { createProblem, type KbProblem, type KbProblemCode } from './problems.js';

const CODES: Record<WordedIssueKind, KbProblemCode> = {
  'unknown-field': 'RW_KB_UNKNOWN_KEY',
  'bad-key': 'RW_KB_INVALID_VALUE',
  missing: 'RW_KB_MISSING_KEY',
  type: 'RW_KB_TYPE',
  value: 'RW_KB_INVALID_VALUE',
};

/** Where a problem of the knowledge base's format is explained, when the schema says nothing more. */
const DOCS_HINT = 'see docs/knowledge-base.md for this field';

/** Map zod issues to positioned problems (one per issue; unknown keys: one per key). */
export function problemsFromZodIssues(src: SourceDoc, root: z.ZodType, data: unknown, issues: readonly z.core.$ZodIssue[]): KbProblem[] {
  // the knowledge base's descriptions document each field ("higher wins when …"): they are hints
  return wordIssues(issues, { schema: root, data, descriptions: 'notes' }).map((w) => {
    const position = w.key === undefined ? locatePath(src, w.path) : locatePath(src, [...w.path, w.key], { key: true });
    return createProblem(CODES[w.kind], position, w.message, w.hint ?? DOCS_HINT);
  });
}
