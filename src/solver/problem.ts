/** The solver's problem and package-change shapes, shared by solve.ts and repair.ts (which must not import each other). */
import type { PackageSet } from './universe-view.js';

export type ChangeAction = 'install' | 'upgrade' | 'downgrade' | 'remove' | 'purge';

/**
 * One package change: what a solve's transaction lists, what a plan stores and what a host's
 * `packages` step applies. The solver produces install, upgrade, downgrade and remove, always
 * with `architecture`; `purge` (remove with the configuration files) and `debPath` come from
 * rollback and restore planning, which decide from snapshots rather than solves.
 */
export interface PackageChange {
  action: ChangeAction;
  name: string;
  /** dpkg architecture (`name:arch`); always set by the solver. */
  architecture?: string;
  /** Installed version before (upgrade, downgrade, remove). */
  from?: string;
  /** Exact version after: required for install, upgrade and downgrade. */
  to?: string;
  /**
   * Install from this .deb file (e.g. from the .deb cache) instead of the repository, so a
   * downgrade does not depend on the repository still holding the version.
   */
  debPath?: string;
}

/** A package set with the installed state marked. */
export interface Problem {
  set: PackageSet;
  /** installed[pv] = 1 when that version is installed now. */
  installed: Uint8Array;
}

export interface SolveModeOptions {
  /** 'debian' (default): one version per name, Essential kept, operator-friendly defaults. 'cudf': CUDF 2.0 semantics. */
  mode?: 'debian' | 'cudf';
  /** Skip explanation and resolutions when there is no solution (used by resolutions themselves). */
  skipExplanation?: boolean;
}

