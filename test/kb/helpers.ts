import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { repoRoot } from '../helpers/cli.js';

export const DEBIAN_INDEX = path.resolve(repoRoot, '..', 'shared', 'data', 'debian', 'bookworm-main-amd64.Packages.xz');
export const EXAMPLE_KB = path.join(repoRoot, 'examples', 'kb');
export const FIXTURES = path.join(repoRoot, 'test', 'kb', 'fixtures');

/** Fails (never skips) when the shared Debian index is absent. */
export function requireDebianIndex(): string {
  if (!existsSync(DEBIAN_INDEX)) throw new Error(`the Debian index ${DEBIAN_INDEX} is missing: it ships in ../shared/data/debian/ beside the repository`);
  return DEBIAN_INDEX;
}

export const HEADER = (name = 'org', precedence = 50, extra = ''): string =>
  `apiVersion: rollwise/v1\nkind: KnowledgeBase\nlayer:\n  name: ${name}\n  precedence: ${precedence}\n${extra}`;

/** A temporary directory with the given files; call the returned cleanup in afterEach/finally. */
export function createTempKb(files: Record<string, string>): { dir: string; file(name: string): string; cleanup(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'rollwise-kb-'));
  for (const [name, text] of Object.entries(files)) {
    const full = path.join(dir, name);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, text);
  }
  return { dir, file: (name) => path.join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
