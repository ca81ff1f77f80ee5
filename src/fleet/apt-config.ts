/**
 * A host's apt configuration as planning needs it: its package sources (one-line
 * `sources.list` and deb822 `.sources`), its preferences (pins) and its architectures. The
 * parsers are pure (text in, data or a positioned RW_APT_CONFIG error out); readHostAptConfig
 * reads the same files from a directory root. deb822 files and preferences go through the
 * importers' control-file scanner, so stanza syntax is read one way everywhere.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { scanControl, F, type ControlStanza } from '../kb/index.js';
import { RollwiseError, type SourcePosition } from '../shared/index.js';
import { parseReleaseSpec, type AptPin, type PinTarget } from '../solver/index.js';

/** One binary (or source) index a host's apt reads: `deb URI SUITE COMPONENT...`. */
export interface AptSource {
  type: 'deb' | 'deb-src';
  uri: string;
  /** The suite or codename (`bookworm`, `bookworm-security`), or a flat repository's path (`./`). */
  suite: string;
  /** Empty for a flat repository. */
  components: string[];
  /** `arch=` / `Architectures:` restriction, when given. */
  architectures?: string[];
  /** For offline planning: the index file this source reads (an inventory names it). */
  index?: string;
  /** For offline planning: the index file this source reads per architecture (multiarch: `amd64`, `i386`). */
  indexes?: Readonly<Record<string, string>>;
  position: SourcePosition;
}

/** What planning knows of a host's apt. */
export interface HostAptConfig {
  sources: AptSource[];
  preferences: AptPin[];
  /** dpkg's native architecture. */
  architecture: string;
  /** `dpkg --print-foreign-architectures`. */
  foreignArchitectures: string[];
  /** APT::Default-Release, when set. */
  defaultRelease?: string;
}

function fail(message: string, position: SourcePosition, hint: string): never {
  throw new RollwiseError('RW_APT_CONFIG', message, { hint, position });
}

const SOURCES_HINT = 'a sources.list line is `deb [option=value ...] URI SUITE [COMPONENT ...]` (sources.list(5))';
const DEB822_SOURCES_HINT = 'a .sources stanza needs Types, URIs and Suites (and Components unless the suite ends with /) (sources.list(5))';
const PREFERENCES_HINT = 'a preferences stanza is `Package:`, `Pin: version|release|origin ...` and a non-zero integer `Pin-Priority:` (apt_preferences(5))';

/** The host part of a source URI (apt's `Pin: origin`): '' for file:, copy: and cdrom: sources. */
export function siteOfUri(uri: string): string {
  const m = /^[a-z0-9+.-]+:\/\/(?:[^@/]*@)?([^/:]+)/i.exec(uri);
  return m ? m[1]!.toLowerCase() : '';
}

/** Parses one-line `sources.list` text. */
export function parseSourcesList(text: string, file: string): AptSource[] {
  const out: AptSource[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const hash = raw.indexOf('#');
    const body = (hash >= 0 ? raw.slice(0, hash) : raw).replace(/\r$/, '');
    if (body.trim() === '') return;
    const col = (offset: number): SourcePosition => ({ file, line, column: offset + 1 });
    const typeMatch = /^\s*(\S+)/.exec(body)!;
    const type = typeMatch[1]!;
    if (type !== 'deb' && type !== 'deb-src') fail(`unknown source type '${type}'`, col(body.indexOf(type)), SOURCES_HINT);
    let rest = body.slice(typeMatch[0].length);
    let offset = typeMatch[0].length;
    let architectures: string[] | undefined;
    const open = /^\s*\[/.exec(rest);
    if (open) {
      const close = rest.indexOf(']');
      if (close < 0) fail('an option list `[` is not closed', col(offset + open[0].length - 1), SOURCES_HINT);
      const options = rest.slice(open[0].length, close).trim();
      for (const opt of options.split(/\s+/).filter(Boolean)) {
        const m = /^([A-Za-z-]+)([+-]?=)(.*)$/.exec(opt);
        if (!m) fail(`cannot read source option '${opt}'`, col(offset + rest.indexOf(opt)), SOURCES_HINT);
        if (m[1] === 'arch' && m[2] === '=') architectures = m[3]!.split(',').filter(Boolean);
      }
      offset += close + 1;
      rest = rest.slice(close + 1);
    }
    const words: Array<{ text: string; at: number }> = [];
    const re = /\S+/g;
    for (let m = re.exec(rest); m; m = re.exec(rest)) words.push({ text: m[0], at: offset + m.index });
    if (words.length < 2) fail(`a ${type} line needs a URI and a suite`, col(offset), SOURCES_HINT);
    const [uri, suite, ...components] = words;
    if (!/^[a-z0-9+.-]+:/i.test(uri!.text)) fail(`'${uri!.text}' is not a URI`, col(uri!.at), SOURCES_HINT);
    const flat = suite!.text.endsWith('/');
    if (!flat && components.length === 0) fail(`suite '${suite!.text}' needs at least one component`, col(suite!.at), SOURCES_HINT);
    if (flat && components.length > 0) fail(`a flat repository (suite ending with /) takes no components`, col(components[0]!.at), SOURCES_HINT);
    out.push({
      type, uri: uri!.text, suite: suite!.text, components: components.map((c) => c.text),
      ...(architectures ? { architectures } : {}), position: col(typeMatch.index + typeMatch[0].length - type.length),
    });
  });
  return out;
}

function otherField(s: ControlStanza, name: string): { value: string; position: SourcePosition } | undefined {
  const lower = name.toLowerCase();
  const f = s.other.find((o) => o.name.toLowerCase() === lower);
  if (!f) return undefined;
  return { value: s.text.slice(f.start, f.end).trim(), position: positionIn(s, f.start) };
}

function positionIn(s: ControlStanza, offset: number): SourcePosition {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) if (s.text.charCodeAt(i) === 10) { line++; lineStart = i + 1; }
  return { file: s.file, line, column: offset - lineStart + 1 };
}

function scan(text: string, file: string, visit: (s: ControlStanza) => void): void {
  try {
    scanControl(text, file, visit, { errorCode: 'RW_APT_CONFIG', collectOther: true, fileStart: false, commentsInStanzas: true });
  } catch (e) {
    if (e instanceof RollwiseError && e.code !== 'RW_APT_CONFIG') throw new RollwiseError('RW_APT_CONFIG', e.message, { hint: e.hint, ...(e.position ? { position: e.position } : {}) });
    throw e;
  }
}

/** Parses deb822 `.sources` text (every Types × URIs × Suites combination is one source; `Enabled: no` stanzas are skipped). */
export function parseDeb822Sources(text: string, file: string): AptSource[] {
  const out: AptSource[] = [];
  scan(text, file, (s) => {
    const stanzaPos: SourcePosition = { file, line: s.line, column: 1 };
    const enabled = otherField(s, 'Enabled');
    if (enabled && enabled.value.toLowerCase() === 'no') return;
    const need = (name: string): { value: string; position: SourcePosition } => {
      const f = otherField(s, name);
      if (!f || f.value === '') fail(`a .sources stanza has no ${name}`, stanzaPos, DEB822_SOURCES_HINT);
      return f;
    };
    const types = need('Types');
    const uris = need('URIs');
    const suites = need('Suites');
    const components = otherField(s, 'Components');
    const arch = otherField(s, 'Architectures');
    for (const t of types.value.split(/\s+/)) {
      if (t !== 'deb' && t !== 'deb-src') fail(`unknown source type '${t}'`, types.position, DEB822_SOURCES_HINT);
    }
    for (const t of types.value.split(/\s+/) as Array<'deb' | 'deb-src'>) {
      for (const uri of uris.value.split(/\s+/)) {
        for (const suite of suites.value.split(/\s+/)) {
          const comps = components ? components.value.split(/\s+/).filter(Boolean) : [];
          if (!suite.endsWith('/') && comps.length === 0) fail(`suite '${suite}' needs Components`, suites.position, DEB822_SOURCES_HINT);
          out.push({ type: t, uri, suite, components: comps, ...(arch ? { architectures: arch.value.split(/\s+/).filter(Boolean) } : {}), position: stanzaPos });
        }
      }
    }
  });
  return out;
}

/** Parses apt preferences text (`/etc/apt/preferences`, `preferences.d/*`) into pins, in file order. */
export function parsePreferences(text: string, file: string): AptPin[] {
  const out: AptPin[] = [];
  scan(text, file, (s) => {
    const stanzaPos: SourcePosition = { file, line: s.line, column: 1 };
    const pkg = s.get(F.Package)?.trim();
    if (!pkg) fail('a preferences stanza has no Package', stanzaPos, PREFERENCES_HINT);
    const pinField = otherField(s, 'Pin');
    if (!pinField || pinField.value === '') fail('a preferences stanza has no Pin', stanzaPos, PREFERENCES_HINT);
    const prio = otherField(s, 'Pin-Priority');
    if (!prio) fail('a preferences stanza has no Pin-Priority', stanzaPos, PREFERENCES_HINT);
    if (!/^[+-]?\d+$/.test(prio.value)) fail(`Pin-Priority '${prio.value}' is not an integer`, prio.position, PREFERENCES_HINT);
    const priority = Number(prio.value);
    if (priority === 0) fail('Pin-Priority 0 is not a priority', prio.position, PREFERENCES_HINT);
    if (priority < -32768 || priority > 32767) fail(`Pin-Priority ${priority} is outside -32768..32767`, prio.position, PREFERENCES_HINT);
    const m = /^(\S+)\s*(.*)$/.exec(pinField.value)!;
    const kind = m[1]!.toLowerCase();
    const data = m[2]!.trim();
    const packages = pkg === '*' ? '*' as const : pkg.split(/\s+/);
    let pin: PinTarget;
    if (kind === 'version') {
      if (packages === '*') fail('`Pin: version` needs named packages, not `Package: *`', pinField.position, PREFERENCES_HINT);
      if (data === '') fail('`Pin: version` needs a version', pinField.position, PREFERENCES_HINT);
      pin = { kind: 'version', pattern: data };
    } else if (kind === 'release') {
      const spec = parseReleaseSpec(data);
      if (Object.keys(spec).length === 0) fail(`cannot read release '${data}'`, pinField.position, 'write e.g. `Pin: release a=bookworm-backports` or `n=bookworm,o=Debian` (keys a n v o l c b)');
      pin = { kind: 'release', spec };
    } else if (kind === 'origin') {
      pin = { kind: 'origin', site: data.length >= 2 && data.startsWith('"') && data.endsWith('"') ? data.slice(1, -1) : data };
    } else {
      fail(`unknown pin type '${m[1]}'`, pinField.position, PREFERENCES_HINT);
    }
    out.push({ packages, pin, priority, where: `${file}:${s.line}` });
  });
  return out;
}

/** apt's rule for files in a `.d` directory: letters, digits, `_`, `-`, `.`, with the wanted extension (preferences: none or `.pref`). */
function partsOf(dir: string, accept: (name: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((n) => /^[A-Za-z0-9_.-]+$/.test(n) && accept(n)).sort().map((n) => path.join(dir, n));
}

/**
 * Reads a directory-root host's apt configuration: etc/apt/sources.list(.d), etc/apt/preferences(.d),
 * and var/lib/dpkg/arch (architectures besides `architecture`, the host's dpkg architecture).
 */
export function readHostAptConfig(root: string, architecture: string): HostAptConfig {
  const etc = path.join(root, 'etc/apt');
  const read = (f: string): string => readFileSync(f, 'utf8');
  const sources: AptSource[] = [];
  const list = path.join(etc, 'sources.list');
  if (existsSync(list)) sources.push(...parseSourcesList(read(list), list));
  for (const f of partsOf(path.join(etc, 'sources.list.d'), (n) => n.endsWith('.list') || n.endsWith('.sources'))) {
    sources.push(...(f.endsWith('.list') ? parseSourcesList(read(f), f) : parseDeb822Sources(read(f), f)));
  }
  const preferences: AptPin[] = [];
  const prefs = path.join(etc, 'preferences');
  if (existsSync(prefs)) preferences.push(...parsePreferences(read(prefs), prefs));
  for (const f of partsOf(path.join(etc, 'preferences.d'), (n) => !n.includes('.') || n.endsWith('.pref'))) preferences.push(...parsePreferences(read(f), f));
  const archFile = path.join(root, 'var/lib/dpkg/arch');
  const foreignArchitectures = existsSync(archFile) ? read(archFile).split(/\s+/).filter((a) => a !== '' && a !== architecture) : [];
  return { sources, preferences, architecture, foreignArchitectures };
}

/** Canonical text of an apt configuration (for grouping hosts: the same text, the same view). */
export function aptConfigKey(c: HostAptConfig | undefined): string {
  if (!c) return '';
  const sources = c.sources.filter((s) => s.type === 'deb').map((s) => `${s.uri} ${s.suite} ${s.components.join(' ')} ${s.architectures?.join(',') ?? ''}`).sort();
  const pins = c.preferences.map((p) => JSON.stringify([p.packages, p.pin, p.priority]));
  return JSON.stringify([sources, pins, c.architecture, [...c.foreignArchitectures].sort(), c.defaultRelease ?? '']);
}
