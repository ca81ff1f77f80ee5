/**
 * Reading possibly compressed index files as streams of bytes: plain, gzip (zlib), xz or lz4
 * (`xz -dc` / `lz4 -dc` spawned with an argument array, stdout streamed; apt keeps its lists as
 * .lz4 in /var/lib/apt/lists). The format is detected from the file's first bytes, not its name.
 */
import { execFile, spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { RollwiseError, excerpt } from '../../shared/index.js';

export type Compression = 'none' | 'gzip' | 'xz' | 'lz4';

const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
/** LZ4 frame format (what `lz4` and apt write). */
const LZ4_MAGIC = [0x04, 0x22, 0x4d, 0x18];

function ioError(path: string, e: unknown): RollwiseError {
  const err = e as NodeJS.ErrnoException;
  const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EISDIR' ? 'is a directory' : (err.message ?? String(e));
  return new RollwiseError('RW_IO', `cannot read ${path}: ${why}`, { cause: e, hint: 'check the path and its permissions' });
}

/** Detect the compression of a file from its magic bytes. */
export async function detectCompression(path: string): Promise<Compression> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw ioError(path, e);
  }
  try {
    const head = Buffer.alloc(6);
    const { bytesRead } = await fh.read(head, 0, 6, 0);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
    if (bytesRead >= 6 && XZ_MAGIC.every((b, i) => head[i] === b)) return 'xz';
    if (bytesRead >= 4 && LZ4_MAGIC.every((b, i) => head[i] === b)) return 'lz4';
    return 'none';
  } catch (e) {
    throw ioError(path, e);
  } finally {
    await fh.close();
  }
}

/** The decompressed bytes of a file, chunk by chunk. */
export async function* streamDecompressed(path: string): AsyncGenerator<Buffer> {
  const kind = await detectCompression(path);
  if (kind === 'xz' || kind === 'lz4') {
    yield* streamTool(path, TOOLS[kind]);
    return;
  }
  const raw = createReadStream(path);
  const source = kind === 'gzip' ? raw.pipe(createGunzip()) : raw;
  if (kind === 'gzip') raw.on('error', (e) => source.destroy(e));
  try {
    for await (const chunk of source) yield chunk as Buffer;
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith('Z_')) {
      throw new RollwiseError('RW_IO', `cannot decompress ${path}: ${(e as Error).message}`, { cause: e, hint: 'the file is not a valid gzip stream' });
    }
    throw ioError(path, e);
  }
}

/** The decompressing programs, and the Debian package each comes from. */
const TOOLS = {
  xz: { program: 'xz', package: 'xz-utils' },
  lz4: { program: 'lz4', package: 'lz4' },
} as const;

async function* streamTool(path: string, tool: { program: string; package: string }): AsyncGenerator<Buffer> {
  const child = spawn(tool.program, ['-dc', '--', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let spawnError: NodeJS.ErrnoException | undefined;
  const stderr: Buffer[] = [];
  child.stderr.on('data', (d: Buffer) => stderr.push(d));
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', (e) => { spawnError = e; resolve(null); });
    child.on('close', (code) => resolve(code));
  });
  try {
    for await (const chunk of child.stdout) yield chunk as Buffer;
  } catch (e) {
    if (!spawnError) throw ioError(path, e);
  }
  const code = await exited;
  if (spawnError) {
    if (spawnError.code === 'ENOENT') {
      throw new RollwiseError('RW_IO', `cannot decompress ${path}: the ${tool.program} program is not installed`, { hint: `apt-get install ${tool.package}` });
    }
    throw ioError(path, spawnError);
  }
  if (code !== 0) {
    const msg = Buffer.concat(stderr).toString('utf8').trim().split('\n')[0] ?? '';
    throw new RollwiseError('RW_IO', `cannot decompress ${path}: ${tool.program} exited with status ${code}${msg ? `: ${excerpt(msg, 120)}` : ''}`, { hint: `the file is not a valid ${tool.program} stream` });
  }
}

/**
 * The decompressed size, when cheap to know: a plain file's size, gzip's ISIZE trailer
 * (modulo 2^32), `xz --robot --list`. Only a hint for allocation; undefined when unknown.
 */
export async function decompressedSizeHint(path: string): Promise<number | undefined> {
  try {
    const kind = await detectCompression(path);
    const st = await stat(path);
    if (kind === 'none') return st.size;
    if (kind === 'gzip') {
      if (st.size < 18) return undefined;
      const fh = await open(path, 'r');
      try {
        const tail = Buffer.alloc(4);
        await fh.read(tail, 0, 4, st.size - 4);
        return tail.readUInt32LE(0);
      } finally {
        await fh.close();
      }
    }
    if (kind === 'lz4') return undefined;
    const out = await new Promise<string>((resolve) => {
      execFile('xz', ['--robot', '--list', '--', path], { encoding: 'utf8' }, (err, stdout) => resolve(err ? '' : stdout));
    });
    const totals = out.split('\n').find((l) => l.startsWith('totals\t'));
    const size = totals ? Number(totals.split('\t')[4]) : NaN;
    return Number.isSafeInteger(size) && size > 0 ? size : undefined;
  } catch {
    return undefined;
  }
}

/** The whole decompressed content of a file, in one buffer allocated once when the size is known. */
export async function readDecompressed(path: string): Promise<Buffer> {
  const hint = await decompressedSizeHint(path);
  let buf = Buffer.allocUnsafe(Math.min(hint ?? 1 << 20, 1 << 30) || 1024);
  let n = 0;
  for await (const c of streamDecompressed(path)) {
    if (n + c.length > buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(buf.length * 2, n + c.length));
      buf.copy(grown, 0, 0, n);
      buf = grown;
    }
    c.copy(buf, n);
    n += c.length;
  }
  return buf.subarray(0, n);
}
