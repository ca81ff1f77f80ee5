/**
 * dpkg `status` files (/var/lib/dpkg/status) → InstalledRecord[]: a host's installed set, with
 * each package's status triple, its conffiles (path, md5, obsolete) and its relations.
 */
import { readFile } from 'node:fs/promises';
import { RollwiseError, excerpt } from '../../shared/index.js';
import type { InstalledRecord, Provenance } from '../model.js';
import { F, scanControl } from './control.js';
import { StanzaReader } from './debian.js';

export const DPKG_WANTS = ['unknown', 'install', 'hold', 'deinstall', 'purge'] as const;
export const DPKG_FLAGS = ['ok', 'reinstreq'] as const;
export const DPKG_STATUSES = [
  'not-installed', 'config-files', 'half-installed', 'unpacked', 'half-configured', 'triggers-awaited', 'triggers-pending', 'installed',
] as const;

/** True when dpkg considers the package present on the host (anything but not-installed / config-files). */
export function isInstalledStatus(status: string): boolean {
  const word = status.slice(status.lastIndexOf(' ') + 1);
  return word !== 'not-installed' && word !== 'config-files';
}

export interface DpkgStatusOptions {
  /** Host name for the provenance layer `installed:<host>`. Default `localhost`. */
  host?: string;
  hostArch?: string;
}

/**
 * Parse the text of a dpkg status file. Every entry with a version is returned (config-files
 * ones too); filter with isInstalledStatus for the installed set. Errors: RW_STATUS_PARSE with file:line:column. */
export function parseDpkgStatus(content: Buffer | string, file: string, options: DpkgStatusOptions = {}): InstalledRecord[] {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const reader = new StanzaReader('RW_STATUS_PARSE', options.hostArch);
  const provenance: Provenance = { layer: `installed:${options.host ?? 'localhost'}`, source: file, trust: 'observed' };
  const out: InstalledRecord[] = [];
  scanControl(bytes.toString('latin1'), file, (st) => {
    const status = reader.required(st, F.Status, 'Status');
    const words = status.split(/\s+/);
    const statusPos = st.positionOfField(F.Status);
    if (words.length !== 3) {
      throw new RollwiseError('RW_STATUS_PARSE', `Status must have three words (want flag status), found '${excerpt(status)}'`, { position: statusPos, hint: 'e.g. Status: install ok installed' });
    }
    const [want, flag, state] = words as [string, string, string];
    if (!(DPKG_WANTS as readonly string[]).includes(want)) throw new RollwiseError('RW_STATUS_PARSE', `unknown want '${excerpt(want)}' in Status`, { position: statusPos, hint: `one of ${DPKG_WANTS.join(', ')}` });
    if (!(DPKG_FLAGS as readonly string[]).includes(flag)) throw new RollwiseError('RW_STATUS_PARSE', `unknown flag '${excerpt(flag)}' in Status`, { position: { ...statusPos, column: statusPos.column + want.length + 1 }, hint: `one of ${DPKG_FLAGS.join(', ')}` });
    if (!(DPKG_STATUSES as readonly string[]).includes(state)) throw new RollwiseError('RW_STATUS_PARSE', `unknown status '${excerpt(state)}' in Status`, { position: { ...statusPos, column: statusPos.column + want.length + flag.length + 2 }, hint: `one of ${DPKG_STATUSES.join(', ')}` });
    // A not-installed entry (e.g. only a selection) may carry no version: it is not part of the installed set.
    if (state === 'not-installed' && !st.has(F.Version)) return;
    const record = reader.record(st, provenance, isInstalledStatus(state) ? undefined : 'all');
    out.push({ name: record.name, version: record.version, architecture: record.architecture, status: words.join(' '), conffiles: parseConffiles(st, reader), record });
  }, { errorCode: 'RW_STATUS_PARSE', bytes });
  return out;
}

function parseConffiles(st: import('./control.js').ControlStanza, reader: StanzaReader): InstalledRecord['conffiles'] {
  const out: InstalledRecord['conffiles'] = [];
  const s = st.start[F.Conffiles]!;
  if (s < 0) return out;
  const text = st.text;
  const end = st.end[F.Conffiles]!;
  let pos = s;
  while (pos < end) {
    let eol = text.indexOf('\n', pos);
    if (eol < 0 || eol > end) eol = end;
    const lineText = text.slice(pos, eol).trim();
    if (lineText.length > 0) {
      const parts = lineText.split(/\s+/);
      const first = pos + (text.slice(pos, eol).length - text.slice(pos, eol).trimStart().length);
      if (parts.length < 2 || parts.length > 3 || !parts[0]!.startsWith('/')) {
        reader.fail(st, F.Conffiles, first, `expected '/path md5sum [obsolete]' in Conffiles, found '${excerpt(lineText)}'`);
      }
      const md5 = parts[1]!;
      if (!/^[0-9a-f]{32}$/.test(md5) && md5 !== 'newconffile') {
        reader.fail(st, F.Conffiles, first + parts[0]!.length + 1, `'${excerpt(md5)}' is not an md5sum in Conffiles`);
      }
      const flag = parts[2];
      if (flag !== undefined && flag !== 'obsolete' && flag !== 'remove-on-upgrade') {
        reader.fail(st, F.Conffiles, first + parts[0]!.length + md5.length + 2, `unknown conffile flag '${excerpt(flag)}'`, 'expected obsolete or remove-on-upgrade');
      }
      const entry: InstalledRecord['conffiles'][number] = { path: decodeLatin1AsUtf8(parts[0]!), md5 };
      if (flag === 'obsolete') entry.obsolete = true;
      out.push(entry);
    }
    pos = eol + 1;
  }
  return out;
}

/** Paths are bytes; the scanner reads latin1, so re-decode them as UTF-8. */
function decodeLatin1AsUtf8(s: string): string {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(s) ? s : Buffer.from(s, 'latin1').toString('utf8');
}

/** Read and parse a dpkg status file. */
export async function loadDpkgStatus(path: string, options: DpkgStatusOptions = {}): Promise<InstalledRecord[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new RollwiseError('RW_IO', `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`, { cause: e, hint: 'give a dpkg status file, such as /var/lib/dpkg/status' });
  }
  return parseDpkgStatus(bytes, path, options);
}
