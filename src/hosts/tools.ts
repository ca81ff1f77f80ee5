/**
 * The programs the hosts layer runs on this machine, and the Debian package each comes from: a
 * command that cannot start says which package to install.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

/** Which Debian package provides each tool Rollwise (and its lab) runs. */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  'dpkg-deb': 'dpkg',
  dpkg: 'dpkg',
  'dpkg-query': 'dpkg',
  'apt-get': 'apt',
  'apt-ftparchive': 'apt-utils',
  'dpkg-scanpackages': 'dpkg-dev',
  ip: 'iproute2',
  sshd: 'openssh-server',
  ssh: 'openssh-client',
  'ssh-keygen': 'openssh-client',
  unshare: 'util-linux',
  runsvdir: 'runit',
  sv: 'runit',
  psql: 'postgresql-client',
  initdb: 'postgresql',
  pg_ctl: 'postgresql',
  runuser: 'util-linux',
  chroot: 'coreutils',
  tar: 'tar',
  mmdebstrap: 'mmdebstrap',
  prometheus: 'prometheus',
  'prometheus-alertmanager': 'prometheus-alertmanager',
};

/** The Debian package that provides a tool ('the package providing it' when not known). */
export function toolPackage(tool: string): string {
  return TOOL_PACKAGES[tool] ?? 'the package providing it';
}

const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The absolute path of a program on this machine (PATH, then the system's directories), or undefined. */
export function findTool(tool: string, extraDirs: readonly string[] = []): string | undefined {
  if (tool.includes('/')) return existsSync(tool) ? tool : undefined;
  const dirs = [...extraDirs, ...(process.env.PATH ?? '').split(':').filter((d) => path.isAbsolute(d)), ...SYSTEM_DIRS];
  for (const d of dirs) {
    const p = path.join(d, tool);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Of `tools`, those missing here, each with the package to install. */
export function missingTools(tools: readonly string[]): Array<{ tool: string; package: string }> {
  return tools.filter((t) => findTool(t) === undefined).map((t) => ({ tool: t, package: toolPackage(t) }));
}
