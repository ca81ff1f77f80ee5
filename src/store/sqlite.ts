/**
 * The embedded default: a SQLite file (WAL) under the working directory, `.rollwise/rollwise.db`.
 *
 * Several processes may use one store at once (two `rollwise plan` runs, a `plan list` beside a
 * `plan resolve`): every connection waits for locks (busy timeout), writers take the write lock
 * first (`BEGIN IMMEDIATE`, in sql-plan-store.ts), the schema is migrated inside such a
 * transaction, and a write refused for contention runs again; what still fails is one RW_STORE
 * error. Writers create the store readable by its owner only (file 0600, and the WAL files SQLite
 * derives from it; the default `.rollwise/` folder 0700). Readers open it read-only and never
 * create, migrate or otherwise change anything.
 */
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { RollwiseError } from '../shared/index.js';
import {
  assertReadableSchema, assertWritableSchema, createSqlPlanStore, emptyPlanStore, inspectSchema, migrateToLatest, readOnlyPlanStore, type RollwiseStore, type SchemaState,
} from './sql-plan-store.js';
import type { SqlBackend } from './sql-backend.js';
import { MIGRATIONS, type StoreDatabase, type StoreMigration } from './schema.js';
import { driverCode, isBusy, storeError } from './errors.js';

// A store in a folder this process cannot write, with no WAL left over, is opened with
// `?immutable=1` (SQLite cannot otherwise create the WAL index a WAL-mode file needs); URI
// file names must be on before better-sqlite3 loads SQLite. Store paths are absolute, so no
// other name is read as a URI.
process.env.SQLITE_USE_URI ??= '1';

export const DEFAULT_STORE_FILE = path.join('.rollwise', 'rollwise.db');

export function defaultStorePath(cwd: string = process.cwd()): string {
  return path.join(cwd, DEFAULT_STORE_FILE);
}

/** How long a connection waits for another process's lock before giving up (then RW_STORE). */
export const DEFAULT_BUSY_TIMEOUT_MS = 30_000;

export interface SqliteStoreOptions {
  /**
   * `write` (the default) opens the store for writing: created when absent (unless `create` is
   * false) and migrated to the newest schema. `read` opens an existing store read-only and never
   * creates, migrates or changes it.
   */
  access?: 'write' | 'read';
  /** With `write`: create the file (and missing folders, 0700) when absent; default true. */
  create?: boolean;
  /** How long to wait for other processes' locks, ms (default 30 s). */
  busyTimeoutMs?: number;
  /** The schema migrations (tests add some); default MIGRATIONS. */
  migrations?: Record<string, StoreMigration>;
}

function noStoreError(file: string): RollwiseError {
  return new RollwiseError('RW_NOT_FOUND', `no store at ${file}: no plan has been stored there yet`, {
    hint: 'rollwise plan --kb ... --inventory ... --install ... creates it; --store FILE names another store',
  });
}

function wrongTypeError(file: string): RollwiseError {
  return new RollwiseError('RW_STORE', `${file} is not a Rollwise store: it is not a file`, { hint: '--store names the SQLite file rollwise writes its plans to' });
}

/** The first folder of `dir` and its parents that exists (where a missing store would be created). */
function existingAncestor(dir: string): string {
  let d = dir;
  while (!existsSync(d) && path.dirname(d) !== d) d = path.dirname(d);
  return d;
}

/**
 * Creates the store file 0600 before SQLite opens it: SQLite gives its WAL and shared-memory
 * files the mode of the database file, so all three are readable by their owner only. A missing
 * folder is created 0700; an existing folder is left as it is.
 */
function createStoreFile(file: string): void {
  const dir = path.dirname(file);
  try {
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
    closeSync(openSync(file, 'wx', 0o600));
  } catch (e) {
    if (driverCode(e) === 'EEXIST') return; // another process created it first
    throw storeError(e, file, 'creating the store');
  }
}

/**
 * Why this process cannot write `file` or create its WAL files beside it (EROFS, EACCES), if it
 * cannot. SQLite says only "unable to open database file" when a WAL store's folder is read-only.
 */
function writeDenied(file: string): unknown {
  for (const p of [file, path.dirname(file)]) {
    try {
      if (existsSync(p)) accessSync(p, constants.W_OK);
    } catch (e) {
      return e;
    }
  }
  return undefined;
}

/** A failure of a writing open or check, with a read-only store named as such. */
function writeError(e: unknown, file: string, doing: string, busyForMs?: number): RollwiseError {
  const c = driverCode(e);
  const denied = c.startsWith('SQLITE_CANTOPEN') || c.startsWith('SQLITE_READONLY') ? writeDenied(file) : undefined;
  return storeError(denied ?? e, file, doing, busyForMs === undefined ? {} : { busyForMs });
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function backend(file: string, sqlite: Database.Database, busyTimeoutMs: number): SqlBackend {
  const db = new Kysely<StoreDatabase>({ dialect: new SqliteDialect({ database: sqlite }) });
  return {
    where: file,
    db,
    dialect: 'sqlite',
    inTransaction: () => sqlite.inTransaction,
    retryForMs: busyTimeoutMs,
    close: () => db.destroy(),
  };
}

/**
 * Retries `fn` while SQLite reports contention that its busy handler does not wait for (a WAL
 * being recovered or switched on by another process): `fn` must be safe to run again.
 */
async function whileBusy<T>(timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isBusy(e) || Date.now() - started >= timeoutMs) throw e;
      await new Promise((r) => setTimeout(r, Math.min(250, 10 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random())));
    }
  }
}

/** Opens the store for writing: created (unless `create` is false), checked, migrated. */
async function openForWriting(file: string, o: SqliteStoreOptions): Promise<RollwiseStore> {
  const timeout = o.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  const migrations = o.migrations ?? MIGRATIONS;
  if (file !== ':memory:') {
    if (existsSync(file)) {
      if (!isFile(file)) throw wrongTypeError(file);
    } else if (o.create === false) {
      throw noStoreError(file);
    } else {
      createStoreFile(file);
    }
  }
  return whileBusy(timeout, async () => {
    let sqlite: Database.Database | undefined;
    try {
      // the busy timeout is set by the constructor, before the first statement
      sqlite = new Database(file, { fileMustExist: file !== ':memory:', timeout });
      const b = backend(file, sqlite, timeout);
      // another program's database is refused before anything (the WAL switch included) changes it
      assertWritableSchema(file, await inspectSchema(b.db, 'sqlite', migrations));
      // fail now, before any work, if the store cannot be written (read-only file, folder or mount)
      sqlite.exec('begin immediate');
      sqlite.exec('rollback');
      if (String(sqlite.pragma('journal_mode', { simple: true })) !== 'wal' && file !== ':memory:') sqlite.pragma('journal_mode = WAL');
      sqlite.pragma('foreign_keys = ON');
      await migrateToLatest(b, migrations);
      return createSqlPlanStore(b);
    } catch (e) {
      sqlite?.close();
      if (isBusy(e)) throw e;
      throw writeError(e, file, 'opening the store for writing', timeout);
    }
  }).catch((e: unknown) => {
    throw writeError(e, file, 'opening the store for writing', timeout);
  });
}

/**
 * Opens a store in a folder this process cannot write: SQLite cannot create the WAL index there.
 * Faithful only when no WAL holds changes not yet in the file (then the file is the whole store).
 */
function openImmutable(file: string): Database.Database {
  try {
    return new Database(`file:${encodeURI(file).replace(/[?#]/g, encodeURIComponent)}?immutable=1`, { readonly: true, fileMustExist: true });
  } catch {
    // URI names were off when this process loaded SQLite: read a copy in memory, marked as a
    // rollback-journal database (header bytes 18-19), which is what SQLite needs to open it.
    const bytes = readFileSync(file);
    if (bytes.length >= 20 && bytes[18] === 2 && bytes[19] === 2) {
      bytes[18] = 1;
      bytes[19] = 1;
    }
    return new Database(bytes, { readonly: true });
  }
}

function walHoldsChanges(file: string): boolean {
  try {
    return statSync(`${file}-wal`).size > 0;
  } catch {
    return false;
  }
}

/** Whether the current process may create files in `dir` (a read-only mount counts as no). */
function canWriteFolder(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Opens an existing store read-only: never created, migrated or changed (its journal mode neither). */
async function openForReading(file: string, o: SqliteStoreOptions): Promise<RollwiseStore> {
  const timeout = o.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  const migrations = o.migrations ?? MIGRATIONS;
  if (!existsSync(file)) throw noStoreError(file);
  if (!isFile(file)) throw wrongTypeError(file);
  const inspect = async (sqlite: Database.Database): Promise<SchemaState> => {
    sqlite.pragma('query_only = ON');
    return inspectSchema(backend(file, sqlite, timeout).db, 'sqlite', migrations);
  };
  let sqlite: Database.Database | undefined;
  let state: SchemaState;
  try {
    state = await whileBusy(timeout, async () => {
      sqlite?.close();
      sqlite = new Database(file, { readonly: true, fileMustExist: true, timeout });
      try {
        return await inspect(sqlite);
      } catch (e) {
        const c = driverCode(e);
        const cannotIndex = c === 'SQLITE_CANTOPEN' || c.startsWith('SQLITE_READONLY');
        if (!cannotIndex || canWriteFolder(path.dirname(file))) throw e;
        if (walHoldsChanges(file)) {
          throw new RollwiseError('RW_STORE', `cannot read the store ${file}: its last changes are still in ${file}-wal, which SQLite cannot read in a read-only folder`, {
            hint: 'run any rollwise command on the store once with write access to its folder (that merges them), then read it from here',
            cause: e,
          });
        }
        sqlite.close();
        sqlite = openImmutable(file);
        return await inspect(sqlite);
      }
    });
  } catch (e) {
    sqlite?.close();
    throw storeError(e, file, 'opening the store to read it', { busyForMs: timeout });
  }
  const opened = sqlite!;
  const close = async (): Promise<void> => {
    opened.close();
  };
  let readable: boolean;
  try {
    readable = assertReadableSchema(file, state, migrations);
  } catch (e) {
    await close();
    throw e;
  }
  if (!readable) {
    await close();
    return emptyPlanStore(file, async () => undefined);
  }
  return readOnlyPlanStore(createSqlPlanStore(backend(file, opened, timeout)), file);
}

/**
 * Opens the SQLite store `file` (default `.rollwise/rollwise.db` under the working directory);
 * see SqliteStoreOptions. Every failure is a RollwiseError: RW_NOT_FOUND when there is no store
 * to read, RW_STORE otherwise (with the cause in words and a hint).
 */
export async function openSqlitePlanStore(file: string = defaultStorePath(), options: SqliteStoreOptions = {}): Promise<RollwiseStore> {
  const abs = file === ':memory:' ? file : path.resolve(file);
  return options.access === 'read' ? openForReading(abs, options) : openForWriting(abs, options);
}

/**
 * Checks, without creating or changing anything, that a writing command will be able to store
 * its result in `file`: an existing store must be a Rollwise store (or empty) this process can
 * write; a missing one must be creatable (its nearest existing folder writable). Throws RW_STORE.
 */
export async function checkSqliteStoreWritable(file: string = defaultStorePath()): Promise<void> {
  const abs = path.resolve(file);
  if (!existsSync(abs)) {
    const dir = existingAncestor(path.dirname(abs));
    let ok: boolean;
    try {
      ok = statSync(dir).isDirectory();
    } catch {
      ok = false;
    }
    if (!ok) throw new RollwiseError('RW_STORE', `cannot create the store ${abs}: ${dir} is not a folder`, { hint: '--store FILE names a file in a folder' });
    try {
      accessSync(dir, constants.W_OK | constants.X_OK);
    } catch (e) {
      throw storeError(e, abs, `creating the store (in ${dir})`);
    }
    return;
  }
  if (!isFile(abs)) throw wrongTypeError(abs);
  let sqlite: Database.Database | undefined;
  try {
    // no waiting: a lock held by another process proves the store can be locked for writing
    sqlite = new Database(abs, { fileMustExist: true, timeout: 0 });
    assertWritableSchema(abs, await inspectSchema(backend(abs, sqlite, 0).db, 'sqlite'));
    sqlite.exec('begin immediate');
    sqlite.exec('rollback');
  } catch (e) {
    if (!isBusy(e)) throw writeError(e, abs, 'checking that the store can be written');
  } finally {
    sqlite?.close();
  }
}
