/**
 * apt's External Dependency Solver Protocol (EDSP 0.5) scenarios: the Request stanza (what the
 * user asked apt for) and, for every package version apt knows, apt's own facts about it
 * (APT-ID, APT-Pin, APT-Candidate, APT-Automatic, Hold, Installed).
 *
 * Read with the one control scanner (control.ts), in pieces cut at blank lines as the Packages
 * importer does, so a 60,000-stanza scenario is never one big string. The packages' relations
 * are not read here: a scenario's package stanzas are Packages-index stanzas with extra fields,
 * and the universe reads them from the same bytes with the index path (src/universe/edsp.ts),
 * so relations have one parser. Kept per package: name, version, architecture, APT-ID, pin,
 * flags and the stanza's byte range (so the universe can leave out versions the solver may not
 * choose).
 */
import { RollwiseError, escapeControls, excerpt, type SourcePosition } from '../../shared/index.js';
import { checkDebianVersion } from '../../versions/index.js';
import { F, scanControl, type ControlStanza } from './control.js';
import { isValidDebianName } from './debian.js';
import { checkFileStart, type FileKind } from './sniff.js';

export const EDSP_KIND: FileKind = {
  code: 'RW_EDSP_PARSE',
  what: 'an EDSP scenario',
  grammar: 'deb822',
  hint: "apt writes an EDSP scenario to an external solver's standard input: a `Request: EDSP 0.5` stanza, then one stanza per package version (APT_EDSP_DUMP_FILENAME=FILE apt-get -s --solver dump ... saves one)",
};

/** A package named in the request's Install or Remove field (`name` or `name:arch`). */
export interface EdspTarget {
  name: string;
  arch?: string;
  position: SourcePosition;
}

export interface EdspRequest {
  /** The value of the Request field (`EDSP 0.5`). */
  protocol: string;
  /** Native architecture. */
  architecture: string;
  /** Every architecture apt knows (native first). */
  architectures: string[];
  install: EdspTarget[];
  remove: EdspTarget[];
  upgradeAll: boolean;
  autoremove: boolean;
  forbidNewInstall: boolean;
  forbidRemove: boolean;
  /** Only APT-Candidate versions may be newly installed (default yes). */
  strictPinning: boolean;
  solver?: string;
  /** APT::Solver::Preferences, as apt sent it. */
  preferences?: string;
  preferencesPosition?: SourcePosition;
  position: SourcePosition;
}

/** Flags of a package version in a scenario. */
export const EDSP_INSTALLED = 1;
export const EDSP_CANDIDATE = 2;
export const EDSP_AUTOMATIC = 4;
export const EDSP_HOLD = 8;

/** The package stanzas, one column per fact (index i is the i-th package stanza). */
export interface EdspPackages {
  count: number;
  id: string[];
  name: string[];
  version: string[];
  arch: string[];
  pin: number[];
  flags: number[];
  /** 1-based line of the stanza. */
  line: number[];
  /** Byte range of the stanza in the scenario (start of its first line, end of its last line). */
  start: number[];
  end: number[];
}

export interface EdspScenario {
  file: string;
  bytes: Buffer;
  request: EdspRequest;
  /** Byte offset just past the Request stanza. */
  requestEnd: number;
  packages: EdspPackages;
}

const PIECE_BYTES = 1 << 18;

type Other = { name: string; start: number; end: number };

function trimmedEnd(text: string, s: number, e: number): number {
  while (e > s && (text.charCodeAt(e - 1) === 32 || text.charCodeAt(e - 1) === 9 || text.charCodeAt(e - 1) === 10 || text.charCodeAt(e - 1) === 13)) e--;
  return e;
}

/**
 * Parse a whole scenario held in memory. Errors: RW_EDSP_PARSE with file:line:column (no
 * Request stanza first, a package stanza without Package/Version/Architecture/APT-ID, a bad
 * name, version, pin or yes/no value, a malformed stanza).
 */
export function parseEdspScenario(bytes: Buffer, file = '<stdin>'): EdspScenario {
  checkFileStart(bytes, file, EDSP_KIND);
  const packages: EdspPackages = { count: 0, id: [], name: [], version: [], arch: [], pin: [], flags: [], line: [], start: [], end: [] };
  let request: EdspRequest | undefined;
  let requestEnd = 0;
  let base = 0;
  let firstLine = 1;
  let text = '';
  const validVersions = new Set<string>();

  /** file:line:column of an offset in the current piece (counts lines from the stanza's first line). */
  const positionAt = (st: ControlStanza, offset: number): SourcePosition => {
    let line = st.line;
    let s = stanzaStart(st);
    for (let i = s; i < offset; i++) if (text.charCodeAt(i) === 10) { line++; s = i + 1; }
    return { file, line, column: offset - s + 1 };
  };
  const fail = (position: SourcePosition, message: string, hint?: string): never => {
    throw new RollwiseError('RW_EDSP_PARSE', message, { position, hint: hint ?? EDSP_KIND.hint });
  };
  const stanzaStart = (st: ControlStanza): number => {
    let s = Number.MAX_SAFE_INTEGER;
    for (let c = 0; c < st.start.length; c++) if (st.start[c]! >= 0 && st.lineStart[c]! < s) s = st.lineStart[c]!;
    for (const o of st.other) {
      const ls = text.lastIndexOf('\n', o.start - 1) + 1;
      if (ls < s) s = ls;
    }
    return s;
  };
  const stanzaEnd = (st: ControlStanza): number => {
    let e = 0;
    for (let c = 0; c < st.start.length; c++) if (st.start[c]! >= 0 && st.end[c]! > e) e = st.end[c]!;
    for (const o of st.other) if (o.end > e) e = o.end;
    return e;
  };
  const value = (o: Other): string => text.slice(o.start, trimmedEnd(text, o.start, o.end));
  const yesNo = (st: ControlStanza, o: Other): boolean => {
    const v = value(o);
    if (v === 'yes') return true;
    if (v === 'no') return false;
    return fail(positionAt(st, o.start), `${o.name}: expected 'yes' or 'no', found '${excerpt(v)}'`);
  };

  const readRequest = (st: ControlStanza): void => {
    const req: EdspRequest = {
      protocol: '', architecture: '', architectures: [], install: [], remove: [], upgradeAll: false, autoremove: false,
      forbidNewInstall: false, forbidRemove: false, strictPinning: true, position: { file, line: st.line, column: 1 },
    };
    let upgrade = false;
    let distUpgrade = false;
    let explicit = { newInstall: false, remove: false };
    for (const o of st.other) {
      switch (o.name.toLowerCase()) {
        case 'request': req.protocol = value(o); break;
        case 'architectures': req.architectures = value(o).split(/\s+/).filter(Boolean); break;
        case 'install': req.install = targets(st, o); break;
        case 'remove': req.remove = targets(st, o); break;
        case 'upgrade-all': req.upgradeAll = yesNo(st, o); break;
        case 'upgrade': upgrade = yesNo(st, o); break;
        case 'dist-upgrade': distUpgrade = yesNo(st, o); break;
        case 'autoremove': req.autoremove = yesNo(st, o); break;
        case 'strict-pinning': req.strictPinning = yesNo(st, o); break;
        case 'forbid-new-install': req.forbidNewInstall = yesNo(st, o); explicit = { ...explicit, newInstall: true }; break;
        case 'forbid-remove': req.forbidRemove = yesNo(st, o); explicit = { ...explicit, remove: true }; break;
        case 'solver': req.solver = value(o); break;
        case 'preferences': {
          const p = value(o);
          if (p !== '') { req.preferences = p; req.preferencesPosition = positionAt(st, o.start); }
          break;
        }
        default: break; // fields of later protocol versions are informational
      }
    }
    // the deprecated forms (EDSP 0.4): Upgrade = Upgrade-All + Forbid-New-Install + Forbid-Remove; Dist-Upgrade = Upgrade-All
    if (upgrade || distUpgrade) {
      req.upgradeAll = true;
      if (upgrade && !explicit.newInstall) req.forbidNewInstall = true;
      if (upgrade && !explicit.remove) req.forbidRemove = true;
    }
    if (!/^EDSP 0\.[0-9]+$/.test(req.protocol)) {
      const o = st.other.find((x) => x.name.toLowerCase() === 'request')!;
      fail(positionAt(st, o.start), `unsupported protocol '${excerpt(req.protocol)}'`, 'this solver speaks EDSP 0.5 (Request: EDSP 0.5)');
    }
    const arch = st.get(F.Architecture);
    if (!arch) fail(req.position, 'the Request stanza has no Architecture field', 'EDSP 0.5 requires the native architecture (Architecture: amd64)');
    req.architecture = arch!;
    if (!req.architectures.includes(req.architecture)) req.architectures.unshift(req.architecture);
    request = req;
  };

  const targets = (st: ControlStanza, o: Other): EdspTarget[] => {
    const out: EdspTarget[] = [];
    const e = trimmedEnd(text, o.start, o.end);
    let i = o.start;
    while (i < e) {
      while (i < e && /\s/.test(text[i]!)) i++;
      const s = i;
      while (i < e && !/\s/.test(text[i]!)) i++;
      if (s === i) break;
      const word = text.slice(s, i);
      const colon = word.indexOf(':');
      const name = colon < 0 ? word : word.slice(0, colon);
      const arch = colon < 0 ? undefined : word.slice(colon + 1);
      const position = positionAt(st, s);
      if (!isValidDebianName(name)) fail(position, `${o.name}: '${excerpt(word)}' is not a package name`, 'Install and Remove list arch-qualified package names (name:arch), without versions');
      if (arch !== undefined && !/^[a-z0-9][a-z0-9-]*$/.test(arch)) fail(position, `${o.name}: '${excerpt(word)}' has no valid architecture after ':'`, 'write name:arch, e.g. hello:amd64');
      out.push(arch === undefined ? { name, position } : { name, arch, position });
    }
    return out;
  };

  const readPackage = (st: ControlStanza): void => {
    const required = (code: number, label: string): string => {
      const v = st.get(code as typeof F.Package);
      if (v === undefined || v === '') fail({ file, line: st.line, column: 1 }, `package stanza${st.get(F.Package) ? ` of '${excerpt(st.get(F.Package)!)}'` : ''} has no ${label} field`, 'every package stanza of a scenario has Package, Version, Architecture and APT-ID');
      return v!;
    };
    const name = required(F.Package, 'Package');
    if (!isValidDebianName(name)) fail(st.positionOfField(F.Package), `'${excerpt(name)}' is not a valid package name`, 'names use a-z 0-9 + - . and start with a letter or digit');
    const version = required(F.Version, 'Version');
    if (!validVersions.has(version)) {
      const r = checkDebianVersion(version);
      if (!r.ok) fail(st.positionOfField(F.Version), `'${excerpt(version)}' is not a valid Debian version: ${escapeControls(r.reason)}`, 'expected [epoch:]upstream[-revision]');
      validVersions.add(version);
    }
    const arch = required(F.Architecture, 'Architecture');
    let id: string | undefined;
    let pin = 0;
    let flags = 0;
    for (const o of st.other) {
      const n = o.name;
      // exact names first (apt's spelling); field names are case-insensitive
      const key = n === 'APT-ID' || n === 'APT-Pin' || n === 'APT-Candidate' || n === 'APT-Automatic' || n === 'Installed' || n === 'Hold' || n === 'APT-Hold' ? n : n.toLowerCase();
      switch (key) {
        case 'APT-ID': case 'apt-id': id = value(o); break;
        case 'APT-Pin': case 'apt-pin': {
          const v = value(o);
          if (!/^-?[0-9]+$/.test(v)) fail(positionAt(st, o.start), `APT-Pin: expected an integer, found '${excerpt(v)}'`);
          pin = Number(v);
          break;
        }
        case 'APT-Candidate': case 'apt-candidate': if (yesNo(st, o)) flags |= EDSP_CANDIDATE; break;
        case 'APT-Automatic': case 'apt-automatic': if (yesNo(st, o)) flags |= EDSP_AUTOMATIC; break;
        case 'Installed': case 'installed': if (yesNo(st, o)) flags |= EDSP_INSTALLED; break;
        case 'Hold': case 'APT-Hold': case 'hold': case 'apt-hold': if (yesNo(st, o)) flags |= EDSP_HOLD; break;
        default: break;
      }
    }
    if (id === undefined || id === '') fail({ file, line: st.line, column: 1 }, `package stanza of '${excerpt(name)}' has no APT-ID field`, 'every package stanza of a scenario has Package, Version, Architecture and APT-ID');
    const p = packages;
    p.id.push(id!);
    p.name.push(name);
    p.version.push(version);
    p.arch.push(arch);
    p.pin.push(pin);
    p.flags.push(flags);
    p.line.push(st.line);
    p.start.push(base + stanzaStart(st));
    p.end.push(base + stanzaEnd(st));
    p.count++;
  };

  const onStanza = (st: ControlStanza): void => {
    if (request === undefined) {
      if (!st.other.some((o) => o.name.toLowerCase() === 'request')) {
        fail({ file, line: st.line, column: 1 }, 'the scenario does not start with a Request stanza', EDSP_KIND.hint);
      }
      readRequest(st);
      requestEnd = base + stanzaEnd(st);
      return;
    }
    readPackage(st);
  };

  let pos = 0;
  while (pos < bytes.length) {
    let cut = pos + PIECE_BYTES >= bytes.length ? bytes.length : bytes.indexOf('\n\n', pos + PIECE_BYTES);
    cut = cut < 0 ? bytes.length : Math.min(bytes.length, cut + 2);
    const piece = bytes.subarray(pos, cut);
    text = piece.toString('latin1');
    base = pos;
    firstLine += scanControl(text, file, onStanza, { errorCode: 'RW_EDSP_PARSE', firstLine, bytes: piece, fileStart: false, collectOther: true });
    pos = cut;
  }
  if (request === undefined) fail({ file, line: 1, column: 1 }, 'the scenario has no Request stanza', EDSP_KIND.hint);
  return { file, bytes, request: request!, requestEnd, packages };
}

/** Read a whole scenario from a stream (apt writes it to the solver's standard input, then closes it). */
export async function readEdspScenario(chunks: AsyncIterable<Buffer | string>, file = '<stdin>'): Promise<EdspScenario> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
  return parseEdspScenario(Buffer.concat(parts), file);
}
