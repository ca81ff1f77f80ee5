/**
 * Network namespaces for lab hosts: a hub namespace holding a bridge (and the only client-side
 * address), one namespace per host with a veth pair onto the bridge and an address on a private
 * subnet that exists only inside these namespaces. No default route anywhere. An sshd runs in
 * each host namespace (own mount namespace, tmpfs /run, root's .bashrc masked).
 * The ssh client reaches hosts through a ProxyCommand that opens the TCP connection from inside
 * the hub namespace, so nothing is added to the machine's own network.
 * Names: `rwl-<pid>-<seq>-hub` / `rwl-<pid>-<seq>-h<i>`; namespaces of dead processes are
 * removed when a lab starts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { requireTool, runChecked, runQuiet, runTool } from './process.js';

export const NETNS_PREFIX = 'rwl-';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function listNamespaces(): Promise<string[]> {
  const ip = requireTool('ip');
  const r = await runTool([ip, 'netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.length > 0);
}

/** Kill every process in a namespace and delete it (synchronous: usable from exit hooks). */
export function deleteNamespaceSync(ns: string): void {
  const ip = requireTool('ip');
  const r = spawnSync(ip, ['netns', 'pids', ns], { encoding: 'utf8', timeout: 5000 });
  for (const p of (r.stdout ?? '').split('\n')) {
    const pid = Number(p.trim());
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  runQuiet([ip, 'netns', 'del', ns]);
}

/**
 * Processes a lab started outside its namespaces (runsvdir) are listed in <dir>/pids; kill those
 * still running with the lab's directory on their command line (so a reused pid is left alone).
 */
export function killRecordedProcesses(dir: string): void {
  let text: string;
  try {
    text = readFileSync(path.join(dir, 'pids'), 'utf8');
  } catch {
    return;
  }
  for (const line of text.split('\n')) {
    const pid = Number(line.trim());
    if (!(pid > 0)) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes(dir)) process.kill(pid, 'SIGHUP');
    } catch {
      // gone
    }
  }
}

/** Remove namespaces (and temp dirs) left behind by lab processes that no longer exist. */
export async function cleanStaleNamespaces(): Promise<string[]> {
  const removed: string[] = [];
  for (const entry of readdirSync(tmpdir())) {
    const m = /^rwl-(\d+)-\d+-/.exec(entry);
    if (!m || Number(m[1]) === process.pid || pidAlive(Number(m[1]))) continue;
    const dir = path.join(tmpdir(), entry);
    killRecordedProcesses(dir);
    rmSync(dir, { recursive: true, force: true });
  }
  for (const ns of await listNamespaces()) {
    const m = /^rwl-(\d+)-/.exec(ns);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    deleteNamespaceSync(ns);
    removed.push(ns);
  }
  return removed;
}

export interface NetnsHost {
  namespace: string;
  address: string;
}

export interface Network {
  hub: string;
  subnet: string;
  hosts: NetnsHost[];
  /** ssh ProxyCommand that connects from inside the hub namespace (%h/%p are ssh's tokens). */
  proxyCommand: string;
  destroySync(): void;
}

/** Create the hub and `count` host namespaces (in parallel batches). */
export async function createNetwork(prefix: string, count: number): Promise<Network> {
  if (count > 200) throw new Error('a lab network holds at most 200 hosts');
  const ip = requireTool('ip');
  const hub = `${prefix}-hub`;
  const names: string[] = [hub];
  const destroySync = (): void => {
    for (const ns of [...names].reverse()) deleteNamespaceSync(ns);
  };
  try {
    await runChecked([ip, 'netns', 'add', hub]);
    await runChecked([ip, '-n', hub, 'link', 'set', 'lo', 'up']);
    await runChecked([ip, '-n', hub, 'link', 'add', 'br0', 'type', 'bridge']);
    await runChecked([ip, '-n', hub, 'addr', 'add', '10.77.0.1/24', 'dev', 'br0']);
    await runChecked([ip, '-n', hub, 'link', 'set', 'br0', 'up']);
    const hosts: NetnsHost[] = [];
    for (let i = 0; i < count; i++) hosts.push({ namespace: `${prefix}-h${i}`, address: `10.77.0.${10 + i}` });
    // ip -batch keeps this to a few processes even for many hosts.
    for (const h of hosts) {
      await runChecked([ip, 'netns', 'add', h.namespace]);
      names.push(h.namespace);
    }
    const hubBatch = hosts.flatMap((h, i) => [
      `link add v${i} type veth peer name eth0 netns ${h.namespace}`,
      `link set v${i} master br0`,
      `link set v${i} up`,
    ]);
    await runChecked([ip, '-n', hub, '-batch', '-'], { input: hubBatch.join('\n') + '\n' });
    await Promise.all(
      hosts.map((h) =>
        runChecked([ip, '-n', h.namespace, '-batch', '-'], {
          input: ['link set lo up', `addr add ${h.address}/24 dev eth0`, 'link set eth0 up', ''].join('\n'),
        }),
      ),
    );
    const bash = requireTool('bash');
    const proxyCommand = `${ip} netns exec ${hub} ${bash} -c 'exec 3<>/dev/tcp/%h/%p; cat <&3 & exec cat >&3'`;
    return { hub, subnet: '10.77.0.0/24', hosts, proxyCommand, destroySync };
  } catch (e) {
    destroySync();
    throw e;
  }
}

export interface SshdInstance {
  process: ChildProcess;
  pidFile: string;
  logFile: string;
}

/** Start sshd inside a host namespace; resolves once its pid file exists. */
export async function startSshd(opts: {
  namespace: string;
  address: string;
  port: number;
  dir: string;
  hostKey: string;
  authorizedKeys: string;
  /** More sshd_config lines (e.g. `SetEnv PATH=...` so a host answers with lab-made programs). */
  extraConfig?: readonly string[];
}): Promise<SshdInstance> {
  const ip = requireTool('ip');
  const unshare = requireTool('unshare');
  const sshd = requireTool('sshd');
  const config = `${opts.dir}/sshd_config`;
  const pidFile = `${opts.dir}/sshd.pid`;
  const logFile = `${opts.dir}/sshd.log`;
  await writeFile(
    config,
    [
      `ListenAddress ${opts.address}:${opts.port}`,
      `HostKey ${opts.hostKey}`,
      `PidFile ${pidFile}`,
      `AuthorizedKeysFile ${opts.authorizedKeys}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'UseDNS no',
      'PrintMotd no',
      'PrintLastLog no',
      'MaxSessions 50',
      'MaxStartups 100:30:200',
      ...(opts.extraConfig ?? []),
      '',
    ].join('\n'),
  );
  const script = 'mount -t tmpfs tmpfs /run && mkdir -p /run/sshd && { [ ! -e /root/.bashrc ] || mount --bind /dev/null /root/.bashrc; } && exec "$1" -D -f "$2" -E "$3"';
  const child = spawn(ip, ['netns', 'exec', opts.namespace, unshare, '-mu', 'sh', '-c', script, 'sh', sshd, config, logFile], {
    stdio: 'ignore',
    detached: false,
  });
  const deadline = Date.now() + 10_000;
  while (!existsSync(pidFile)) {
    if (child.exitCode !== null) throw new Error(`sshd in ${opts.namespace} exited with ${child.exitCode}; see ${logFile}`);
    if (Date.now() > deadline) throw new Error(`sshd in ${opts.namespace} did not start in 10 s; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return { process: child, pidFile, logFile };
}
