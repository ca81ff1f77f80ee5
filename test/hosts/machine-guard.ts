// Records the machine's own dpkg database (and dpkg's log) so a test can prove it was not touched.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';

const WATCHED = ['/var/lib/dpkg/status', '/var/log/dpkg.log', '/var/lib/dpkg/available'];

export interface MachineDpkgRecord {
  digests: Record<string, string>;
}

export function recordMachineDpkg(): MachineDpkgRecord {
  const digests: Record<string, string> = {};
  for (const f of WATCHED) {
    digests[f] = existsSync(f) ? `${createHash('sha256').update(readFileSync(f)).digest('hex')} ${statSync(f).mtimeMs}` : 'absent';
  }
  return { digests };
}
