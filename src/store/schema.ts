/** Tables of the store (portable types only: text and integer; JSON is stored as text). */
import { sql, type Kysely, type Migration } from 'kysely';

export interface PlansTable {
  id: string;
  created_at: string;
  latest_version: number;
}

export interface PlanVersionsTable {
  plan_id: string;
  version: number;
  status: string;
  created_at: string;
  request_text: string;
  origin: string;
  inputs: string;
  summary: string;
  conflicts: string;
  fleet_findings: string;
  group_count: number;
  /** Who approved the version and when (0002; null until approved, absent in older stores). */
  approved_by?: string | null;
  approved_at?: string | null;
}

export interface PlanGroupsTable {
  plan_id: string;
  version: number;
  ordinal: number;
  group_key: string;
  body: string;
}

/** Records about a plan version (0003): impact, rehearsals, overrides; body is JSON. */
export interface PlanRecordsTable {
  plan_id: string;
  version: number;
  seq: number;
  kind: string;
  created_at: string;
  body: string;
}

/** Earlier deployments per package (0004): what the impact prediction's history reads. */
export interface DeploymentHistoryTable {
  package: string;
  change: string;
  jump: string | null;
  outcome: string;
  at: string;
  /** '' when the entry names no host. */
  host: string;
  source: string;
}

/** A deployment of a plan version (0005); `last_seq` is the newest journal entry's seq (0: none). */
export interface DeploymentsTable {
  id: string;
  plan_id: string;
  plan_version: number;
  created_at: string;
  created_by: string;
  status: string;
  status_reason: string | null;
  updated_at: string;
  /** JSON. */
  spec: string;
  last_seq: number;
}

/** A deployment's write-ahead journal (0005); body is JSON; host, wave and outcome are optional. */
export interface DeploymentJournalTable {
  deployment: string;
  seq: number;
  kind: string;
  key: string;
  phase: string;
  host: string | null;
  wave: number | null;
  outcome: string | null;
  body: string;
  at: string;
}

/**
 * A deployment's leases (0005), one row per scope once first acquired. `holder` is null when
 * released; `token` only grows; `expires_at` is ISO 8601 UTC with milliseconds (compared as text).
 */
export interface DeploymentLeasesTable {
  deployment: string;
  scope: string;
  holder: string | null;
  token: number;
  expires_at: string;
}

/** The pending operator request of a deployment (0005): at most one row per deployment. */
export interface DeploymentControlsTable {
  deployment: string;
  action: string;
  requested_by: string;
  requested_at: string;
}

export interface StoreDatabase {
  plans: PlansTable;
  plan_versions: PlanVersionsTable;
  plan_groups: PlanGroupsTable;
  plan_records: PlanRecordsTable;
  deployment_history: DeploymentHistoryTable;
  deployments: DeploymentsTable;
  deployment_journal: DeploymentJournalTable;
  deployment_leases: DeploymentLeasesTable;
  deployment_controls: DeploymentControlsTable;
}

/** A migration, and whether today's read-only commands can read a store that lacks it. */
export interface StoreMigration extends Migration {
  /**
   * False for a change today's reads do not depend on (an added index, say): read-only commands
   * then read a store without it as it is. True (the default) when reads need it: read-only
   * commands, which never migrate, ask for a writing command to upgrade the store first.
   */
  readonly requiredForReading?: boolean;
}

/** The tables a Rollwise store has besides kysely's bookkeeping (`kysely_migration`, `kysely_migration_lock`). */
export const STORE_TABLES = ['plans', 'plan_versions', 'plan_groups', 'plan_records', 'deployment_history', 'deployments', 'deployment_journal', 'deployment_leases', 'deployment_controls'] as const;

/** Versioned migrations, applied in name order by kysely's Migrator (SQLite and PostgreSQL alike). */
export const MIGRATIONS: Record<string, StoreMigration> = {
  '0001_plans': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('plans')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('latest_version', 'integer', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('plan_versions')
        .addColumn('plan_id', 'text', (c) => c.notNull().references('plans.id'))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('needs-review', 'ready', 'approved', 'superseded')`))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('request_text', 'text', (c) => c.notNull())
        .addColumn('origin', 'text', (c) => c.notNull())
        .addColumn('inputs', 'text', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('conflicts', 'text', (c) => c.notNull())
        .addColumn('fleet_findings', 'text', (c) => c.notNull())
        .addColumn('group_count', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('plan_versions_pk', ['plan_id', 'version'])
        .execute();
      await db.schema
        .createTable('plan_groups')
        .addColumn('plan_id', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('ordinal', 'integer', (c) => c.notNull())
        .addColumn('group_key', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('plan_groups_pk', ['plan_id', 'version', 'ordinal'])
        .addForeignKeyConstraint('plan_groups_version_fk', ['plan_id', 'version'], 'plan_versions', ['plan_id', 'version'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('plan_groups').execute();
      await db.schema.dropTable('plan_versions').execute();
      await db.schema.dropTable('plans').execute();
    },
  },
  '0002_approval': {
    // reads work without it (an approval is then not known): read-only commands read older stores
    requiredForReading: false,
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('plan_versions').addColumn('approved_by', 'text').execute();
      await db.schema.alterTable('plan_versions').addColumn('approved_at', 'text').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('plan_versions').dropColumn('approved_at').execute();
      await db.schema.alterTable('plan_versions').dropColumn('approved_by').execute();
    },
  },
  '0003_plan_records': {
    // reads work without it (no records yet): read-only commands read older stores
    requiredForReading: false,
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('plan_records')
        .addColumn('plan_id', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('plan_records_pk', ['plan_id', 'version', 'seq'])
        .addForeignKeyConstraint('plan_records_version_fk', ['plan_id', 'version'], 'plan_versions', ['plan_id', 'version'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('plan_records').execute();
    },
  },
  '0004_deployment_history': {
    // reads work without it (no history: the prior alone)
    requiredForReading: false,
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('deployment_history')
        .addColumn('package', 'text', (c) => c.notNull())
        .addColumn('change', 'text', (c) => c.notNull())
        .addColumn('jump', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('deployment_history_pk', ['package', 'change', 'outcome', 'at', 'host'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('deployment_history').execute();
    },
  },
  '0005_deployments': {
    // reads work without it (no deployments yet): read-only commands read older stores
    requiredForReading: false,
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('deployments')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('plan_id', 'text', (c) => c.notNull())
        .addColumn('plan_version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'running', 'paused', 'rolling-back', 'succeeded', 'rolled-back', 'aborted', 'needs-attention')`))
        .addColumn('status_reason', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('last_seq', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('deployment_journal')
        .addColumn('deployment', 'text', (c) => c.notNull().references('deployments.id'))
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('phase', 'text', (c) => c.notNull().check(sql`phase in ('started', 'ended', 'event')`))
        .addColumn('host', 'text')
        .addColumn('wave', 'integer')
        .addColumn('outcome', 'text')
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('deployment_journal_pk', ['deployment', 'seq'])
        .execute();
      // at most one `started` and one `ended` entry per key; `event` entries may repeat keys
      await db.schema.createIndex('deployment_journal_once').on('deployment_journal').columns(['deployment', 'key', 'phase']).unique()
        .where(sql<boolean>`phase <> 'event'`).execute();
      await db.schema.createIndex('deployment_journal_host').on('deployment_journal').columns(['deployment', 'host', 'seq']).execute();
      await db.schema
        .createTable('deployment_leases')
        .addColumn('deployment', 'text', (c) => c.notNull().references('deployments.id'))
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('holder', 'text')
        .addColumn('token', 'integer', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('deployment_leases_pk', ['deployment', 'scope'])
        .execute();
      await db.schema
        .createTable('deployment_controls')
        .addColumn('deployment', 'text', (c) => c.primaryKey().references('deployments.id'))
        .addColumn('action', 'text', (c) => c.notNull().check(sql`action in ('pause', 'abort')`))
        .addColumn('requested_by', 'text', (c) => c.notNull())
        .addColumn('requested_at', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('deployment_controls').execute();
      await db.schema.dropTable('deployment_leases').execute();
      await db.schema.dropTable('deployment_journal').execute();
      await db.schema.dropTable('deployments').execute();
    },
  },
};
