/**
 * The lab: N hosts as directory roots with the real dpkg/apt, optionally each reachable over
 * SSH inside its own network namespace; synthetic .deb packages in a local apt repository;
 * runit supervisors for test services; a throwaway PostgreSQL cluster.
 *
 * Usage (in a vitest file):
 *
 *   import { createLab, type Lab } from '../lab/index.js';
 *   let lab: Lab;
 *   beforeAll(async () => {
 *     lab = await createLab({ hosts: 3, ssh: true, packages: [{ name: 'demo', version: '1.0' }] });
 *   });
 *   afterAll(() => lab?.destroy());
 *   // lab.hosts[i]: { name, root, aptConfig, svdir, address, sshPort, namespace, sshAlias }
 *   // lab.ssh: { configFile, knownHostsFile, identityFile, proxyCommand, user, controlDir }
 *   //   `ssh -F lab.ssh.configFile host-0 true` works from the machine's own namespace;
 *   //   or pass lab.sshOptionsFor(host) to createSshDriver from src/hosts.
 *   // lab.repository: { dir, sourceLine, debs, add(specs), drop(name, version) }
 *   // createDirectoryRootDriver({ root: lab.hosts[i].root, chrootlessScripts: lab.chrootlessScripts })
 *   //   (the lab's packages are trusted to run their scripts chrootless; no other package is)
 *
 * Everything lives under a fresh temp dir and in namespaces named rwl-<pid>-<seq>-*; destroy()
 * removes it all, and an exit hook does the same if a test run dies first. Stale namespaces of
 * dead processes are removed when a lab starts. Needs root (ip netns, sshd).
 */
import { appendFileSync, existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { aptConfigPath, prepareDirectoryRoot, type ChrootlessScripts, type DirectoryRootFacts } from '../../src/hosts/index.js';
import { registerExitCleanup } from './cleanup.js';
import type { DebSpec } from './deb.js';
import { cleanStaleNamespaces, createNetwork, startSshd, type Network, type SshdInstance } from './netns.js';
import { requireTool, runChecked } from './process.js';
import { createRepository, type LabRepository } from './repo.js';
import { startSupervisor, type Supervisor } from './runit.js';

export { buildDeb, type BuiltDeb, type DebSpec, type ServiceBehaviour, type LabServiceSpec, type MaintainerScript } from './deb.js';
export { createRepository, type LabRepository } from './repo.js';
export { createPostgresCluster, freePort, type PostgresCluster } from './postgres.js';
export { startSupervisor, type Supervisor } from './runit.js';
export { requireTool, runTool as runLabTool } from './process.js';
export { cleanStaleNamespaces, NETNS_PREFIX } from './netns.js';
export { ensureDebianRootImage, extractDebianRoot, imageRecord, rollwiseCacheDir, type DebianRootImage, type DownloadedDeb } from './debian-root.js';

export interface LabHost {
  name: string;
  index: number;
  /** The directory root (absolute). */
  root: string;
  /** Per-host apt configuration (APT_CONFIG). */
  aptConfig: string;
  /** runit service directory of the host (<root>/etc/service). */
  svdir: string;
  /** Only with ssh: the host's network namespace, address and sshd port. */
  namespace?: string;
  address?: string;
  sshPort?: number;
  /** Only with ssh: the Host alias in lab.ssh.configFile. */
  sshAlias?: string;
}

export interface LabSsh {
  configFile: string;
  knownHostsFile: string;
  identityFile: string;
  user: string;
  /** ProxyCommand reaching the namespaces from the hub namespace. */
  proxyCommand: string;
  hubNamespace: string;
  /** Directory for ControlMaster sockets. */
  controlDir: string;
}

/** What src/hosts createSshDriver/createSshRunner takes for one lab host. */
export interface LabSshOptions {
  host: string;
  port: number;
  user: string;
  identityFile: string;
  knownHostsFile: string;
  proxyCommand: string;
  controlPath: string;
}

export interface LabTimings {
  totalMs: number;
  repositoryMs: number;
  rootsMs: number;
  networkMs: number;
  sshdMs: number;
}

export interface Lab {
  id: string;
  dir: string;
  repository: LabRepository;
  hosts: LabHost[];
  ssh?: LabSsh;
  /**
   * Trust for the lab's own synthetic packages (every name and version its repository ever built):
   * their maintainer scripts act only under $DPKG_ROOT, so they may run chrootless. Pass it to
   * createDirectoryRootDriver({ chrootlessScripts }).
   */
  chrootlessScripts: ChrootlessScripts;
  timings: LabTimings;
  sshOptionsFor(host: LabHost): LabSshOptions;
  /** Stop a host's sshd (to test a lost connection). */
  stopSshd(host: LabHost): Promise<void>;
  /** Start runit for a host (`runsvdir -P <root>/etc/service`); stopped by destroy(). */
  startSupervisor(host: LabHost): Supervisor;
  /** Write the port a lab service of this host listens on (read by its run script). */
  setServicePort(host: LabHost, service: string, port: number): Promise<void>;
  /** The port a running lab service reported (from <root>/run/lab/<service>.port), if any. */
  readServicePort(host: LabHost, service: string): Promise<number | undefined>;
  destroy(): Promise<void>;
}

export interface CreateLabOptions {
  hosts: number;
  /** Put each host in its own network namespace with an sshd (needs root). */
  ssh?: boolean;
  /** Packages to build into a fresh repository (ignored when `repository` is given). */
  packages?: DebSpec[];
  /** Share an existing repository between labs. */
  repository?: LabRepository;
  architecture?: string;
  facts?: DirectoryRootFacts;
  /** Run `apt-get update` on every root (default true). */
  updateIndex?: boolean;
  /**
   * More sshd_config lines for a host's sshd (with ssh). For example `SetEnv PATH=DIR:/usr/bin:/bin`
   * puts lab-made programs first on the PATH of that host's sessions, so the host misbehaves in a
   * chosen way without touching this machine's own programs.
   */
  sshdConfig?: (host: LabHost) => readonly string[];
}

let sequence = 0;

export async function createLab(options: CreateLabOptions): Promise<Lab> {
  const t0 = performance.now();
  const id = `rwl-${process.pid}-${++sequence}`;
  const dir = await mkdtemp(path.join(os.tmpdir(), `${id}-`));
  const supervisors: Supervisor[] = [];
  const sshds: SshdInstance[] = [];
  const sshdByHost = new Map<string, SshdInstance>();
  let network: Network | undefined;
  const destroySync = (): void => {
    for (const s of supervisors) s.stopSync();
    for (const s of sshds) {
      try {
        s.process.kill('SIGKILL');
      } catch {
        // gone
      }
    }
    network?.destroySync();
    network = undefined;
    if (dir.startsWith(path.join(os.tmpdir(), 'rwl-'))) {
      // a runsv told to stop may restart a killed service and write its state once more: remove, wait, remove again
      const pause = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
      for (let i = 0; i < 3; i++) {
        rmSync(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 50 });
        pause(300);
        if (!existsSync(dir)) break;
        for (const s of supervisors) s.stopSync();
      }
    }
  };
  const unregister = registerExitCleanup(destroySync);
  try {
    const tRepo = performance.now();
    const repository = options.repository ?? (await createRepository(path.join(dir, 'repo'), options.packages ?? []));
    const repositoryMs = performance.now() - tRepo;

    const tRoots = performance.now();
    const hosts: LabHost[] = [];
    for (let i = 0; i < options.hosts; i++) {
      const root = path.join(dir, 'hosts', `host-${i}`);
      hosts.push({ name: `host-${i}`, index: i, root, aptConfig: aptConfigPath(root), svdir: `${root}/etc/service` });
    }
    await Promise.all(
      hosts.map(async (h) => {
        await prepareDirectoryRoot(h.root, {
          sources: [repository.sourceLine],
          architecture: options.architecture ?? 'amd64',
          facts: { kernel: '6.1.0-lab', memoryMiB: 2048, cpus: 2, diskTotalMiB: 20480, diskFreeMiB: 10240, ...options.facts },
        });
        await mkdir(h.svdir, { recursive: true });
      }),
    );
    if (options.updateIndex !== false) {
      const aptGet = requireTool('apt-get');
      await Promise.all(
        hosts.map((h) =>
          runChecked([aptGet, '-q', '-o', `Dir=${h.root}/`, '-o', `DPkg::Options::=--root=${h.root}`, 'update'], {
            env: { ...process.env, APT_CONFIG: h.aptConfig, LC_ALL: 'C' },
          }),
        ),
      );
    }
    const rootsMs = performance.now() - tRoots;

    let ssh: LabSsh | undefined;
    let networkMs = 0;
    let sshdMs = 0;
    if (!options.ssh) await cleanStaleNamespaces().catch(() => undefined); // stale dirs too
    if (options.ssh) {
      const tNet = performance.now();
      await cleanStaleNamespaces();
      network = await createNetwork(id, options.hosts);
      networkMs = performance.now() - tNet;
      const tSshd = performance.now();
      const keygen = requireTool('ssh-keygen');
      const sshDir = path.join(dir, 'ssh');
      await mkdir(path.join(sshDir, 'control'), { recursive: true, mode: 0o700 });
      const identityFile = path.join(sshDir, 'id_ed25519');
      await runChecked([keygen, '-q', '-t', 'ed25519', '-N', '', '-C', `rollwise-lab-${id}`, '-f', identityFile]);
      const authorizedKeys = path.join(sshDir, 'authorized_keys');
      await writeFile(authorizedKeys, await readFile(`${identityFile}.pub`, 'utf8'));
      const knownHosts: string[] = [];
      const configLines: string[] = [];
      const netHosts = network.hosts;
      await Promise.all(
        hosts.map(async (h, i) => {
          const nh = netHosts[i]!;
          const hdir = path.join(sshDir, h.name);
          await mkdir(hdir, { recursive: true });
          const hostKey = path.join(hdir, 'ssh_host_ed25519_key');
          await runChecked([keygen, '-q', '-t', 'ed25519', '-N', '', '-C', h.name, '-f', hostKey]);
          const pub = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
          knownHosts[i] = `${nh.address} ${pub}`;
          const extraConfig = options.sshdConfig?.(h) ?? [];
          const sshd = await startSshd({ namespace: nh.namespace, address: nh.address, port: 22, dir: hdir, hostKey, authorizedKeys, extraConfig });
          sshds.push(sshd);
          sshdByHost.set(h.name, sshd);
          h.namespace = nh.namespace;
          h.address = nh.address;
          h.sshPort = 22;
          h.sshAlias = h.name;
        }),
      );
      const knownHostsFile = path.join(sshDir, 'known_hosts');
      await writeFile(knownHostsFile, knownHosts.join('\n') + '\n');
      const controlDir = path.join(sshDir, 'control');
      for (const h of hosts) {
        configLines.push(
          `Host ${h.sshAlias}`,
          `  HostName ${h.address}`,
          `  Port ${h.sshPort}`,
          '  User root',
          `  IdentityFile ${identityFile}`,
          '  IdentitiesOnly yes',
          `  UserKnownHostsFile ${knownHostsFile}`,
          '  StrictHostKeyChecking yes',
          '  BatchMode yes',
          '  ConnectTimeout 5',
          `  ProxyCommand ${network.proxyCommand}`,
          '',
        );
      }
      const configFile = path.join(sshDir, 'ssh_config');
      await writeFile(configFile, configLines.join('\n'));
      ssh = { configFile, knownHostsFile, identityFile, user: 'root', proxyCommand: network.proxyCommand, hubNamespace: network.hub, controlDir };
      sshdMs = performance.now() - tSshd;
    }

    const lab: Lab = {
      id,
      dir,
      repository,
      hosts,
      ...(ssh ? { ssh } : {}),
      chrootlessScripts: { trusted: (name, version) => repository.built.some((d) => d.name === name && d.version === version) },
      timings: { totalMs: performance.now() - t0, repositoryMs, rootsMs, networkMs, sshdMs },
      sshOptionsFor(host) {
        if (!ssh || !host.address) throw new Error('this lab was created without ssh: createLab({ ssh: true })');
        return {
          host: host.address,
          port: host.sshPort ?? 22,
          user: ssh.user,
          identityFile: ssh.identityFile,
          knownHostsFile: ssh.knownHostsFile,
          proxyCommand: ssh.proxyCommand,
          controlPath: path.join(ssh.controlDir, `${host.name}.sock`),
        };
      },
      async stopSshd(host) {
        const sshd = sshdByHost.get(host.name);
        if (!sshd || sshd.process.exitCode !== null || sshd.process.signalCode !== null) return;
        const gone = new Promise<void>((r) => sshd.process.once('exit', () => r()));
        // the listener is sshd itself (exec'd by the wrapper); killing it closes the port
        const pid = Number((await readFile(sshd.pidFile, 'utf8')).trim());
        process.kill(pid, 'SIGKILL');
        await gone;
        if (ssh) await runChecked(['ssh', '-o', `ControlPath=${path.join(ssh.controlDir, `${host.name}.sock`)}`, '-O', 'exit', 'x']).catch(() => undefined);
      },
      startSupervisor(host) {
        const s = startSupervisor(host.svdir);
        supervisors.push(s);
        // recorded so a later lab can stop it if this process is killed without its exit hook
        if (s.process.pid) appendFileSync(path.join(dir, 'pids'), `${s.process.pid}\n`);
        return s;
      },
      async setServicePort(host, service, port) {
        if (!/^[A-Za-z0-9_.-]+$/.test(service)) throw new Error(`bad service name ${service}`);
        await mkdir(path.join(host.root, 'etc/lab'), { recursive: true });
        await writeFile(path.join(host.root, 'etc/lab', `${service}.env`), `PORT=${Number(port)}\n`);
      },
      async readServicePort(host, service) {
        try {
          const n = Number((await readFile(path.join(host.root, 'run/lab', `${service}.port`), 'utf8')).trim());
          return n > 0 ? n : undefined;
        } catch {
          return undefined;
        }
      },
      async destroy() {
        await Promise.all(supervisors.map((s) => s.stop()));
        if (ssh) {
          // close multiplexed masters so no ssh process outlives the lab
          for (const h of hosts) {
            const sock = path.join(ssh.controlDir, `${h.name}.sock`);
            await runChecked(['ssh', '-o', `ControlPath=${sock}`, '-O', 'exit', 'x']).catch(() => undefined);
          }
        }
        destroySync();
        unregister();
        await rm(dir, { recursive: true, force: true });
      },
    };
    return lab;
  } catch (e) {
    destroySync();
    unregister();
    throw e;
  }
}
