/**
 * A throwaway PostgreSQL cluster (Debian's package): initdb as the postgres user, its own port
 * and socket directory, fsync off, stopped (immediate) by destroy() or on process exit.
 */
import { mkdtemp, readdir, rm, chown } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { freeLoopbackPort } from '../../src/monitor/index.js';
import os from 'node:os';
import { registerExitCleanup } from './cleanup.js';
import { runChecked, runTool } from './process.js';
import { existsSync } from 'node:fs';

export interface PostgresCluster {
  host: string;
  port: number;
  user: string;
  dir: string;
  /** Create an empty database; returns its name. */
  createDatabase(name: string): Promise<string>;
  connectionString(database: string): string;
  destroy(): Promise<void>;
}

/** A free loopback port (the product's helper). */
export const freePort = freeLoopbackPort;

async function findPostgresBin(): Promise<string> {
  const base = '/usr/lib/postgresql';
  let versions: string[] = [];
  try {
    versions = (await readdir(base)).filter((v) => existsSync(`${base}/${v}/bin/initdb`)).sort((a, b) => Number(b) - Number(a));
  } catch {
    // none
  }
  const v = versions[0];
  if (!v) throw new Error("the lab needs PostgreSQL's initdb: install the Debian package 'postgresql' (scripts/install-test-deps.sh does)");
  if (!existsSync('/usr/bin/psql')) throw new Error("the lab needs psql: install the Debian package 'postgresql-client'");
  return `${base}/${v}/bin`;
}

export async function createPostgresCluster(): Promise<PostgresCluster> {
  const bin = await findPostgresBin();
  const idu = await runTool(['id', '-u', 'postgres']);
  if (idu.code !== 0) throw new Error("the lab needs the 'postgres' user: install the Debian package 'postgresql'");
  const uid = Number(idu.stdout.trim());
  const gid = Number((await runChecked(['id', '-g', 'postgres'])).trim());
  const dir = await mkdtemp(`${os.tmpdir()}/rwpg-`);
  await chown(dir, uid, gid);
  const port = await freePort();
  const asPostgres = (argv: string[]): string[] => ['runuser', '-u', 'postgres', '--', ...argv];
  await runChecked(asPostgres([`${bin}/initdb`, '-D', `${dir}/data`, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']), { cwd: '/' });
  const unregister = registerExitCleanup(() => {
    try {
      const pid = Number(readFileSync(`${dir}/data/postmaster.pid`, 'utf8').split('\n')[0]);
      if (pid > 0) process.kill(pid, 'SIGQUIT');
    } catch {
      // not running
    }
  });
  await runChecked(
    asPostgres([`${bin}/pg_ctl`, '-D', `${dir}/data`, '-w', '-l', `${dir}/server.log`, '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`, 'start']),
    { cwd: '/' },
  );
  const cluster: PostgresCluster = {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    dir,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
      await runChecked(['psql', '-X', '-q', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-c', `CREATE DATABASE ${name}`]);
      return name;
    },
    connectionString: (database) => `postgresql://postgres@127.0.0.1:${port}/${database}`,
    async destroy() {
      await runTool(asPostgres([`${bin}/pg_ctl`, '-D', `${dir}/data`, '-m', 'immediate', '-w', 'stop']), { cwd: '/' });
      unregister();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}
