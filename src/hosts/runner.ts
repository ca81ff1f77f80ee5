/**
 * The command runner: the only place the hosts layer starts processes. Always an argument
 * array, never a shell string. The result is data: the process exited (with its code and
 * output), or the connection/process was lost (we cannot know what happened), or it could not
 * be started at all.
 */
import { spawn } from 'node:child_process';

export interface RunOptions {
  /** Bytes or text written to the command's standard input (then closed). */
  input?: string | Buffer;
  /** Extra environment variables for the command. */
  env?: Record<string, string>;
  /** Kill the command, with every process it started (its process group), after this many milliseconds; the result is then `lost`. */
  timeoutMs?: number;
  /** Working directory (local runners only). */
  cwd?: string;
  /**
   * Most bytes kept of stdout and of stderr each (default DEFAULT_MAX_OUTPUT_BYTES). A command that
   * writes more is never allowed to grow memory without bound; what happens to it is `onOversizedOutput`.
   */
  maxOutputBytes?: number;
  /**
   * `truncate` (default): keep the first bytes and let the command finish (an apt run must not be
   * killed half-way because it was chatty). `kill`: stop it at once; for read-only commands whose
   * answer is useless when cut.
   */
  onOversizedOutput?: 'truncate' | 'kill';
}

export type RunResult =
  | { kind: 'exited'; exitCode: number; stdout: string; stderr: string; durationMs: number; outputTruncated?: boolean }
  /** The process or the connection to the host went away: the command may or may not have run. */
  | { kind: 'lost'; reason: string; stdout: string; stderr: string; durationMs: number; outputTruncated?: boolean }
  /** The program could not be started (not installed, not executable): nothing ran. */
  | { kind: 'not-started'; reason: string; durationMs: number };

export interface CommandRunner {
  /** Human name of where commands run ("local", "ssh root@10.0.0.2"). */
  readonly where: string;
  run(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
}

export interface LocalRunnerOptions {
  /** Prepended to every command, e.g. ['ip', 'netns', 'exec', 'ns1']. Trusted, fixed data. */
  prefix?: readonly string[];
  /** Environment the commands start from (default: this process's). */
  baseEnv?: NodeJS.ProcessEnv;
}

/** What a command may print per stream before it is cut (tool output such as apt's is far smaller). */
export const DEFAULT_MAX_OUTPUT_BYTES = 32 * 1024 * 1024;
/** How long output may still arrive after the command exited before its pipes are closed. */
const PIPE_GRACE_MS = 1000;

/** Runs commands on this machine with child_process.spawn (argument arrays, no shell). */
export function createLocalRunner(options: LocalRunnerOptions = {}): CommandRunner {
  const prefix = options.prefix ?? [];
  return {
    where: prefix.length > 0 ? `local (${prefix.join(' ')})` : 'local',
    run: (argv, runOptions = {}) => spawnCollect([...prefix, ...argv], runOptions, options.baseEnv ?? process.env),
  };
}

/** Start a program and collect its output. Exported for the ssh runner, which also spawns locally. */
export function spawnCollect(
  argv: readonly string[],
  options: RunOptions,
  baseEnv: NodeJS.ProcessEnv,
  classify?: (exitCode: number, stderr: string) => 'exited' | 'lost',
): Promise<RunResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round((performance.now() - started) * 10) / 10;
  return new Promise((resolve) => {
    const [file, ...args] = argv;
    if (file === undefined) {
      resolve({ kind: 'not-started', reason: 'empty command', durationMs: 0 });
      return;
    }
    let child;
    try {
      child = spawn(file, args, {
        cwd: options.cwd,
        env: { ...baseEnv, ...options.env },
        stdio: ['pipe', 'pipe', 'pipe'],
        shell: false,
        // its own process group: a command stopped for its time or output is stopped with every
        // process it started (dpkg under apt-get, a shell's children), which could otherwise keep
        // changing the host after the step was reported lost
        detached: true,
      });
    } catch (e) {
      resolve({ kind: 'not-started', reason: (e as Error).message, durationMs: elapsed() });
      return;
    }
    const limit = Math.max(0, options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    let truncated = false;
    let timedOut = false;
    let settled = false;
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer =
      options.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            killGroup();
          }, options.timeoutMs)
        : undefined;
    // Keeps at most `limit` bytes of a stream (a chunk is cut, never kept whole past the limit).
    const keep = (chunks: Buffer[], had: number, b: Buffer): void => {
      if (had < limit) chunks.push(had + b.length <= limit ? b : b.subarray(0, limit - had));
      if (had + b.length > limit && !truncated) {
        truncated = true;
        if (options.onOversizedOutput === 'kill') killGroup();
      }
    };
    child.stdout.on('data', (b: Buffer) => {
      keep(out, outLen, b);
      outLen += b.length;
    });
    child.stderr.on('data', (b: Buffer) => {
      keep(err, errLen, b);
      errLen += b.length;
    });
    child.stdin.on('error', () => undefined);
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      resolve({ kind: 'not-started', reason: `${file}: ${e.code ?? e.message}`, durationMs: elapsed() });
    });
    // Settles on 'close' (all output read). A helper the command left behind (an ssh ProxyCommand's
    // background reader) can hold the pipes open after the command exited: then settle a moment
    // after the exit with what was read, instead of waiting for the helper. The exit may be seen
    // before the output is read (one child's SIGCHLD reaps every exited child, and a process starved
    // for longer than the grace runs its due timers before it polls the pipes again): the pipes are
    // given up only from setImmediate, after a poll phase that followed the timer has read whatever
    // they held, and never once both reached their end (then 'close' follows).
    let afterExit: NodeJS.Timeout | undefined;
    child.on('exit', (code, signal) => {
      afterExit = setTimeout(() => {
        setImmediate(() => {
          if (settled || (child.stdout.readableEnded && child.stderr.readableEnded)) return;
          child.stdout.destroy();
          child.stderr.destroy();
          settle(code, signal);
        });
      }, PIPE_GRACE_MS);
    });
    child.on('close', (code, signal) => settle(code, signal));
    const settle = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      if (afterExit) clearTimeout(afterExit);
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      const cut = truncated ? { outputTruncated: true } : {};
      if (truncated && options.onOversizedOutput === 'kill') {
        resolve({ kind: 'lost', reason: `output larger than ${limit} bytes: stopped`, stdout, stderr, durationMs: elapsed(), ...cut });
      } else if (timedOut) {
        resolve({ kind: 'lost', reason: `timed out after ${options.timeoutMs} ms`, stdout, stderr, durationMs: elapsed(), ...cut });
      } else if (code === null) {
        resolve({ kind: 'lost', reason: `killed by ${signal ?? 'a signal'}`, stdout, stderr, durationMs: elapsed(), ...cut });
      } else if (classify && classify(code, stderr) === 'lost') {
        resolve({ kind: 'lost', reason: lastLine(stderr) || `exit status ${code}`, stdout, stderr, durationMs: elapsed(), ...cut });
      } else {
        resolve({ kind: 'exited', exitCode: code, stdout, stderr, durationMs: elapsed(), ...cut });
      }
    };
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines[lines.length - 1] ?? '';
}

export interface RecordedCall {
  argv: string[];
  options: RunOptions;
}

/**
 * A runner for unit tests: records every call and answers with `respond` (default: exit 0, no
 * output). Used to prove that hostile input is rejected before any process is started.
 */
export function createRecordingRunner(
  respond: (argv: readonly string[], options: RunOptions) => RunResult | Promise<RunResult> = () => ({
    kind: 'exited',
    exitCode: 0,
    stdout: '',
    stderr: '',
    durationMs: 0,
  }),
  where = 'recording',
): CommandRunner & { calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  return {
    where,
    calls,
    run: async (argv, options = {}) => {
      calls.push({ argv: [...argv], options: { ...options } });
      return respond(argv, options);
    },
  };
}

/** Wraps a runner so every call is also recorded (the calls still run). */
export function createTracingRunner(inner: CommandRunner): CommandRunner & { calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  return {
    where: inner.where,
    calls,
    run: (argv, options = {}) => {
      calls.push({ argv: [...argv], options: { ...options } });
      return inner.run(argv, options);
    },
  };
}
