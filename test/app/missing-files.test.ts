/**
 * A file that is not there is named with what it was expected to be, in the words the YAML
 * readers use (`cannot read WHAT PATH: ...`): solve's index, status file and root, the archive of
 * check-installable, cudf's document.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess as cli } from './cli-in-process.js';

let dir: string;
beforeAll(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'rw-missing-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a missing file is named with what it was expected to be', () => {
  it('solve --index, --status, --root; kb check-installable; cudf', async () => {
    const gone = path.join(dir, 'gone');
    const cases: Array<[string[], RegExp]> = [
      [['solve', '--index', `${gone}.Packages`, '--install', 'jq'], /RW_IO: cannot read the Debian Packages index .*gone\.Packages: no such file \(hint: check the path; --index takes a Packages file/],
      [['solve', '--no-index', '--kb', dir, '--status', gone, '--install', 'jq'], /RW_IO: cannot read the dpkg status file .*gone: no such file \(hint: check the path; --status takes a dpkg status file\)/],
      [['solve', '--no-index', '--kb', dir, '--root', gone, '--install', 'jq'], /RW_IO: cannot read the dpkg status file .*gone\/var\/lib\/dpkg\/status: no such file \(hint: --root takes a directory root holding a dpkg database/],
      [['kb', 'check-installable', `${gone}.Packages`], /RW_IO: cannot read the Debian Packages index .*gone\.Packages: no such file/],
      [['cudf', `${gone}.cudf`], /RW_IO: cannot read the CUDF document .*gone\.cudf: no such file/],
    ];
    for (const [args, expected] of cases) {
      const r = await cli(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(expected);
    }
  });
});
