// Records the machine's own dpkg database (and dpkg's log) so a test can prove it was not touched.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs';

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

export interface MachineStateRecord extends MachineDpkgRecord {
  /** `dpkg-query -W` of the machine itself: every package and version. */
  installed: string;
  /** Each marker path: absent, a link and its target, or a file's digest and mtime (not followed). */
  markers: Record<string, string>;
}

/** The machine's dpkg state and a few marker files a maintainer script run on the machine would change. */
export function recordMachineState(markers: readonly string[]): MachineStateRecord {
  const q = spawnSync('dpkg-query', ['-W', '-f=${Package}:${Architecture} ${Version} ${db:Status-Abbrev}\n'], { encoding: 'utf8' });
  const seen: Record<string, string> = {};
  for (const m of markers) {
    const st = lstatSync(m, { throwIfNoEntry: false });
    if (!st) seen[m] = 'absent';
    else if (st.isSymbolicLink()) seen[m] = `link -> ${readlinkSync(m)} ${st.mtimeMs}`;
    else if (st.isFile()) seen[m] = `file ${createHash('sha256').update(readFileSync(m)).digest('hex')} ${st.mtimeMs}`;
    else seen[m] = `other ${st.mode} ${st.mtimeMs}`;
  }
  return { ...recordMachineDpkg(), installed: q.stdout, markers: seen };
}
