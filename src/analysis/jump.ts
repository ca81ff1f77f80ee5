/**
 * The size of a version jump, one simple rule per scheme.
 *
 * Debian (`[epoch:]upstream[-revision]`):
 * 1. Strip a Debian stable-update suffix (`+debNuM` or `~debNuM`, optionally followed by a
 *    binNMU `+bK`) from the end of the upstream part and of the revision of both versions.
 * 2. If the stripped versions are equal, only the suffix changed: `security`.
 * 3. Otherwise the first part that differs decides: the epoch (`epoch`); the upstream's first
 *    component (`major`) or second (`minor`), components being the runs of letters and digits;
 *    the rest of upstream (`patch`); the revision only (`revision`).
 * 4. A `patch` or `revision` jump to a version carrying the suffix is a stable update: `security`.
 * Semantic versions: major, minor, patch as written; a pre-release or build change only is
 * `revision`. CUDF versions are plain integers: `minor`. A version that does not parse: `major`
 * (the model cannot tell, so it does not play it down).
 */
import { checkSemver, tryParseDebianVersion, type SchemeName } from '../versions/index.js';
import type { VersionJump } from './model.js';

const STABLE_UPDATE = /[+~]deb\d+u\d+(?:\+b\d+)?$/;

/** How far `from` → `to` moves (either direction: a downgrade's jump is the same size). */
export function classifyJump(scheme: SchemeName, from: string, to: string): VersionJump {
  if (scheme === 'semver') return semverJump(from, to);
  if (scheme === 'cudf') return 'minor';
  return debianJump(from, to);
}

function debianJump(from: string, to: string): VersionJump {
  const a = tryParseDebianVersion(from);
  const b = tryParseDebianVersion(to);
  if (!a || !b) return 'major';
  const strip = (s: string) => s.replace(STABLE_UPDATE, '');
  const ua = strip(a.upstream);
  const ub = strip(b.upstream);
  const ra = strip(a.revision);
  const rb = strip(b.revision);
  const stableUpdate = STABLE_UPDATE.test(b.upstream) || STABLE_UPDATE.test(b.revision);
  if (a.epoch !== b.epoch) return 'epoch';
  let jump: VersionJump;
  if (ua !== ub) {
    const ca = components(ua);
    const cb = components(ub);
    jump = ca[0] !== cb[0] ? 'major' : ca[1] !== cb[1] ? 'minor' : 'patch';
  } else if (ra !== rb) {
    jump = 'revision';
  } else {
    return 'security';
  }
  return stableUpdate && (jump === 'patch' || jump === 'revision') ? 'security' : jump;
}

function components(upstream: string): string[] {
  return upstream.split(/[^A-Za-z0-9]+/).filter((c) => c !== '');
}

function semverJump(from: string, to: string): VersionJump {
  const a = checkSemver(from);
  const b = checkSemver(to);
  if (!a.ok || !b.ok) return 'major';
  if (a.version.major !== b.version.major) return 'major';
  if (a.version.minor !== b.version.minor) return 'minor';
  if (a.version.patch !== b.version.patch) return 'patch';
  return 'revision';
}
