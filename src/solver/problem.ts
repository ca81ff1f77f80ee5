/** The solver's problem and transaction shapes, shared by solve.ts and repair.ts (which must not import each other). */
import type { PackageSet } from './universe-view.js';

export type TransactionAction = 'install' | 'upgrade' | 'downgrade' | 'remove';

export interface TransactionStep {
  action: TransactionAction;
  name: string;
  architecture: string;
  /** Installed version before (upgrade, downgrade, remove). */
  from?: string;
  /** Version after (install, upgrade, downgrade). */
  to?: string;
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

