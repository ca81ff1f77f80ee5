/** The fleet model: hosts with facts, labels and an installed set, plus findings about collection. */
import type { HostFacts, Labels } from './facts.js';
import type { InstalledPackage } from './installed.js';
import type { HostAptConfig } from './apt-config.js';

export type HostSource = 'inventory' | 'local' | 'ssh';

export interface SshTarget {
  /** Host name or address to connect to. */
  host: string;
  port?: number;
  user?: string;
}

export interface FleetHost {
  name: string;
  source: HostSource;
  /** Inventory groups the host belongs to (for selection and display). */
  groups: string[];
  labels: Labels;
  facts: HostFacts;
  installed: InstalledPackage[];
  /** Where the installed set came from (status file path, `dpkg-query over ssh`, ...). */
  installedFrom: string;
  ssh?: SshTarget;
  /** The directory root the host lives in (with `ssh`: on the remote machine), for deployment. */
  root?: string;
  /** Its apt sources, preferences and architectures, when known (else it sees every repository). */
  apt?: HostAptConfig;
}

export type FleetFindingKind = 'unreachable' | 'collection-failed' | 'partial-facts';

/** Something about collecting the fleet an operator should see; never fatal to the whole run. */
export interface FleetFinding {
  kind: FleetFindingKind;
  host: string;
  message: string;
}

export interface Fleet {
  hosts: FleetHost[];
  findings: FleetFinding[];
}

/** Host names: DNS-like labels (letters, digits, `-`, `_`, `.`), not starting with `-`. */
export const HOST_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}$/;
/**
 * SSH destinations: a host name, an IPv4 address or a bracket-free IPv6 address. The one pattern
 * for inventories, `--ssh-host` and the ssh argument builder of src/hosts: never starts with `-`
 * (ssh would read an option), no `%` (ssh tokens), `@`, `/`, whitespace or shell characters.
 */
export const SSH_HOST_PATTERN = /^(?:[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}|[0-9A-Fa-f:]+:[0-9A-Fa-f:.]*)$/;
/** SSH user names (POSIX portable names plus upper case, as directory services use), at most 32 characters. */
export const SSH_USER_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
