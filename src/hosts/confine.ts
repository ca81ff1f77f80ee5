/**
 * Paths inside a directory root, resolved the way the root's own system would see them: every
 * symbolic link is followed *inside* the root (an absolute target starts again at the root, as
 * under chroot or `dpkg --root`), and `..` never climbs above it (a path or link that tries is
 * refused). Real packages ship links such as `/var/run -> /run` or `/lib -> usr/lib`; followed by
 * the kernel from outside, they would lead out of the root and make Rollwise read or write the
 * machine's own files.
 *
 * Two implementations of the same walk:
 * - CONFINED_FILE_SCRIPT, a POSIX shell script run through the driver's command runner (so it
 *   works on this machine and over SSH): read a file's state, read its content, write it
 *   atomically, remove it;
 * - the node:fs functions below, for preparing a root on this machine.
 * The last component of a path is not followed when writing or removing (the rename replaces the
 * entry itself) nor when recording a file's state (a link is reported as one). A link changed
 * while a file is being read or written (a race inside the root) is outside what this guards.
 */
import { lstat, mkdir, readlink, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RollwiseError } from '../shared/index.js';
import { assertHostPath } from './validate.js';

/** Exit status of CONFINED_FILE_SCRIPT when it refuses a path (it would leave the root). */
export const CONFINED_REFUSED_EXIT = 86;

/** The most links one path may go through (the kernel's own limit). */
const MAX_LINKS = 40;

/**
 * `sh -c CONFINED_FILE_SCRIPT rollwise-file OP ROOT PATH [MODE]`; ROOT is empty for the system
 * itself. OP:
 * - `stat`: prints `absent`, `present <octal mode>` and the base64 content on the next line, or
 *   `other <file type>` (the last component is not followed);
 * - `read`: prints `absent`, or `present` and the content on the next lines (follows the last link);
 * - `write`: writes stdin to a new file beside PATH and renames it over PATH (mode MODE), making
 *   missing directories; prints the resolved path it wrote;
 * - `remove`: removes PATH if it exists;
 * - `sides SUFFIX...`: prints each SUFFIX for which PATH+SUFFIX is a regular file (the side files
 *   dpkg and ucf leave beside a config file, in the same directory);
 * - `remove-sides SUFFIX...`: removes PATH+SUFFIX for each SUFFIX (files and links, never a directory);
 * - `check`: refuses PATH when the kernel, following its links from outside the root (as a tool
 *   given `<root>/PATH` does), would reach another place than the walk inside the root;
 * - `resolve`: as `stat` without reading: `absent`, `other <file type>`, or `file` and the
 *   resolved path on the next line (for the batch read, confinedStatListCommand).
 * Exits CONFINED_REFUSED_EXIT with a `rollwise: ` line on stderr when PATH leads out of the root.
 */
export const CONFINED_FILE_SCRIPT = [
  'set -u',
  'op=$1 root=$2 p=$3 mode=${4:-}',
  'shift 3',
  `refuse() { printf 'rollwise: %s\\n' "$*" >&2; exit ${CONFINED_REFUSED_EXIT}; }`,
  `bad() { printf 'rollwise: %s\\n' "$*" >&2; exit 1; }`,
  'follow=0; case $op in read|check) follow=1 ;; esac',
  'cur= rest=${p#/} links=0 name= f=',
  'while :; do',
  '  case $rest in',
  '    */*) c=${rest%%/*}; rest=${rest#*/} ;;',
  '    *) c=$rest; rest= ;;',
  '  esac',
  '  case $c in',
  '    ""|.) [ -n "$rest" ] && continue; refuse "$p does not name a file" ;;',
  '    ..) [ -n "$cur" ] || refuse "$p leads out of the root (through ..)"',
  '      cur=${cur%/*}; [ -n "$rest" ] && continue; refuse "$p does not name a file" ;;',
  '  esac',
  '  here=$root$cur/$c',
  '  if [ -L "$here" ] && { [ -n "$rest" ] || [ "$follow" = 1 ]; }; then',
  '    links=$((links + 1))',
  `    [ "$links" -le ${MAX_LINKS} ] || refuse "$p: too many levels of symbolic links"`,
  '    t=$(readlink -- "$here") || exit 1',
  '    case $t in /*) cur= ;; esac',
  '    if [ -n "$rest" ]; then rest=$t/$rest; else rest=$t; fi',
  '    continue',
  '  fi',
  '  if [ -z "$rest" ]; then name=$c; break; fi',
  '  if [ ! -d "$here" ]; then',
  '    [ -e "$here" ] && bad "$cur/$c (in $p) is not a directory"',
  '    case $op in',
  '      write) mkdir -m 755 -- "$here" || exit 1 ;;',
  '      check) f=$here/$rest; break ;;',
  '      *) echo absent; exit 0 ;;',
  '    esac',
  '  fi',
  '  cur=$cur/$c',
  'done',
  '[ -n "$f" ] || f=$root$cur/$name',
  'case $op in',
  '  stat)',
  '    if [ -L "$f" ]; then echo "other symbolic link"',
  '    elif [ -f "$f" ]; then m=$(stat -c %a -- "$f") || exit 1; printf "present %s\\n" "$m"; base64 -w 0 -- "$f" || exit 1',
  '    elif [ -e "$f" ]; then printf "other %s\\n" "$(stat -c %F -- "$f")"',
  '    else echo absent; fi ;;',
  '  resolve)',
  '    if [ -L "$f" ]; then echo "other symbolic link"',
  '    elif [ -f "$f" ]; then printf "file\\n%s\\n" "$f"',
  '    elif [ -e "$f" ]; then printf "other %s\\n" "$(stat -c %F -- "$f")"',
  '    else echo absent; fi ;;',
  '  read) if [ -f "$f" ]; then echo present; cat -- "$f" || exit 1; else echo absent; fi ;;',
  '  write) umask 077; t=$(mktemp -- "$root$cur/.rollwise-XXXXXXXX") || exit 1',
  '    if cat > "$t" && chmod -- "$mode" "$t" && mv -f -T -- "$t" "$f"; then printf "%s\\n" "$f"; exit 0; fi',
  '    rm -f -- "$t"; exit 1 ;;',
  '  remove) rm -f -- "$f" || exit 1 ;;',
  '  sides) for s; do if [ -f "$f$s" ] && [ ! -L "$f$s" ]; then printf "%s\\n" "$s"; fi; done ;;',
  '  remove-sides) for s; do if [ -L "$f$s" ] || [ -f "$f$s" ]; then rm -f -- "$f$s" || exit 1; fi; done ;;',
  '  check) k=$(realpath -m -- "$root$p") && c=$(realpath -m -- "$f") || exit 1',
  '    [ "$k" = "$c" ] || refuse "$p: the kernel would follow a link out of the root (to $k)"; echo "$c" ;;',
  '  *) bad "unknown operation $op" ;;',
  'esac',
].join('\n');

/** The argument vector running CONFINED_FILE_SCRIPT (root '' for the system itself). */
export function confinedFileCommand(op: 'stat' | 'read' | 'write' | 'remove' | 'check', root: string, hostPath: string, mode?: number): string[] {
  const argv = ['sh', '-c', CONFINED_FILE_SCRIPT, 'rollwise-file', op, root, hostPath];
  if (op === 'write') argv.push((mode ?? 0o644).toString(8).padStart(4, '0'));
  return argv;
}

const SUFFIX = /^\.[a-z]+(-[a-z]+)?$/;

/** The argument vector listing (`sides`) or removing (`remove-sides`) the side files of `hostPath` with these suffixes. */
export function confinedSidesCommand(op: 'sides' | 'remove-sides', root: string, hostPath: string, suffixes: readonly string[]): string[] {
  for (const s of suffixes) if (!SUFFIX.test(s)) throw new Error(`not a side-file suffix: ${JSON.stringify(s)}`);
  return ['sh', '-c', CONFINED_FILE_SCRIPT, 'rollwise-file', op, root, hostPath, ...suffixes];
}

/**
 * One command listing the side files of many paths: prints `== PATH`, then the suffixes present
 * beside it (nothing for a path that would leave the root: reading that path is refused anyway).
 */
export function confinedSidesListCommand(root: string, hostPaths: readonly string[], suffixes: readonly string[]): string[] {
  for (const s of suffixes) if (!SUFFIX.test(s)) throw new Error(`not a side-file suffix: ${JSON.stringify(s)}`);
  const loop = [
    'script=$1 root=$2 n=$3; shift 3',
    'i=0; suffixes=',
    // the first n arguments are the suffixes (letters and dashes only: safe unquoted), the rest paths
    'while [ "$i" -lt "$n" ]; do suffixes="$suffixes $1"; shift; i=$((i + 1)); done',
    // each path's walk runs in a subshell of this shell (no program started per path)
    'for p; do printf "== %s\\n" "$p"; (set -- sides "$root" "$p" $suffixes; eval "$script") 2>/dev/null || true; done',
  ].join('\n');
  return ['sh', '-c', loop, 'rollwise-sides', CONFINED_FILE_SCRIPT, root, String(suffixes.length), ...suffixes, ...hostPaths];
}

/**
 * One command recording the state of many paths, each resolved inside the root by the same walk
 * (CONFINED_FILE_SCRIPT's `resolve`, run in a subshell of one shell: no program started per
 * path), then every regular file's mode and size by one `stat` and all their contents by one
 * `cat | base64`: a snapshot of hundreds of conffiles starts a handful of processes, not a few
 * per file. Prints, NUL-separated: for each path, PATH, what `resolve` printed (or its refusal),
 * its exit status; then `stat`'s `MODE SIZE` lines for the files, in order; then the base64 of
 * their concatenated contents (parseStatList splits it by the sizes).
 */
export function confinedStatListCommand(root: string, hostPaths: readonly string[]): string[] {
  const loop = [
    'script=$1 root=$2; shift 2',
    'set -f; n=0',
    'for p; do',
    '  printf "%s\\0" "$p"',
    // the command substitution is the subshell the walk runs (and exits) in
    '  out=$(set -- resolve "$root" "$p"; eval "$script" 2>&1); rc=$?',
    '  printf "%s\\0%d\\0" "$out" "$rc"',
    '  case $rc:$out in 0:file*) n=$((n + 1)); eval "f$n=\\${out#file?}" ;; esac',
    'done',
    'set --; i=1; while [ "$i" -le "$n" ]; do eval "set -- \\"\\$@\\" \\"\\$f$i\\""; i=$((i + 1)); done',
    'printf "\\0"',
    '[ "$#" -gt 0 ] || exit 0',
    'stat -c "%a %s" -- "$@" || exit 1',
    'printf "\\0"',
    'cat -- "$@" | base64 -w 0 || exit 1',
  ].join('\n');
  return ['sh', '-c', loop, 'rollwise-stats', CONFINED_FILE_SCRIPT, root, ...hostPaths];
}

export type StatListEntry = { kind: 'absent' } | { kind: 'file'; mode: number; contentBase64: string } | { kind: 'other'; what: string } | { kind: 'refused'; message: string } | { kind: 'failed'; message: string };

/** The answer of confinedStatListCommand (exit status 0), by path; a string says why it cannot be read. */
export function parseStatList(hostPaths: readonly string[], stdout: string): Map<string, StatListEntry> | string {
  const fields = stdout.split('\0');
  const out = new Map<string, StatListEntry>();
  const files: string[] = [];
  let i = 0;
  for (; i + 2 < fields.length && fields[i] !== ''; i += 3) {
    const p = fields[i]!;
    const text = fields[i + 1]!;
    const code = Number(fields[i + 2]);
    if (!hostPaths.includes(p) || out.has(p)) return `unexpected path in the answer: ${JSON.stringify(p.slice(0, 200))}`;
    if (code === CONFINED_REFUSED_EXIT) out.set(p, { kind: 'refused', message: text.trim().replace(/^rollwise: /gm, '') || 'the path leads out of the root' });
    else if (code !== 0) out.set(p, { kind: 'failed', message: text.trim().slice(-2000) });
    else if (text === 'absent') out.set(p, { kind: 'absent' });
    else if (text.startsWith('other ')) out.set(p, { kind: 'other', what: text.slice('other '.length).trim() });
    else if (text.startsWith('file\n')) files.push(p);
    else return `unexpected answer for ${p}: ${JSON.stringify(text.slice(0, 200))}`;
  }
  if (out.size + files.length !== new Set(hostPaths).size) return `the answer names ${out.size + files.length} of ${hostPaths.length} paths`;
  if (files.length === 0) return out;
  const stats = (fields[i + 1] ?? '').split('\n').filter((l) => l !== '');
  const content = Buffer.from(fields[i + 2] ?? '', 'base64');
  if (stats.length !== files.length) return `stat answered for ${stats.length} of ${files.length} files`;
  let at = 0;
  for (const [k, p] of files.entries()) {
    const m = /^([0-7]+) (\d+)$/.exec(stats[k]!);
    if (!m) return `unexpected stat answer ${JSON.stringify(stats[k])}`;
    const size = Number(m[2]);
    out.set(p, { kind: 'file', mode: parseInt(m[1]!, 8), contentBase64: content.subarray(at, at + size).toString('base64') });
    at += size;
  }
  if (at !== content.length) return 'a file changed size while it was read';
  return out;
}

function refused(hostPath: string, why: string): RollwiseError {
  return new RollwiseError('RW_HOST', `${JSON.stringify(hostPath)} ${why}`, {
    hint: 'paths and links inside a directory root are resolved inside it; fix or remove the link that leads out',
  });
}

/**
 * The physical path of `hostPath` inside `root` on this machine, every link resolved inside the
 * root (the last one only with `followLast`); with `create`, missing directories on the way are
 * made. Undefined when a directory on the way is missing (and `create` is not set).
 */
export async function resolveInRoot(root: string, hostPath: string, options: { create?: boolean; followLast?: boolean } = {}): Promise<string | undefined> {
  assertHostPath(hostPath);
  const base = root.replace(/\/+$/, '');
  let cur = '';
  let rest = hostPath.split('/').filter((s) => s !== '');
  let links = 0;
  if (rest.length === 0) throw refused(hostPath, 'does not name a file');
  for (;;) {
    const c = rest[0]!;
    rest = rest.slice(1);
    const last = rest.length === 0;
    if (c === '.' || c === '..') {
      if (c === '..') {
        if (cur === '') throw refused(hostPath, 'leads out of the root (through ..)');
        cur = cur.slice(0, cur.lastIndexOf('/'));
      }
      if (last) throw refused(hostPath, 'does not name a file');
      continue;
    }
    const here = `${base}${cur}/${c}`;
    const st = await lstat(here).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    if (st?.isSymbolicLink() && (!last || options.followLast)) {
      if (++links > MAX_LINKS) throw refused(hostPath, 'goes through too many levels of symbolic links');
      const t = await readlink(here);
      if (t.startsWith('/')) cur = '';
      rest = [...t.split('/').filter((s) => s !== ''), ...rest];
      if (rest.length === 0) throw refused(hostPath, 'does not name a file');
      continue;
    }
    if (last) return `${base}${cur}/${c}`;
    if (!st) {
      if (!options.create) return undefined;
      await mkdir(here, { mode: 0o755 });
    } else if (!st.isDirectory()) {
      throw new RollwiseError('RW_HOST', `${cur}/${c} (in ${hostPath}) is not a directory`, { hint: 'a path inside a root goes through directories of that root; fix the root\'s layout' });
    }
    cur = `${cur}/${c}`;
  }
}

/** Make a directory (and its parents) inside the root. */
export async function makeDirectoryInRoot(root: string, hostPath: string): Promise<void> {
  const p = await resolveInRoot(root, hostPath, { create: true, followLast: true });
  const st = await lstat(p!).catch(() => undefined);
  if (!st) await mkdir(p!, { mode: 0o755 });
  else if (!st.isDirectory()) throw new RollwiseError('RW_HOST', `${hostPath} in ${root} is not a directory`, { hint: 'a path inside a root goes through directories of that root; fix the root\'s layout' });
}

/**
 * Write a file inside the root: a new file beside it (never through an existing link), renamed
 * over the path. With `keepExisting`, an existing regular file is left as it is.
 */
export async function writeFileInRoot(root: string, hostPath: string, content: string | Buffer, options: { mode?: number; keepExisting?: boolean } = {}): Promise<void> {
  const p = (await resolveInRoot(root, hostPath, { create: true }))!;
  if (options.keepExisting) {
    const st = await lstat(p).catch(() => undefined);
    if (st?.isFile()) return;
    if (st) throw new RollwiseError('RW_HOST', `${hostPath} in ${root} is not a regular file`, { hint: 'rollwise reads and writes only regular files inside a root (never devices, sockets or directories)' });
  }
  const tmp = path.join(path.dirname(p), `.rollwise-${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    await writeFile(tmp, content, { flag: 'wx', mode: options.mode ?? 0o644 });
    await rename(tmp, p);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
