/**
 * A distribution index (Debian `Packages`, plain/.gz/.xz) as a knowledge-base layer, through the
 * importer in importers/. Read errors become problems, not exceptions.
 */
import { isRollwiseError } from '../shared/index.js';
import type { PackageRecord } from './model.js';
import type { LayerNames } from './types.js';
import { loadDebianIndex } from './importers/index.js';
import { createProblem, type KbProblem } from './problems.js';

/** `lazyRecords`/`names`: records built on first use, and a name lookup (an index read through the universe). */
export type IndexLoad = { ok: true; records: PackageRecord[] } | { ok: true; lazyRecords: () => PackageRecord[]; names: LayerNames } | { ok: false; problem: KbProblem };

export async function loadIndexRecords(file: string, layer?: string): Promise<IndexLoad> {
  try {
    const { records } = await loadDebianIndex(file, layer === undefined ? {} : { layer });
    return { ok: true, records };
  } catch (e) {
    if (!isRollwiseError(e)) throw e;
    const where = e.position ?? { file };
    return { ok: false, problem: createProblem('RW_KB_INDEX', where, `${e.code}: ${e.message}`, e.hint ?? 'give a Debian Packages index (plain, .gz or .xz)') };
  }
}
