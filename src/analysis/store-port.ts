/**
 * The persistence port the impact prediction reads: the history of earlier deployments per
 * package and kind of change. Implemented in src/store (SQLite, PostgreSQL, in memory); imported
 * from a file (`rollwise history import`) until deployments record their outcomes themselves.
 */
import type { DeploymentHistoryEntry } from './history.js';

export interface HistoryStore {
  /**
   * Adds entries (all of them or none); an entry already there (same package, change, outcome,
   * time and host) is not added twice, so importing a file again changes nothing.
   */
  addHistory(entries: readonly DeploymentHistoryEntry[], source: string): Promise<{ added: number; already: number }>;
  /** Entries of these packages (all when not given), oldest first; none in stores older than history. */
  getHistory(packages?: readonly string[]): Promise<DeploymentHistoryEntry[]>;
}
