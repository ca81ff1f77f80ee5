import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KbDocumentSchema, renderKbJsonSchema } from '../../src/kb/index.js';
import { repoRoot } from '../helpers/cli.js';

describe('the generated JSON Schema', () => {
  it('schema/rollwise-kb.schema.json is up to date (run `npm run schema` after changing src/kb/schema.ts)', () => {
    const committed = readFileSync(path.join(repoRoot, 'schema', 'rollwise-kb.schema.json'), 'utf8');
    expect(committed).toBe(renderKbJsonSchema());
  });

  it('forbids unknown keys everywhere, like the validator', () => {
    const schema = JSON.parse(renderKbJsonSchema()) as Record<string, unknown>;
    const objects: Array<Record<string, unknown>> = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        const o = node as Record<string, unknown>;
        if (o.type === 'object' && o.properties) objects.push(o);
        Object.values(o).forEach(walk);
      }
    };
    walk(schema);
    expect(objects.length).toBeGreaterThan(15);
    expect(objects.filter((o) => o.additionalProperties !== false)).toEqual([]);
  });

  it('the zod schema rejects what the JSON Schema describes as invalid (a typo in a service)', () => {
    const r = KbDocumentSchema.safeParse({ apiVersion: 'rollwise/v1', kind: 'KnowledgeBase', layer: { name: 'x', precedence: 1 }, services: [{ name: 'web', critcality: 'high' }] });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.code).sort()).toEqual(['invalid_value', 'unrecognized_keys']);
  });
});
