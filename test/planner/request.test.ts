/**
 * A request file with a mistake: one RW_REQUEST error, positioned, in the words every YAML reader
 * uses (the field's YAML path, what is expected, what was found), never zod's.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRollwiseError } from '../../src/shared/index.js';
import { loadRequestFile } from '../../src/planner/index.js';

const ZOD_WORDING = /expected \w+, received|Invalid input|Invalid option|Invalid string|Unrecognized key|Too (big|small)|\bRequired\b|must match pattern|received undefined/i;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'rw-request-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The error a request file with `text` gives, as `line:column message (hint: …)`. */
function errorOf(text: string): string {
  const file = path.join(dir, 'request.yaml');
  writeFileSync(file, text);
  try {
    loadRequestFile(file);
  } catch (e) {
    if (!isRollwiseError(e)) throw e;
    expect(e.code).toBe('RW_REQUEST');
    expect(`${e.message} ${e.hint ?? ''}`).not.toMatch(ZOD_WORDING);
    return `${e.position?.line}:${e.position?.column} ${e.message} (hint: ${e.hint})`;
  }
  throw new Error('expected an error');
}

describe('a request file with a schema mistake', () => {
  it('a number where the list of specs goes', () => {
    expect(errorOf('install: 42\n')).toBe('1:10 install: expected a list of package specs, got 42 (hint: a request file has install:, remove:, upgrade:, hold: and pin: lists of specs, and upgrade-all: true)');
  });

  it('a misspelt field: pointed at the key, with did-you-mean', () => {
    expect(errorOf('instal: [x]\n')).toBe("1:1 top level: unknown field 'instal' (did you mean 'install'?) (hint: fields allowed here: install, remove, upgrade, upgrade-all, hold, pin)");
  });

  it('a spec YAML reads as a number: expected a spec, and the hint to quote it', () => {
    expect(errorOf('install:\n  - nginx\n  - 1.22\n')).toBe(
      "3:5 install[1]: expected a package spec such as 'nginx' or 'nginx (>= 1.22)', got the number 1.22 (hint: put it in quotes: unquoted, YAML reads it as a number (2.10 as 2.1, 0640 as 640))",
    );
  });

  it('not a mapping at all', () => {
    expect(errorOf('- nginx\n')).toBe('1:1 top level: expected a mapping (install, remove, upgrade, upgrade-all, hold, pin), got a list (hint: a request file has install:, remove:, upgrade:, hold: and pin: lists of specs, and upgrade-all: true)');
  });
});
