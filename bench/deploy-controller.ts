/**
 * The controller of `npm run bench:deploy`: the wave engine (runDeployment) on the SQLite store,
 * with directory-root drivers that trust the lab's own packages' maintainer scripts (the
 * application's deploy service refuses them on directory roots without --chroot, so the bench
 * wires the same seams itself: drivers, the former .debs kept from the lab repository, a judge).
 * Used in-process by the accuracy runs, and as a child process (this file run with tsx, its input
 * as JSON in argv[2]) by the crash-safety runs, which kill it with SIGKILL and start it again to
 * resume. The child prints one JSON line with the engine's result.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { openStore, type DeployStore } from '../src/app/index.js';
import { createDebCache, createDirectoryRootDriver, createLocalRunner } from '../src/hosts/index.js';
import { createBakeOnlyJudge, runDeployment, type DeployEvent, type EngineDriver, type EngineResult, type WaveJudge } from '../src/deploy/index.js';

export interface ControllerInput {
  storeFile: string;
  deployment: string;
  planId: string;
  planVersion: number;
  /** Host name → directory root. */
  roots: Record<string, string>;
  /** The lab repository (flat, file:) the former .debs are kept from. */
  repoDir: string;
  debDir: string;
  /** Lab packages whose scripts may run chrootless: `name=version`. */
  trusted: string[];
  holder?: string;
}

export async function runController(input: ControllerInput, o: { store?: DeployStore; judge?: WaveJudge; onEvent?: (e: DeployEvent) => void } = {}): Promise<EngineResult> {
  const store = o.store ?? ((await openStore(input.storeFile)) as unknown as DeployStore);
  try {
    const plan = await store.getPlan(input.planId, input.planVersion);
    if (!plan) throw new Error(`no plan ${input.planId} v${input.planVersion}`);
    const trusted = new Set(input.trusted);
    const runner = createLocalRunner();
    const drivers = new Map<string, EngineDriver>(Object.entries(input.roots).map(([name, root]) => {
      const d = createDirectoryRootDriver({ root, name, chrootlessScripts: { trusted: (n, v) => trusted.has(`${n}=${v}`) } });
      return [name, { ...d, runCommand: (argv, ro) => runner.run([...argv], ro) }];
    }));
    return await runDeployment({
      store, deployment: input.deployment, plan,
      driverFor: (h) => drivers.get(h)!,
      debCacheFor: (h) => ({ cache: createDebCache(path.resolve(input.debDir, input.deployment, h)), source: { baseUrl: input.repoDir } }),
      judge: o.judge ?? createBakeOnlyJudge(),
      holder: input.holder ?? `bench@${process.pid}`,
      // a killed controller's lease must lapse soon for the resume to take over
      leaseTtlMs: 3000,
      ...(o.onEvent ? { onEvent: o.onEvent } : {}),
    });
  } finally {
    if (!o.store) await (store as unknown as { close(): Promise<void> }).close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const input = JSON.parse(process.argv[2] ?? '{}') as ControllerInput;
  runController(input).then(
    (r) => {
      process.stdout.write(JSON.stringify(r) + '\n');
      process.exit(0);
    },
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
      process.exit(2);
    },
  );
}
