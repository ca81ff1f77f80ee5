/**
 * What a user sees when the store fails: one RW_STORE (or RW_NOT_FOUND) error with the real
 * cause in words and a hint, never a driver's raw error. The driver's error stays as `cause`.
 */
import path from 'node:path';
import { RollwiseError, isRollwiseError } from '../shared/index.js';

/** A driver error's code: SQLite's (`SQLITE_FULL`, `SQLITE_BUSY_SNAPSHOT`), PostgreSQL's SQLSTATE (`53100`) or Node's (`ENOSPC`). */
export function driverCode(e: unknown): string {
  const code = e !== null && typeof e === 'object' && 'code' in e ? (e as { code: unknown }).code : undefined;
  return typeof code === 'string' ? code : '';
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Another process holds the lock: the statement did nothing and may run again. */
export function isBusy(e: unknown): boolean {
  const c = driverCode(e);
  return c.startsWith('SQLITE_BUSY') || c.startsWith('SQLITE_LOCKED') || c === '55P03';
}

/**
 * Errors after which PostgreSQL has rolled the whole transaction back and asks for it to be
 * run again: serialization failure, deadlock, lock not available.
 */
export function isRetriablePostgres(e: unknown): boolean {
  return ['40001', '40P01', '55P03'].includes(driverCode(e));
}

export function isDiskFull(e: unknown): boolean {
  const c = driverCode(e);
  return c === 'SQLITE_FULL' || c === '53100' || c === 'ENOSPC' || c === 'EDQUOT';
}

export function isReadOnly(e: unknown): boolean {
  const c = driverCode(e);
  return c.startsWith('SQLITE_READONLY') || c === 'EROFS' || c === 'EACCES' || c === 'EPERM' || c === '25006';
}

/** The store as the user named it: a file, or a PostgreSQL URL without its password. */
export function describeStore(where: string): string {
  if (/^postgres(ql)?:\/\//.test(where)) {
    try {
      const u = new URL(where);
      if (u.password) u.password = '***';
      return u.toString();
    } catch {
      return 'the PostgreSQL store';
    }
  }
  return where;
}

function folderOf(where: string): string {
  return /^postgres(ql)?:\/\//.test(where) ? '' : path.dirname(path.resolve(where));
}

/**
 * Turns any error met while `doing` something on the store `where` into one RollwiseError.
 * RollwiseErrors (the store's own, such as "already superseded") pass through unchanged.
 */
export function storeError(e: unknown, where: string, doing: string, options: { busyForMs?: number } = {}): RollwiseError {
  if (isRollwiseError(e)) return e;
  const store = describeStore(where);
  const code = driverCode(e);
  const detail = `${messageOf(e)}${code ? ` [${code}]` : ''}`;
  const isPostgres = /^postgres(ql)?:\/\//.test(where);
  if (isDiskFull(e)) {
    return new RollwiseError('RW_STORE', `disk full: ${doing} in the store ${store} failed and nothing of it was stored (${detail})`, {
      hint: isPostgres ? 'free space on the PostgreSQL server, then run the command again' : `free space on the file system that holds ${folderOf(where)} (df -h ${folderOf(where)}), then run the command again`,
      cause: e,
    });
  }
  if (isBusy(e)) {
    const waited = options.busyForMs !== undefined ? ` for ${Math.round(options.busyForMs / 1000)} s` : '';
    return new RollwiseError('RW_STORE', `the store ${store} stayed locked by another process${waited}: ${doing} did not happen (${detail})`, {
      hint: 'run the command again; if the store stays locked, look for a stuck rollwise process using it',
      cause: e,
    });
  }
  if (isReadOnly(e)) {
    return new RollwiseError('RW_STORE', `the store ${store} cannot be written (${detail})`, {
      hint: `writing commands need write access to the store file and its folder (${folderOf(where) || 'the database'}); plan list and plan show work on a read-only store`,
      cause: e,
    });
  }
  if (code === 'SQLITE_NOTADB') {
    return new RollwiseError('RW_STORE', `${store} is not a Rollwise store: it is not a SQLite database (${detail})`, {
      hint: '--store names the SQLite file rollwise writes its plans to (default .rollwise/rollwise.db under the working directory)',
      cause: e,
    });
  }
  if (code.startsWith('SQLITE_CORRUPT')) {
    return new RollwiseError('RW_STORE', `the store ${store} is damaged: ${doing} failed (${detail})`, {
      hint: `restore it from a backup; sqlite3 ${store} 'pragma integrity_check' shows the damage`,
      cause: e,
    });
  }
  if (code.startsWith('SQLITE_CANTOPEN')) {
    return new RollwiseError('RW_STORE', `cannot open the store ${store} (${detail})`, {
      hint: `check that ${store} and its folder exist and can be read (and written, for writing commands)`,
      cause: e,
    });
  }
  if (code.startsWith('SQLITE_IOERR')) {
    return new RollwiseError('RW_STORE', `I/O error: ${doing} in the store ${store} failed (${detail})`, {
      hint: 'check the disk and the kernel log (dmesg); the plan was not stored',
      cause: e,
    });
  }
  if (isPostgres && (code.startsWith('08') || code.startsWith('28') || code === '57P01' || code === '57P03' || ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH'].includes(code))) {
    return new RollwiseError('RW_STORE', `cannot reach the PostgreSQL store ${store}: ${doing} failed (${detail})`, {
      hint: 'check that the server runs and accepts this user; nothing was stored',
      cause: e,
    });
  }
  return new RollwiseError('RW_STORE', `${doing} in the store ${store} failed (${detail})`, {
    hint: 'nothing of it was stored; run the command again, and report it if it repeats',
    cause: e,
  });
}
