// The local command runner's output collection when the process running it is starved: output a
// command's pipes already hold is never dropped because the grace period after the exit ran out
// before the pipes were polled again (under load a dpkg-query's whole answer was lost that way and
// read as "no packages installed"); a helper that keeps the pipes open still does not hold the result;
// a timeout stops the command's whole process group.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createLocalRunner } from '../../src/hosts/index.js';

/** Blocks this process's event loop, as a starved process (or a slow fork of the next command) does. */
function stall(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy
  }
}

describe('the local runner under a starved event loop', () => {
  it('keeps output that reached the pipes after the exit was seen, when the grace period expired before the next poll', async () => {
    // the shell exits at once; its background child writes a moment later and then closes the pipes
    const pending = createLocalRunner().run(['sh', '-c', '(sleep 0.2; echo "the answer") & exit 0']);
    // the loop is blocked from before the write until well past the grace period after the exit, in
    // the check phase: the next iteration runs its due timers before it polls the pipes
    await new Promise<void>((r) => setTimeout(() => setImmediate(() => {
      stall(2500);
      r();
    }), 100));
    const r = await pending;
    expect(r).toMatchObject({ kind: 'exited', exitCode: 0, stdout: 'the answer\n' });
  });

  it('a command stopped for its time is stopped with the processes it started', async () => {
    // the shell starts a child that would outlive it, prints its pid, and waits
    const r = await createLocalRunner().run(['sh', '-c', 'sleep 600 & echo $!; wait'], { timeoutMs: 1000 });
    expect(r.kind).toBe('lost');
    const pid = Number(r.kind === 'lost' ? r.stdout.trim() : NaN);
    expect(pid).toBeGreaterThan(1);
    // killed: gone, or a zombie until init reaps it
    let state = 'gone';
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    } catch {
      // gone
    }
    expect(['gone', 'Z', 'X']).toContain(state);
  });

  it('still settles when a helper the command left behind holds the pipes, with what was printed before', async () => {
    const r = await createLocalRunner().run(['sh', '-c', 'echo early; sleep 4 & exit 0']);
    expect(r).toMatchObject({ kind: 'exited', exitCode: 0, stdout: 'early\n' });
  });
});
