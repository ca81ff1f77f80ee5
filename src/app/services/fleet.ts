/**
 * Reading the fleet for a use case: inventories, the local host and SSH targets into one fleet,
 * and the dpkg status records of hosts read from files (their relations refine the universe's
 * fill layer for installed versions no layer has).
 */
import { readFileSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseDebianPackages, type PackageRecord } from '../../kb/index.js';
import { fileStamp } from '../../shared/index.js';
import { collectFleet, type Fleet, type FleetHost, type HostCollector, type InventoryLoadResult } from '../../fleet/index.js';
import { createHostCollector } from '../../hosts/index.js';

export interface FleetInputs {
  inventory: readonly string[];
  local: boolean;
  sshHost: readonly string[];
  knownHosts?: string;
  sshIdentity?: string;
  /** The operator's ssh config file (command line only: it may run commands such as ProxyCommand). */
  sshConfig?: string;
  /** Accept inventory `status:` files outside the inventory's folder (the operator's --allow-outside-paths). */
  allowOutsidePaths?: boolean;
}

/**
 * Collects every source (see collectFleet); progress as one line of text. The local host and SSH
 * hosts are read by the hosts layer's collector (`collector` replaces it, e.g. in tests).
 */
export function readFleet(o: FleetInputs, onProgress?: (text: string) => void, collector: HostCollector = createHostCollector(), loaded?: ReadonlyMap<string, InventoryLoadResult>): Promise<Fleet> {
  return collectFleet({
    inventories: [...o.inventory], local: o.local, sshHosts: [...o.sshHost], allowOutsidePaths: o.allowOutsidePaths === true, ...(loaded ? { loaded } : {}),
    ssh: {
      ...(o.knownHosts ? { knownHosts: path.resolve(o.knownHosts) } : {}),
      ...(o.sshIdentity ? { identity: path.resolve(o.sshIdentity) } : {}),
      ...(o.sshConfig ? { configFile: path.resolve(o.sshConfig) } : {}),
    },
    onProgress: (e) => onProgress?.(e.phase === 'ssh' ? `collecting hosts over SSH ${e.done}/${e.total}` : `inventory: ${e.done} hosts`),
  }, collector);
}

/** Records (with relations) of installed versions, read from the hosts' dpkg status files. */
export function readStatusRecords(hosts: readonly FleetHost[]): PackageRecord[] {
  const files = new Set(hosts.map((h) => h.installedFrom).filter((f) => f.startsWith('/') && existsSync(f)));
  const out: PackageRecord[] = [];
  for (const f of files) {
    try {
      // a use case asks more than once (before and after loading the knowledge base): parse a file once while it is unchanged
      const st = statSync(f);
      const stamp = fileStamp(st);
      let seen = statusRecordMemo.get(f);
      if (seen?.stamp !== stamp) {
        seen = { stamp, records: parseDebianPackages(readFileSync(f), f, { layer: `installed:${path.basename(f)}`, trust: 'observed' }).records };
        statusRecordMemo.set(f, seen);
      }
      out.push(...seen.records);
    } catch (_e) {
      /* the fleet loader already reported unreadable status files; relations are a refinement */
    }
  }
  return out;
}

const statusRecordMemo = new Map<string, { stamp: string; records: readonly PackageRecord[] }>();
