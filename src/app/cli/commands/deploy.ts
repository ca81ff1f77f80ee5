/**
 * `rollwise deploy PLAN` and `rollwise deploy status|log|list|pause|resume|abort ID`: parse, call
 * the deployment services (services/deploy.ts), render (deploy-render.ts). Progress lines go to
 * stderr as waves and hosts advance; `--json` prints the result for programs on stdout.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { RollwiseError, excerpt } from '../../../shared/index.js';
import type { DeploymentStore, EngineResult } from '../../../deploy/index.js';
import type { RollwiseStore } from '../../../store/index.js';
import {
  controlDeployment, deploymentLog, deploymentStatus, openStore, openStoreForReading, resumeDeployment, startDeployment,
  type DeployStore,
} from '../../services/index.js';
import { keepRunningWhenOutputCloses, paletteFor } from '../terminal.js';
import { noControllerWords, renderDeployEvent, renderDeploymentList, renderDeploymentLog, renderDeploymentStatus, renderEngineResult } from './deploy-render.js';

function deployStore(store: RollwiseStore): DeployStore {
  const s = store as RollwiseStore & Partial<DeploymentStore>;
  if (typeof s.createDeployment !== 'function') throw new RollwiseError('RW_STORE', 'this store does not keep deployments', { hint: 'update Rollwise: deployments are kept in the same store as plans' });
  return s as unknown as DeployStore;
}

const defaultDebCache = (store: string | undefined): string => path.join(path.dirname(store ?? path.join('.rollwise', 'rollwise.db')), 'debs');

function exitFor(r: EngineResult): number {
  if (r.kind === 'halted') return 1;
  return r.status === 'succeeded' || r.status === 'paused' ? 0 : 1;
}

function wholeNumber(flag: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new RollwiseError('RW_USAGE', `${flag} takes a whole number from 1, not '${excerpt(v)}'`, { hint: `e.g. ${flag} 2` });
    return n;
  };
}

function waveList(v: string, prev: number[] = []): number[] {
  return [...prev, ...v.split(',').map((x) => wholeNumber('--gate-after')(x.trim()))];
}

function progressPrinter(json: boolean): ((e: Parameters<typeof renderDeployEvent>[0]) => void) | undefined {
  const palette = paletteFor(process.stderr);
  return (e) => {
    const line = renderDeployEvent(e, palette);
    if (line && !json) process.stderr.write(`${line}\n`);
    else if (line && json) process.stderr.write(`${line}\n`);
  };
}

export function register(program: Command): void {
  const deploy = program
    .command('deploy')
    .description('roll an approved plan out in waves (canary of every host group first), watch each wave, roll back on its own; `rollwise deploy ID` is short for `rollwise deploy start ID`; deploy status|log|list|pause|resume|abort');

  deploy
    .command('start', { isDefault: true })
    .description('deploy an approved plan version: per host, compare its real state with the plan, snapshot, keep the former .debs, apply the group\'s packages step, restart its services, check their health; wave by wave')
    .argument('<plan>', 'plan id (or a unique prefix; ID@N for version N); the version must be approved')
    .option('--hosts <selector>', 'only these hosts: comma-separated terms that must all hold: group=NAME (inventory group or plan group key), label.KEY=VALUE, name=GLOB or a host-name GLOB; ! negates a term')
    .option('--waves <sizes>', 'cumulative wave sizes, counts or shares of the hosts: the first is the canary (never fewer than one host per group), e.g. 1,10%,50%,100% (default 1,25%,100%)')
    .option('--bake <duration>', 'time each wave is watched before the next starts, e.g. 30s, 5m (default 0)')
    .option('--max-failures <n|p%>', 'failed hosts a wave may have before everything is rolled back (default 0)')
    .option('--rollout-max-failures <n|p%>', 'failed hosts the whole rollout may have (default: as --max-failures, over all hosts)')
    .option('--gate-after <waves>', 'pause for an operator after these waves (e.g. 1 or 1,2); rollwise deploy resume continues', waveList)
    .option('--concurrency <n>', 'hosts worked on at once in a wave (default 4)', wholeNumber('--concurrency'))
    .option('--host-timeout <duration>', 'a host call taking longer has an unknown outcome, resolved by a fresh snapshot (default 15m)')
    .option('--policy <policy>', 'how far a drifted host\'s re-solved changes may differ from the plan without a person: planned-only, revisions (other Debian revisions of the planned versions; default) or any')
    .option('--chroot', 'run apt, dpkg and maintainer scripts inside each directory root (complete Debian systems); without it, packages with maintainer scripts are refused on directory roots', false)
    .option('--deb-cache <dir>', 'where the former .debs are kept, a folder per deployment and host (default: debs/ beside the store)')
    .option('--checks <file>', 'the deployment\'s own checks (YAML: checks: a list of name, prometheus|http|command|alerts, success|failure, interval, canary), judged with those of the knowledge base\'s services the plan reaches')
    .option('--prometheus <url>', 'Prometheus for the checks\' queries (default: env ROLLWISE_PROMETHEUS_URL); checks that need it and no Prometheus: refused before anything is deployed')
    .option('--prometheus-host-label <label>', 'the label naming the host in Prometheus\' results (default: env ROLLWISE_PROMETHEUS_HOST_LABEL, else instance)')
    .option('--alerts-listen <[addr:]port>', 'receive Alertmanager\'s webhooks here (loopback) for checks that read alerts; point webhook_configs at http://127.0.0.1:PORT/alertmanager (default: env ROLLWISE_ALERTS_LISTEN; bearer token: env ROLLWISE_ALERTS_TOKEN)')
    .option('--store <file>', 'SQLite store')
    .option('--json', 'print the result as JSON (progress lines still go to stderr)')
    .addHelpText('after', '\nHosts come from the inventories the plan was made from: a host with root: DIR is a directory root on this machine, one with ssh: is reached over SSH. ' +
      'Every step is journaled before and after it runs; if this controller dies, rollwise deploy resume ID reconciles each host with a fresh snapshot and continues.\n' +
      'A failed host is rolled back at once; more failed hosts than the budget, a host that cannot be restored, or a failed verdict roll every changed host back (verified against its pre-deployment snapshot). An inconclusive verdict pauses.\n' +
      'Exit status: 0 succeeded or paused, 1 rolled back, aborted or needs attention, 2 bad input (nothing deployed).\n' +
      'Example: rollwise deploy 3fa2 --waves 1,50%,100% --bake 2m --max-failures 1 --hosts group=web')
    .action(async (planSpec: string, o: { hosts?: string; waves?: string; bake?: string; maxFailures?: string; rolloutMaxFailures?: string; gateAfter?: number[]; concurrency?: number; hostTimeout?: string; policy?: string; chroot: boolean; debCache?: string; checks?: string; prometheus?: string; prometheusHostLabel?: string; alertsListen?: string; store?: string; json?: boolean }) => {
      keepRunningWhenOutputCloses();
      const store = await openStore(o.store, { create: false });
      try {
        const run = await startDeployment({
          store: deployStore(store), plan: planSpec, ...(o.hosts ? { hosts: o.hosts } : {}), ...(o.waves ? { waves: o.waves } : {}), ...(o.bake ? { bake: o.bake } : {}),
          ...(o.maxFailures ? { maxFailures: o.maxFailures } : {}), ...(o.rolloutMaxFailures ? { rolloutMaxFailures: o.rolloutMaxFailures } : {}), ...(o.gateAfter ? { gateAfter: o.gateAfter } : {}),
          ...(o.concurrency ? { concurrency: o.concurrency } : {}), ...(o.hostTimeout ? { hostTimeout: o.hostTimeout } : {}), ...(o.policy ? { policy: o.policy } : {}),
          ...(o.checks ? { checks: o.checks } : {}), ...(o.prometheus ? { prometheus: o.prometheus } : {}), ...(o.prometheusHostLabel ? { prometheusHostLabel: o.prometheusHostLabel } : {}), ...(o.alertsListen ? { alertsListen: o.alertsListen } : {}),
          chroot: o.chroot, debCacheDir: o.debCache ?? defaultDebCache(o.store), onEvent: progressPrinter(o.json === true)!,
          onProgress: (t) => process.stderr.write(`${t}\n`),
        });
        if (o.json) process.stdout.write(JSON.stringify({ deployment: run.id, result: run.result }, null, 2) + '\n');
        else process.stdout.write(renderEngineResult(run.id, run.result, paletteFor()));
        process.exitCode = exitFor(run.result);
      } finally {
        await store.close();
      }
    });

  deploy
    .command('resume')
    .description('continue a paused deployment (or one whose controller died): each host with a step started and never ended is reconciled by a fresh snapshot first; a rollback in progress goes on')
    .argument('<deployment>', 'deployment id (or a unique prefix)')
    .option('--accept-resolutions', 'apply the re-solved changes of drifted hosts that wait for approval (without it those hosts are skipped)', false)
    .option('--chroot', 'as for deploy', false)
    .option('--deb-cache <dir>', 'as for deploy')
    .option('--prometheus <url>', 'Prometheus for the checks (default: env ROLLWISE_PROMETHEUS_URL, else the one the deployment started with)')
    .option('--alerts-listen <[addr:]port>', 'receive Alertmanager\'s webhooks here for checks that read alerts (default: env ROLLWISE_ALERTS_LISTEN)')
    .option('--store <file>', 'SQLite store')
    .option('--json', 'print the result as JSON')
    .action(async (id: string, o: { acceptResolutions: boolean; chroot: boolean; debCache?: string; prometheus?: string; alertsListen?: string; store?: string; json?: boolean }) => {
      keepRunningWhenOutputCloses();
      const store = await openStore(o.store, { create: false });
      try {
        const run = await resumeDeployment({ store: deployStore(store), deployment: id, debCacheDir: o.debCache ?? defaultDebCache(o.store), chroot: o.chroot, acceptResolutions: o.acceptResolutions, ...(o.prometheus ? { prometheus: o.prometheus } : {}), ...(o.alertsListen ? { alertsListen: o.alertsListen } : {}), onEvent: progressPrinter(o.json === true)!, onProgress: (t) => process.stderr.write(`${t}\n`) });
        if (o.json) process.stdout.write(JSON.stringify({ deployment: run.id, result: run.result }, null, 2) + '\n');
        else process.stdout.write(renderEngineResult(run.id, run.result, paletteFor()));
        process.exitCode = exitFor(run.result);
      } finally {
        await store.close();
      }
    });

  for (const action of ['pause', 'abort'] as const) {
    deploy
      .command(action)
      .description(action === 'pause'
        ? 'ask the controller running a deployment to pause: between hosts of a wave, or during a bake (rollwise deploy resume continues)'
        : 'stop a deployment and roll back every host it changed (the running controller does it; a paused deployment is rolled back here)')
      .argument('<deployment>', 'deployment id (or a unique prefix)')
      .option('--deb-cache <dir>', 'as for deploy')
      .option('--chroot', 'as for deploy', false)
      .option('--store <file>', 'SQLite store')
      .action(async (id: string, o: { debCache?: string; chroot: boolean; store?: string }) => {
        keepRunningWhenOutputCloses();
        const store = await openStore(o.store, { create: false });
        try {
          const r = await controlDeployment({ store: deployStore(store), deployment: id, action, debCacheDir: o.debCache ?? defaultDebCache(o.store), chroot: o.chroot, onEvent: progressPrinter(false)! });
          if (r.result) {
            process.stdout.write(renderEngineResult(r.id, r.result, paletteFor()));
            process.exitCode = exitFor(r.result);
          } else if (r.controller?.live) {
            process.stdout.write(`Deployment ${r.id}: ${action} requested; controller ${r.controller.holder} runs it (its lease runs until ${r.controller.expiresAt}) and acts before its next wave or host (rollwise deploy status ${r.id}).\n` +
              (action === 'abort'
                ? `  If that controller is gone, its lease expires at ${r.controller.expiresAt}; rollwise deploy abort ${r.id} then takes over and rolls back.\n`
                : `  If that controller is gone, its lease expires at ${r.controller.expiresAt}; then rollwise deploy resume ${r.id} continues, rollwise deploy abort ${r.id} rolls back.\n`));
          } else {
            process.stdout.write(`Deployment ${r.id}: ${action} requested; ${noControllerWords(r.id, r.controller?.live === false ? r.controller.expiredAt : undefined)}.\n`);
          }
        } finally {
          await store.close();
        }
      });
  }

  deploy
    .command('status')
    .description('where a deployment is: its status and each wave\'s hosts with their state (a host that could not be restored says what differs)')
    .argument('<deployment>', 'deployment id (or a unique prefix)')
    .option('--store <file>', 'SQLite store')
    .option('--json', 'print the status as JSON')
    .action(async (id: string, o: { store?: string; json?: boolean }) => {
      const store = await openStoreForReading(o.store);
      try {
        const v = await deploymentStatus(deployStore(store), id);
        if (o.json) process.stdout.write(JSON.stringify({ deployment: { ...v.deployment, spec: undefined }, waves: v.waves }, null, 2) + '\n');
        else process.stdout.write(renderDeploymentStatus(v, paletteFor()));
      } finally {
        await store.close();
      }
    });

  deploy
    .command('log')
    .description('the decisions of a deployment with their evidence: verdicts (metric, values, window, hosts), promotions, pauses, rollbacks, re-resolutions, skipped and restored hosts')
    .argument('<deployment>', 'deployment id (or a unique prefix)')
    .option('--all', 'every journal entry (steps and snapshots too)', false)
    .option('--store <file>', 'SQLite store')
    .option('--json', 'print the entries as JSON (snapshots without file contents)')
    .action(async (id: string, o: { all: boolean; store?: string; json?: boolean }) => {
      const store = await openStoreForReading(o.store);
      try {
        const v = await deploymentLog(deployStore(store), id, o.all);
        // file contents (config files may hold secrets) are never printed
        if (o.json) process.stdout.write(JSON.stringify({ deployment: v.deployment.id, status: v.deployment.status, entries: v.entries }, (k, val: unknown) => (k === 'contentBase64' ? undefined : val), 2) + '\n');
        else process.stdout.write(renderDeploymentLog(v, paletteFor()));
      } finally {
        await store.close();
      }
    });

  deploy
    .command('list')
    .description('the stored deployments, newest last')
    .option('--plan <id>', 'only the deployments of this plan')
    .option('--store <file>', 'SQLite store')
    .option('--json', 'print the list as JSON')
    .action(async (o: { plan?: string; store?: string; json?: boolean }) => {
      const store = await openStoreForReading(o.store);
      try {
        const list = await deployStore(store).listDeployments(o.plan);
        if (o.json) process.stdout.write(JSON.stringify(list, null, 2) + '\n');
        else process.stdout.write(renderDeploymentList(list, paletteFor()));
      } finally {
        await store.close();
      }
    });
}
