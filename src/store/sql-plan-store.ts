/**
 * The PlanStore over any kysely database (SQLite by default, PostgreSQL with the same code).
 * Each plan version is written in one transaction: a process killed mid-write leaves no trace of it.
 */
import { Migrator, type Kysely, type MigrationProvider } from 'kysely';
import { RollwiseError } from '../shared/errors.js';
import {
  formatRequest, PLAN_STATUSES,
  type AppliedChoice, type Plan, type PlanConflict, type PlanGroup, type PlanListEntry, type PlanResolutionEdit, type PlanStatus, type PlanStore,
} from '../planner/index.js';
import { MIGRATIONS, type StoreDatabase } from './schema.js';

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/** Brings the schema to the newest version; throws RW_STORE naming the failed migration. */
export async function migrateToLatest(db: Kysely<StoreDatabase>): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    throw new RollwiseError('RW_STORE', `store migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

const GROUP_BATCH = 200;

type StoredChoice = AppliedChoice & { description?: string };
type StoredConflict = Omit<PlanConflict, 'explanation' | 'resolutions'> & {
  explanation: PlanConflict['explanation'] | string[];
  resolutions: Array<Omit<PlanConflict['resolutions'][number], 'edit'> & { edit?: PlanResolutionEdit | unknown; description?: string }>;
};

/**
 * Plans stored before explanations and resolutions were data (explanation lines, resolution
 * descriptions) are read back in today's shape: each line a `text` fact, each description a
 * `described` edit. Nothing is rewritten in the store.
 */
function choiceOf(c: StoredChoice): AppliedChoice {
  if (c.edit) return c;
  const { description, ...rest } = c;
  return { ...rest, edit: { kind: 'described', description: description ?? '' } };
}

function conflictOf(c: StoredConflict): PlanConflict {
  const explanation = Array.isArray(c.explanation)
    ? { facts: c.explanation.map((text, i) => ({ kind: 'text' as const, key: `text:${i}:${text}`, text })), minimal: true }
    : c.explanation;
  const resolutions = c.resolutions.map(({ description, edit, ...r }) => ({
    ...r,
    edit: edit && typeof edit === 'object' && 'kind' in edit ? (edit as PlanResolutionEdit) : { kind: 'described' as const, description: description ?? '' },
  }));
  return { ...c, explanation, resolutions };
}

export function createSqlPlanStore(db: Kysely<StoreDatabase>, onClose: () => Promise<void> = async () => db.destroy()): PlanStore {
  return {
    async savePlan(plan, options = {}) {
      await db.transaction().execute(async (trx) => {
        const existing = await trx.selectFrom('plans').select(['latest_version']).where('id', '=', plan.id).executeTakeFirst();
        if (existing) {
          if (plan.version <= existing.latest_version) throw new RollwiseError('RW_STORE', `plan ${plan.id} already has version ${existing.latest_version}`);
          await trx.updateTable('plans').set({ latest_version: plan.version }).where('id', '=', plan.id).execute();
        } else {
          await trx.insertInto('plans').values({ id: plan.id, created_at: plan.createdAt, latest_version: plan.version }).execute();
        }
        await trx.insertInto('plan_versions').values({
          plan_id: plan.id, version: plan.version, status: plan.status, created_at: plan.createdAt,
          request_text: formatRequest(plan.inputs.request),
          origin: JSON.stringify(plan.origin), inputs: JSON.stringify(plan.inputs), summary: JSON.stringify(plan.summary),
          conflicts: JSON.stringify(plan.conflicts), fleet_findings: JSON.stringify(plan.fleetFindings), group_count: plan.groups.length,
        }).execute();
        for (let i = 0; i < plan.groups.length; i += GROUP_BATCH) {
          const rows = plan.groups.slice(i, i + GROUP_BATCH).map((g, j) => ({ plan_id: plan.id, version: plan.version, ordinal: i + j, group_key: g.key, body: JSON.stringify(g) }));
          await trx.insertInto('plan_groups').values(rows).execute();
        }
        if (options.supersede) {
          await trx.updateTable('plan_versions').set({ status: 'superseded' })
            .where('plan_id', '=', options.supersede.id).where('version', '=', options.supersede.version).execute();
        }
      });
    },
    async getPlan(id, version) {
      const v = await db.selectFrom('plan_versions').selectAll().where('plan_id', '=', id)
        .$if(version !== undefined, (q) => q.where('version', '=', version!))
        .orderBy('version', 'desc').limit(1).executeTakeFirst();
      if (!v) return undefined;
      const rows = await db.selectFrom('plan_groups').select(['body']).where('plan_id', '=', id).where('version', '=', v.version).orderBy('ordinal').execute();
      if (rows.length !== v.group_count) throw new RollwiseError('RW_STORE', `plan ${id} v${v.version} is incomplete (${rows.length} of ${v.group_count} groups)`);
      const origin = JSON.parse(v.origin) as Plan['origin'];
      return {
        id, version: v.version, status: v.status as PlanStatus, createdAt: v.created_at,
        origin: origin.kind === 'resolution' ? { ...origin, choices: origin.choices.map(choiceOf) } : origin,
        inputs: JSON.parse(v.inputs) as Plan['inputs'], summary: JSON.parse(v.summary) as Plan['summary'],
        conflicts: (JSON.parse(v.conflicts) as StoredConflict[]).map(conflictOf), fleetFindings: JSON.parse(v.fleet_findings) as Plan['fleetFindings'],
        groups: rows.map((r) => {
          const g = JSON.parse(r.body) as PlanGroup;
          return { ...g, choices: g.choices.map(choiceOf) };
        }),
      };
    },
    async findPlanIds(prefix) {
      const rows = await db.selectFrom('plans').select(['id']).where('id', 'like', `${prefix.replace(/[%_\\]/g, '')}%`).orderBy('id').execute();
      return rows.map((r) => r.id);
    },
    async listPlans() {
      const rows = await db.selectFrom('plan_versions').select(['plan_id', 'version', 'status', 'created_at', 'request_text', 'summary', 'conflicts'])
        .orderBy('created_at').orderBy('plan_id').orderBy('version').execute();
      return rows.map((r): PlanListEntry => {
        const s = JSON.parse(r.summary) as Plan['summary'];
        return { id: r.plan_id, version: r.version, status: r.status as PlanStatus, createdAt: r.created_at, request: r.request_text, hosts: s.hosts, groups: s.groups, conflicts: (JSON.parse(r.conflicts) as unknown[]).length };
      });
    },
    async setStatus(id, version, status) {
      if (!PLAN_STATUSES.includes(status)) throw new RollwiseError('RW_USAGE', `unknown status '${status}'`);
      const r = await db.updateTable('plan_versions').set({ status }).where('plan_id', '=', id).where('version', '=', version).executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) throw new RollwiseError('RW_NOT_FOUND', `no plan ${id} v${version}`);
    },
    close: onClose,
  };
}
