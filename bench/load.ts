/**
 * `npm run bench:load`: load Debian 12 main (63,440 packages) into a universe and compare with
 * libsolv reading the same decompressed file through python3-solv.
 *
 * Each run happens in fresh child processes so that every peak RSS is that run's own:
 * - ours (node): decompression (xz -dc streamed into one buffer), parsing (byte fast path into
 *   the builder: interning, relations), indexing (build(): CSR layout, versions order, who-provides);
 *   wall time of each phase and the process's peak RSS at the end of each phase (cumulative:
 *   a process's peak only grows);
 * - libsolv: `repo.add_debpackages(file)` (parse) and `pool.createwhatprovides()` (index) on the
 *   decompressed file, timed inside /usr/bin/python3, its peak RSS from getrusage.
 * The figures printed are the best of RUNS runs (default 3; the machine is shared), and the
 * ratio is ours (parse + index) over libsolv (parse + index) and over libsolv's parse alone.
 *
 * Usage: npm run bench:load [-- --runs N] [--index PATH] [--records]
 *   --records also times the record importer (loadDebianIndex → PackageRecord[]), the slow path
 *   `kb stats` uses.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const DEFAULT_INDEX = resolve(here, '../../shared/data/debian/bookworm-main-amd64.Packages.xz');

/** Wall time, CPU time (user + system, all threads of the process) and the process's peak RSS so far. */
interface Phase { ms: number; cpuMs: number; peakMB: number }
interface OursResult { decompress: Phase; parse: Phase; index: Phase; packages: number; bytes: number; records?: Phase }
interface SolvResult { parse: Phase; index: Phase; packages: number }

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function child(indexPath: string, rawPath: string, withRecords: boolean): Promise<void> {
  const { readDecompressed, loadDebianIndex } = await import('../src/kb/index.js');
  const { createUniverseBuilder, addDebianPackagesFast } = await import('../src/universe/index.js');
  const peak = (): number => process.resourceUsage().maxRSS / 1024;
  const cpu = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
  let t = performance.now();
  let c = cpu();
  const bytes = await readDecompressed(indexPath);
  const decompress = { ms: performance.now() - t, cpuMs: cpu() - c, peakMB: peak() };
  t = performance.now();
  c = cpu();
  const builder = createUniverseBuilder();
  const { packages } = addDebianPackagesFast(builder, bytes, indexPath, { name: 'debian:bookworm-main' });
  const parse = { ms: performance.now() - t, cpuMs: cpu() - c, peakMB: peak() };
  t = performance.now();
  c = cpu();
  const universe = builder.build();
  const index = { ms: performance.now() - t, cpuMs: cpu() - c, peakMB: peak() };
  if (universe.pvCount !== packages) throw new Error('package count mismatch');
  const out: OursResult = { decompress, parse, index, packages, bytes: bytes.length };
  if (withRecords) {
    t = performance.now();
    c = cpu();
    const { records } = await loadDebianIndex(indexPath);
    out.records = { ms: performance.now() - t, cpuMs: cpu() - c, peakMB: peak() };
    if (records.length !== packages) throw new Error('record count mismatch');
  }
  void rawPath;
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

const SOLV_SCRIPT = `
import sys, time, resource, json
import solv
def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return (r.ru_utime + r.ru_stime) * 1000
pool = solv.Pool()
pool.setarch('x86_64')
repo = pool.add_repo('bookworm')
t = time.perf_counter(); c = cpu()
f = solv.xfopen(sys.argv[1])
repo.add_debpackages(f)
f.close()
parse = {'ms': (time.perf_counter() - t) * 1000, 'cpuMs': cpu() - c, 'peakMB': peak()}
t = time.perf_counter(); c = cpu()
pool.createwhatprovides()
index = {'ms': (time.perf_counter() - t) * 1000, 'cpuMs': cpu() - c, 'peakMB': peak()}
print(json.dumps({'parse': parse, 'index': index, 'packages': repo.nsolvables}))
`;

function runOurs(indexPath: string, rawPath: string, withRecords: boolean): OursResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', indexPath, rawPath, ...(withRecords ? ['--records'] : [])], {
    encoding: 'utf8', maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`benchmark child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as OursResult;
}

function runSolv(rawPath: string, scriptPath: string): SolvResult {
  const r = spawnSync('/usr/bin/python3', [scriptPath, rawPath], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new Error(`libsolv run failed (${r.error?.message ?? r.stderr.trim()}): apt-get install python3-solv`);
  }
  return JSON.parse(r.stdout.trim()) as SolvResult;
}

function best<T>(runs: T[], key: (r: T) => number): T {
  return runs.reduce((a, b) => (key(b) < key(a) ? b : a));
}

function fmt(p: Phase): string {
  return `${p.ms.toFixed(0).padStart(6)} ms wall ${p.cpuMs.toFixed(0).padStart(6)} ms cpu   peak RSS ${p.peakMB.toFixed(0).padStart(4)} MB`;
}

function sum(a: Phase, b: Phase): Phase {
  return { ms: a.ms + b.ms, cpuMs: a.cpuMs + b.cpuMs, peakMB: Math.max(a.peakMB, b.peakMB) };
}

async function main(): Promise<void> {
  if (process.argv.includes('--child')) {
    const i = process.argv.indexOf('--child');
    await child(process.argv[i + 1]!, process.argv[i + 2]!, process.argv.includes('--records'));
    return;
  }
  const indexPath = resolve(arg('--index') ?? DEFAULT_INDEX);
  const runs = Number(arg('--runs') ?? 3);
  const withRecords = process.argv.includes('--records');
  const tmp = mkdtempSync(join(tmpdir(), 'rw-bench-load-'));
  try {
    // The decompressed file both sides read (libsolv reads it; ours decompresses itself, timed).
    const rawPath = join(tmp, 'Packages');
    const xz = spawnSync('xz', ['-dc', '--', indexPath], { maxBuffer: 1 << 30 });
    if (xz.error || xz.status !== 0) throw new Error(`cannot decompress ${indexPath}: ${xz.error?.message ?? xz.stderr.toString()} (apt-get install xz-utils)`);
    writeFileSync(rawPath, xz.stdout);
    const scriptPath = join(tmp, 'libsolv_load.py');
    writeFileSync(scriptPath, SOLV_SCRIPT);
    const ours: OursResult[] = [];
    const solv: SolvResult[] = [];
    for (let i = 0; i < runs; i++) {
      ours.push(runOurs(indexPath, rawPath, withRecords));
      solv.push(runSolv(rawPath, scriptPath));
      const o = ours[i]!;
      const s = solv[i]!;
      console.log(`run ${i + 1}: ours parse+index ${(o.parse.ms + o.index.ms).toFixed(0)} ms wall ${(o.parse.cpuMs + o.index.cpuMs).toFixed(0)} ms cpu (decompress ${o.decompress.ms.toFixed(0)} ms), libsolv parse+index ${(s.parse.ms + s.index.ms).toFixed(0)} ms wall ${(s.parse.cpuMs + s.index.cpuMs).toFixed(0)} ms cpu`);
    }
    const o = best(ours, (r) => r.parse.ms + r.index.ms);
    const od = best(ours, (r) => r.decompress.ms);
    const s = best(solv, (r) => r.parse.ms + r.index.ms);
    const oursTotal = o.parse.ms + o.index.ms;
    const solvTotal = s.parse.ms + s.index.ms;
    const size = readFileSync(rawPath).length;
    console.log('');
    console.log(`bench:load: ${indexPath} (${(size / 1e6).toFixed(1)} MB decompressed, ${o.packages} packages), best of ${runs} runs`);
    console.log(`  rollwise decompression (xz -dc) ${fmt(od.decompress)}`);
    console.log(`  rollwise parsing               ${fmt(o.parse)}`);
    console.log(`  rollwise indexing              ${fmt(o.index)}`);
    console.log(`  rollwise parse+index           ${fmt(sum(o.parse, o.index))}`);
    if (o.records) console.log(`  rollwise record importer       ${fmt(o.records)}  (PackageRecord[] path, for kb stats)`);
    console.log(`  libsolv add_debpackages        ${fmt(s.parse)}`);
    console.log(`  libsolv createwhatprovides     ${fmt(s.index)}`);
    console.log(`  libsolv parse+index            ${fmt(sum(s.parse, s.index))}  (${s.packages} solvables)`);
    console.log(`  ratio parse+index rollwise/libsolv, wall: ${(oursTotal / solvTotal).toFixed(2)}x   (vs libsolv parse only: ${(oursTotal / s.parse.ms).toFixed(2)}x; target <= 1.5x)`);
    const oc = Math.min(...ours.map((r) => r.parse.cpuMs + r.index.cpuMs));
    const sc = Math.min(...solv.map((r) => r.parse.cpuMs + r.index.cpuMs));
    console.log(`  ratio parse+index rollwise/libsolv, cpu (best of each): ${(oc / sc).toFixed(2)}x   (${oc.toFixed(0)} ms vs ${sc.toFixed(0)} ms; node's cpu includes its GC and JIT threads)`);
    console.log(`  load average at the end: ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} cores`);
    console.log(`  peak RSS rollwise/libsolv: ${(o.index.peakMB / s.index.peakMB).toFixed(1)}x   (target <= 400 MB: ${o.index.peakMB <= 400 ? 'met' : 'MISSED'})`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
