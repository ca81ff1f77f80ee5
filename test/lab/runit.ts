/** A runit supervisor per lab host: `runsvdir -P <root>/etc/service`. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { requireTool } from './process.js';

export interface Supervisor {
  svdir: string;
  process: ChildProcess;
  stop(): Promise<void>;
  stopSync(): void;
}

export function startSupervisor(svdir: string): Supervisor {
  const runsvdir = requireTool('runsvdir');
  requireTool('sv');
  mkdirSync(svdir, { recursive: true });
  const child = spawn(runsvdir, ['-P', svdir], { stdio: 'ignore', detached: true });
  const servicePids = (): number[] => {
    const pids: number[] = [];
    try {
      for (const name of readdirSync(svdir)) {
        try {
          const pid = Number(readFileSync(`${svdir}/${name}/supervise/pid`, 'utf8').trim());
          if (pid > 0) pids.push(pid);
        } catch {
          // not supervised yet
        }
      }
    } catch {
      // svdir gone
    }
    return pids;
  };
  const stopSync = (): void => {
    const pids = servicePids();
    try {
      if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGHUP');
    } catch {
      // gone
    }
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  };
  return {
    svdir,
    process: child,
    stopSync,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      const pids = servicePids();
      if (child.pid) process.kill(child.pid, 'SIGHUP');
      const timeout = new Promise<void>((r) => setTimeout(r, 3000).unref());
      await Promise.race([exited, timeout]);
      // runsv sends TERM to its service and exits; make sure nothing outlives the lab.
      await new Promise((r) => setTimeout(r, 50));
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    },
  };
}
