/**
 * Tear-down that also happens after a failure: every lab registers a synchronous cleanup that
 * runs on process exit, in addition to its own async destroy().
 */
const cleanups = new Map<number, () => void>();
let next = 1;
let hooked = false;

export function registerExitCleanup(fn: () => void): () => void {
  const id = next++;
  cleanups.set(id, fn);
  if (!hooked) {
    hooked = true;
    process.on('exit', runAllCleanups);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(sig, () => {
        runAllCleanups();
        process.kill(process.pid, sig);
      });
    }
  }
  return () => cleanups.delete(id);
}

function runAllCleanups(): void {
  for (const [id, fn] of [...cleanups]) {
    cleanups.delete(id);
    try {
      fn();
    } catch {
      // keep cleaning the rest
    }
  }
}
