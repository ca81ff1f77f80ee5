/**
 * A host's installed state over a universe: which pv of each name is installed.
 * Build the universe with the host's status as a `fill` layer (addInstalledLayer) so installed
 * versions missing from the archive still get pvs, then map the status with createInstalledState.
 */
import type { InstalledRecord } from '../kb/index.js';
import type { UniverseBuilder } from './builder.js';
import { isInstalledStatus } from '../kb/index.js';
import type { Universe } from './universe.js';

export interface InstalledEntry {
  name: string;
  version: string;
  architecture?: string;
  /** dpkg `want flag status`; entries whose status word is not-installed or config-files are ignored. */
  status?: string;
}

export interface InstalledState {
  readonly host: string;
  /** Installed pvs, ascending. */
  readonly pvs: Int32Array;
  /** The installed pv of a name id, or -1. */
  installedPvOf(nameId: number): number;
  isInstalled(pv: number): boolean;
  /** dpkg status of an installed pv (`install ok installed` when unknown). */
  statusOf(pv: number): string;
  /** Entries that match no pv of the universe (build it with addInstalledLayer to avoid these). */
  readonly unmatched: readonly InstalledEntry[];
}

/** Add a host's installed packages as a `fill` layer: only versions the archive lacks are added. */
export function addInstalledLayer(builder: UniverseBuilder, host: string, installed: readonly InstalledRecord[], source?: string): void {
  builder.addLayer({ name: `installed:${host}`, source: source ?? `installed:${host}`, trust: 'observed', mode: 'fill' });
  for (const r of installed) {
    if (isInstalledStatus(r.status)) builder.addRecord(r.record);
  }
}

export function createInstalledState(u: Universe, entries: readonly InstalledEntry[], host = 'host'): InstalledState {
  const byName = new Int32Array(u.nameCount).fill(-1);
  const installed = new Uint8Array(u.pvCount);
  const status = new Map<number, string>();
  const unmatched: InstalledEntry[] = [];
  for (const e of entries) {
    if (e.status !== undefined && !isInstalledStatus(e.status)) continue;
    const pvAny = u.findInstalledPv(e.name, e.version, e.architecture);
    if (pvAny < 0) { unmatched.push(e); continue; }
    byName[u.pvName[pvAny]!] = pvAny;
    installed[pvAny] = 1;
    if (e.status !== undefined) status.set(pvAny, e.status);
  }
  const pvs: number[] = [];
  for (let pv = 0; pv < u.pvCount; pv++) if (installed[pv]) pvs.push(pv);
  return {
    host,
    pvs: Int32Array.from(pvs),
    installedPvOf: (nameId) => (nameId >= 0 && nameId < byName.length ? byName[nameId]! : -1),
    isInstalled: (pv) => installed[pv] === 1,
    statusOf: (pv) => status.get(pv) ?? 'install ok installed',
    unmatched,
  };
}
