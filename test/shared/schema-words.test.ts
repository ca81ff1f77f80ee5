/**
 * The one wording of zod issues for every YAML reader: the YAML path, what is expected (a
 * description, a regex's message, or read off the type), what was found; never zod's words.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { wordIssues, yamlPathText, type WordingContext } from '../../src/shared/index.js';

const ZOD_WORDING = /expected \w+, received|Invalid input|Invalid option|Invalid string|Unrecognized key|Too (big|small)|\bRequired\b|must match pattern|received undefined/i;

function worded(schema: z.ZodType, data: unknown, options: Partial<WordingContext> = {}): string[] {
  const r = schema.safeParse(data);
  if (r.success) throw new Error('expected issues');
  return wordIssues(r.error.issues, { schema, data, ...options }).map((w) => {
    expect(`${w.message} ${w.hint ?? ''}`).not.toMatch(ZOD_WORDING);
    return `${w.kind} ${w.message}${w.hint ? ` (hint: ${w.hint})` : ''}`;
  });
}

const Service = z.strictObject({
  name: z.string().regex(/^[a-z]+$/).describe('the service name'),
  level: z.enum(['high', 'low']).describe('how much it matters'),
  port: z.number().int().min(1).max(65535).optional(),
  hosts: z.array(z.string()).min(1).optional(),
});

describe('wordIssues', () => {
  it('paths as YAML writes them', () => {
    expect([yamlPathText([]), yamlPathText(['hosts', 2, 'ssh', 'port']), yamlPathText(['labels', 'a b'])]).toEqual(['top level', 'hosts[2].ssh.port', 'labels."a b"']);
  });

  it('descriptions as what is expected (the default)', () => {
    expect(worded(Service, { name: 'Web', level: 'hgh', port: 70000, hosts: [], lvel: 1 })).toEqual([
      'value name: expected the service name, got "Web"',
      "value level: expected how much it matters, got \"hgh\" (hint: did you mean 'high'?)",
      'value port: expected a whole number 1–65535, got 70000',
      'value hosts: expected a non-empty list, got an empty list',
      "unknown-field top level: unknown field 'lvel' (did you mean 'level'?) (hint: fields allowed here: name, level, port, hosts)",
    ]);
  });

  it('descriptions as notes: what is expected read off the type, the description in the hint', () => {
    expect(worded(Service, { name: 'Web', level: 'hgh', port: 'x' }, { descriptions: 'notes' })).toEqual([
      'value name: "Web" is not in the accepted form (hint: the service name)',
      "value level: expected one of 'high', 'low', got \"hgh\" (hint: did you mean 'high'? how much it matters)",
      'type port: expected a whole number 1–65535, got "x"',
    ]);
    expect(worded(Service, { name: 'web' }, { descriptions: 'notes', prefix: ['services', 0] })).toEqual([
      "missing services[0].level: missing (hint: add 'level:' with one of 'high', 'low'; how much it matters)",
    ]);
  });

  it('a number or boolean where text goes: the hint says to quote it', () => {
    expect(worded(z.strictObject({ version: z.string() }), { version: 2.1 })).toEqual([
      'type version: expected text, got the number 2.1 (hint: put it in quotes: unquoted, YAML reads it as a number (2.10 as 2.1, 0640 as 640))',
    ]);
  });
});
