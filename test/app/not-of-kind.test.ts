/**
 * A YAML mapping that is not the kind of file asked for (an /etc/shadow-like file read as YAML)
 * is refused as such, and none of its keys or values is quoted: inventories, request files,
 * resolutions files (the knowledge base's case is in test/kb/validate.test.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadResolutionsFile } from '../../src/app/index.js';
import { loadRequestFile } from '../../src/planner/index.js';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rw-not-of-kind-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const secret = 'y$j9T$Xq2fakeSALT$VerySecretHash';
const file = path.join(dir, 'shadow.yaml');
writeFileSync(file, `root: $${secret}\ndaemon: x\n`);

describe('files of another kind', () => {
  it('an inventory: not an inventory, nothing quoted, exit 2', () => {
    const r = runCli(['fleet', 'show', '--inventory', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/RW_INVENTORY: .*shadow\.yaml:1:1: not an inventory: none of its keys is one an inventory has \(its content is not shown\)/);
    expect(r.stderr).not.toMatch(/root|Secret/);
  });

  it('a request file and a resolutions file', () => {
    expect(() => loadRequestFile(file)).toThrow(/^not a request file: it has none of install:, remove:, upgrade:, upgrade-all:, hold:, pin: \(its content is not shown\)$/);
    expect(() => loadResolutionsFile(file)).toThrow(/^not a resolutions file: none of its keys is a conflict id such as c1 \(its content is not shown\)$/);
    // a value that is not a resolution id is not quoted either
    const bad = path.join(dir, 'choices.yaml');
    writeFileSync(bad, `c1: ${secret}\n`);
    expect(() => loadResolutionsFile(bad)).toThrow(/^the resolution for c1 is not an id such as r1$/);
  });
});
