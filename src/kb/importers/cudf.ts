/**
 * CUDF 2.0 (Common Upgradeability Description Format, the Mancoosi format opam and the
 * external solvers speak): a reader for documents (preamble, package universe with installed
 * state, request) and writers for documents and for solutions.
 *
 * Syntax handled: stanzas separated by blank lines; `#` comment lines; `property: value` lines
 * with continuation lines starting with a space; package names over [A-Za-z0-9+-./@()%];
 * versions are positive integers; formulas `a | b >= 2, c` plus `true!` / `false!`; relation
 * operators = != < <= > >= (mapped to RelationOp: `<` is `<<`, `>` is `>>`); extra package and
 * request properties declared in the preamble (`property: name: type = [default], ...`).
 */
import { readFile } from 'node:fs/promises';
import { RollwiseError, excerpt } from '../../shared/index.js';
import { checkFileStart, CUDF_KIND } from './sniff.js';
import type { Alternatives, PackageAtom, PackageRecord, Provenance, Provision, RelationOp } from '../model.js';

export type CudfKeep = 'version' | 'package' | 'feature' | 'none';

export interface CudfPropertyDecl {
  name: string;
  /** Type as written: int, posint, nat, bool, string, pkgname, ident, enum[a,b], vpkg, vpkgformula, vpkglist, veqpkg, veqpkglist. */
  type: string;
  default?: string;
}

export interface CudfPreamble {
  id: string;
  properties: CudfPropertyDecl[];
  /** Other preamble fields (univ-checksum, status-checksum, req-checksum), raw. */
  fields: Record<string, string>;
  line: number;
}

export interface CudfPackage {
  name: string;
  version: string;
  depends: Alternatives[];
  conflicts: PackageAtom[];
  provides: Provision[];
  installed: boolean;
  wasInstalled: boolean;
  keep: CudfKeep;
  /** The `recommends` extra property (as mccs and aspcud read it: a vpkgformula), parsed. */
  recommends: Alternatives[];
  /** Extra properties (declared in the preamble), raw text. */
  properties: Record<string, string>;
  line: number;
}

export interface CudfRequest {
  id: string;
  install: PackageAtom[];
  remove: PackageAtom[];
  upgrade: PackageAtom[];
  properties: Record<string, string>;
  line: number;
}

export interface CudfDocument {
  file: string;
  preamble?: CudfPreamble;
  packages: CudfPackage[];
  request?: CudfRequest;
}

const CUDF_OPS: Record<string, RelationOp> = { '=': '=', '!=': '!=', '<': '<<', '<=': '<=', '>': '>>', '>=': '>=' };
const OPS_TO_CUDF: Record<RelationOp, string> = { '=': '=', '!=': '!=', '<<': '<', '<=': '<=', '>>': '>', '>=': '>=' };
const KEEPS: readonly CudfKeep[] = ['version', 'package', 'feature', 'none'];

function isPkgNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46 || c === 47 || c === 64 || c === 40 || c === 41 || c === 37;
}

export function isValidCudfName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) if (!isPkgNameChar(name.charCodeAt(i))) return false;
  return true;
}

interface Field {
  name: string;
  value: string;
  line: number;
  /** Column of the value's first character. */
  column: number;
}

class CudfReader {
  constructor(readonly file: string) {}

  fail(message: string, line: number, column: number, hint?: string): never {
    throw new RollwiseError('RW_CUDF_PARSE', message, { position: { file: this.file, line, column }, hint: hint ?? 'a CUDF document is stanzas of `property: value` lines (preamble, package, request), as the Mancoosi CUDF 2.0 spec says' });
  }

  /** Position of offset `i` inside a field value (continuations joined with '\n'). */
  at(f: Field, i: number): [number, number] {
    let line = f.line;
    let col = f.column;
    for (let k = 0; k < i && k < f.value.length; k++) {
      if (f.value.charCodeAt(k) === 10) { line++; col = 2; } else col++;
    }
    return [line, col];
  }

  failIn(f: Field, i: number, message: string, hint?: string): never {
    const [l, c] = this.at(f, i);
    return this.fail(`in ${f.name}: ${message}`, l, c, hint);
  }

  posint(f: Field, text: string, offset: number): string {
    let ok = text.length > 0 && text.charCodeAt(0) >= 49 && text.charCodeAt(0) <= 57;
    for (let k = 1; ok && k < text.length; k++) { const c = text.charCodeAt(k); ok = c >= 48 && c <= 57; }
    if (!ok) this.failIn(f, offset, `'${excerpt(text)}' is not a positive integer version`);
    return text;
  }

  /** Parse `name [op version]` lists / formulas. */
  formula(f: Field, mode: 'formula' | 'list' | 'eqlist'): PackageAtom[][] {
    const v = f.value;
    const trimmed = v.trim();
    if (mode === 'formula') {
      if (trimmed === 'true!') return [];
      if (trimmed === 'false!') return [[]];
    }
    const out: PackageAtom[][] = [];
    if (trimmed === '') return out;
    let i = 0;
    const n = v.length;
    const ws = (): void => { for (let c = v.charCodeAt(i); i < n && (c === 32 || c === 9 || c === 10 || c === 13); c = v.charCodeAt(++i)); };
    let clause: PackageAtom[] = [];
    for (;;) {
      ws();
      const start = i;
      while (i < n && isPkgNameChar(v.charCodeAt(i))) i++;
      if (i === start) this.failIn(f, i, i >= n ? 'expected a package name at the end of the value' : `expected a package name, found '${excerpt(v[i]!)}'`);
      const atom: PackageAtom = { name: v.slice(start, i) };
      ws();
      const opStart = i;
      for (let c = v.charCodeAt(i); i < n && (c === 61 || c === 33 || c === 60 || c === 62); c = v.charCodeAt(++i));
      if (i > opStart) {
        const opText = v.slice(opStart, i);
        const op = CUDF_OPS[opText];
        if (!op) this.failIn(f, opStart, `unknown relation operator '${excerpt(opText)}'`, 'use one of = != < <= > >=');
        if (mode === 'eqlist' && op !== '=') this.failIn(f, opStart, `provides allows only '=', found '${excerpt(opText)}'`);
        ws();
        const vs = i;
        for (let c = v.charCodeAt(i); i < n && ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)); c = v.charCodeAt(++i));
        atom.op = op;
        atom.version = this.posint(f, v.slice(vs, i), vs);
        ws();
      }
      clause.push(atom);
      if (i >= n) break;
      if (v[i] === '|') {
        if (mode !== 'formula') this.failIn(f, i, "alternatives ('|') are not allowed here");
        i++;
        continue;
      }
      if (v[i] === ',') {
        out.push(clause);
        clause = [];
        i++;
        continue;
      }
      this.failIn(f, i, `expected ',' or '|', found '${excerpt(v[i]!)}'`);
    }
    out.push(clause);
    return out;
  }

  atoms(f: Field, mode: 'list' | 'eqlist'): PackageAtom[] {
    return this.formula(f, mode).map((c) => c[0]!);
  }

  bool(f: Field): boolean {
    const t = f.value.trim();
    if (t === 'true') return true;
    if (t === 'false') return false;
    return this.failIn(f, 0, `expected true or false, found '${excerpt(t)}'`);
  }

  /** Light type check of an extra property value. */
  checkTyped(f: Field, decl: CudfPropertyDecl): void {
    const t = f.value.trim();
    const type = decl.type;
    const bad = (what: string): never => this.failIn(f, 0, `'${excerpt(t)}' is not ${what} (property type ${excerpt(type)})`);
    if (type === 'int' && !/^[+-]?[0-9]+$/.test(t)) bad('an integer');
    if (type === 'posint' && !/^\+?[1-9][0-9]*$/.test(t)) bad('a positive integer');
    if (type === 'nat' && !/^\+?[0-9]+$/.test(t)) bad('a natural number');
    if (type === 'bool' && t !== 'true' && t !== 'false') bad('a boolean');
    if (type.startsWith('enum')) {
      const values = type.slice(type.indexOf('[') + 1, type.lastIndexOf(']')).split(',').map((s) => s.trim());
      if (!values.includes(t)) bad(`one of ${excerpt(values.join(', '), 80)}`);
    }
    if (type === 'vpkgformula') this.formula(f, 'formula');
    if (type === 'vpkglist' || type === 'vpkg') this.formula(f, 'list');
    if (type === 'veqpkglist' || type === 'veqpkg') this.formula(f, 'eqlist');
  }
}

/** Split a typedecl list `a: int = [1], b: enum[x,y] = [x]` at top-level commas. */
function splitTopLevel(text: string): Array<{ part: string; offset: number }> {
  const out: Array<{ part: string; offset: number }> = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (c === ',' && depth === 0) { out.push({ part: text.slice(start, i), offset: start }); start = i + 1; }
  }
  out.push({ part: text.slice(start), offset: start });
  return out;
}

function parseTypedecls(r: CudfReader, f: Field): CudfPropertyDecl[] {
  const out: CudfPropertyDecl[] = [];
  if (f.value.trim() === '') return out;
  for (const { part, offset } of splitTopLevel(f.value)) {
    const lead = part.length - part.trimStart().length;
    const m = /^\s*([a-z][a-z0-9-]*)\s*:\s*([a-z]+(?:\s*\[[^\]]*\])?)\s*(?:=\s*\[(.*)\])?\s*$/s.exec(part);
    if (!m) r.failIn(f, offset + lead, `malformed property declaration '${excerpt(part.trim())}'`, "expected 'name: type' or 'name: type = [default]'");
    const decl: CudfPropertyDecl = { name: m[1]!, type: m[2]!.replace(/\s+/g, '') };
    const base = decl.type.replace(/\[.*$/, '');
    if (!['int', 'posint', 'nat', 'bool', 'string', 'pkgname', 'ident', 'enum', 'vpkg', 'vpkgformula', 'vpkglist', 'veqpkg', 'veqpkglist', 'typedecl'].includes(base)) {
      r.failIn(f, offset + lead, `unknown property type '${excerpt(decl.type)}'`);
    }
    if (m[3] !== undefined) decl.default = m[3];
    out.push(decl);
  }
  return out;
}

/** Empty or only whitespace (as String.prototype.trim sees it for the characters CUDF files hold), without making a string. */
function isBlank(line: string): boolean {
  for (let k = 0; k < line.length; k++) {
    const c = line.charCodeAt(k);
    if (c > 32 && c < 127) return false;
    if (c !== 32 && c !== 9 && c !== 13 && c !== 11 && c !== 12) return line.trim() === ''; // other characters: as trim() decides
  }
  return true;
}

/** Parse a CUDF document (universe, installed state, request) or a CUDF solution. */
export function parseCudf(text: string, file: string): CudfDocument {
  const r: CudfReader = new CudfReader(file);
  checkFileStart(text, file, CUDF_KIND);
  const doc: CudfDocument = { file, packages: [] };
  const lines = text.split('\n');
  let stanza: Field[] = [];
  const extraDecls = new Map<string, CudfPropertyDecl>();
  /** Property names already checked (a document repeats a few names thousands of times). */
  const validNames = new Set<string>();

  const finish = (): void => {
    if (stanza.length === 0) return;
    const first = stanza[0]!;
    // stanzas hold a handful of properties: a pairwise check is cheaper than a Set per stanza
    for (let a = 1; a < stanza.length; a++) {
      const f = stanza[a]!;
      for (let b = 0; b < a; b++) if (stanza[b]!.name === f.name) r.fail(`property '${excerpt(f.name)}' appears twice in the stanza`, f.line, 1);
    }
    const get = (name: string): Field | undefined => {
      for (let k = 0; k < stanza.length; k++) if (stanza[k]!.name === name) return stanza[k];
      return undefined;
    };
    if (first.name === 'preamble') {
      if (doc.preamble || doc.packages.length > 0 || doc.request) r.fail('the preamble must be the first stanza', first.line, 1);
      const pre: CudfPreamble = { id: first.value.trim(), properties: [], fields: {}, line: first.line };
      for (const f of stanza.slice(1)) {
        if (f.name === 'property') {
          pre.properties.push(...parseTypedecls(r, f));
        } else if (['univ-checksum', 'status-checksum', 'req-checksum'].includes(f.name)) {
          pre.fields[f.name] = f.value.trim();
        } else {
          r.fail(`unknown preamble property '${excerpt(f.name)}'`, f.line, 1, 'the preamble holds property, univ-checksum, status-checksum and req-checksum');
        }
      }
      for (const d of pre.properties) extraDecls.set(d.name, d);
      doc.preamble = pre;
    } else if (first.name === 'package') {
      if (doc.request) r.fail('package stanzas must come before the request stanza', first.line, 1);
      const name = first.value.trim();
      if (!isValidCudfName(name)) r.failIn(first, 0, `'${excerpt(name)}' is not a valid CUDF package name`, 'names use letters, digits and + - . / @ ( ) %');
      const vf = get('version');
      if (!vf) r.fail(`package '${excerpt(name)}' has no version property`, first.line, 1);
      const pkg: CudfPackage = {
        name, version: r.posint(vf, vf.value.trim(), 0), depends: [], conflicts: [], provides: [],
        installed: false, wasInstalled: false, keep: 'none', recommends: [], properties: {}, line: first.line,
      };
      for (let fi = 1; fi < stanza.length; fi++) {
        const f = stanza[fi]!;
        switch (f.name) {
          case 'version': break;
          case 'depends': pkg.depends = r.formula(f, 'formula'); break;
          case 'conflicts': pkg.conflicts = r.atoms(f, 'list'); break;
          case 'provides': pkg.provides = r.atoms(f, 'eqlist').map((a) => (a.version ? { name: a.name, version: a.version } : { name: a.name })); break;
          case 'installed': pkg.installed = r.bool(f); break;
          case 'was-installed': pkg.wasInstalled = r.bool(f); break;
          case 'keep': {
            const k = f.value.trim();
            if (!(KEEPS as readonly string[]).includes(k)) r.failIn(f, 0, `expected one of ${KEEPS.join(', ')}, found '${excerpt(k)}'`);
            pkg.keep = k as CudfKeep;
            break;
          }
          default: {
            const decl = extraDecls.get(f.name);
            if (!decl) r.fail(`property '${excerpt(f.name)}' is not declared in the preamble`, f.line, 1, `declare it: property: ${excerpt(f.name)}: string`);
            r.checkTyped(f, decl);
            if (f.name === 'recommends') pkg.recommends = r.formula(f, 'formula');
            pkg.properties[f.name] = f.value.trim();
          }
        }
      }
      doc.packages.push(pkg);
    } else if (first.name === 'request') {
      if (doc.request) r.fail('a document has at most one request stanza', first.line, 1);
      const req: CudfRequest = { id: first.value.trim(), install: [], remove: [], upgrade: [], properties: {}, line: first.line };
      for (const f of stanza.slice(1)) {
        if (f.name === 'install' || f.name === 'remove' || f.name === 'upgrade') req[f.name] = r.atoms(f, 'list');
        else {
          const decl = extraDecls.get(f.name);
          if (!decl) r.fail(`request property '${excerpt(f.name)}' is not declared in the preamble`, f.line, 1, 'a request has install, remove and upgrade');
          r.checkTyped(f, decl);
          req.properties[f.name] = f.value.trim();
        }
      }
      doc.request = req;
    } else {
      r.fail(`a stanza starts with preamble:, package: or request:, found '${excerpt(first.name)}:'`, first.line, 1);
    }
    stanza = [];
  };

  for (let li = 0; li < lines.length; li++) {
    let line = lines[li]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const lineNo = li + 1;
    const c0 = line.charCodeAt(0);
    if (c0 === 35) continue; // '#'
    if (isBlank(line)) { finish(); continue; }
    if (c0 === 32) {
      const last = stanza[stanza.length - 1];
      if (!last) r.fail('continuation line outside a property', lineNo, 1);
      last.value += `\n${line.slice(1)}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) r.fail(`expected 'property: value', found '${excerpt(line)}'`, lineNo, 1);
    const name = line.slice(0, colon);
    if (!validNames.has(name) && validNames.add(name) && !/^[a-z][a-z0-9-]*$/.test(name)) r.fail(`'${excerpt(name)}' is not a valid property name`, lineNo, 1, 'property names are lower-case letters, digits and -');
    if (line.length > colon + 1 && line[colon + 1] !== ' ') r.fail(`expected a space after '${excerpt(name)}:'`, lineNo, colon + 2);
    const value = line.slice(colon + 2);
    stanza.push({ name, value, line: lineNo, column: colon + 3 });
  }
  finish();
  return doc;
}

export async function loadCudf(path: string): Promise<CudfDocument> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new RollwiseError('RW_IO', `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`, { cause: e, hint: 'give a CUDF file, or - for standard input' });
  }
  return parseCudf(text, path);
}

// ---- writing ------------------------------------------------------------------------------

export function formatCudfAtom(a: PackageAtom | Provision): string {
  const op = 'op' in a && a.op ? a.op : a.version !== undefined ? '=' : undefined;
  return op ? `${a.name} ${OPS_TO_CUDF[op]} ${a.version}` : a.name;
}

export function formatCudfFormula(clauses: Alternatives[]): string {
  if (clauses.some((c) => c.length === 0)) return 'false!';
  return clauses.map((c) => c.map(formatCudfAtom).join(' | ')).join(', ');
}

function fold(value: string): string {
  return value.replace(/\n/g, '\n ');
}

/** Write a whole CUDF document (preamble, packages, request). */
export function writeCudf(doc: CudfDocument): string {
  const out: string[] = [];
  if (doc.preamble) {
    const p = doc.preamble;
    const lines = [`preamble: ${p.id}`];
    if (p.properties.length) {
      lines.push(`property: ${p.properties.map((d) => `${d.name}: ${d.type}${d.default !== undefined ? ` = [${d.default}]` : ''}`).join(', ')}`);
    }
    for (const [k, v] of Object.entries(p.fields)) lines.push(`${k}: ${v}`);
    out.push(lines.join('\n'));
  }
  for (const pkg of doc.packages) {
    const lines = [`package: ${pkg.name}`, `version: ${pkg.version}`];
    if (pkg.depends.length) lines.push(`depends: ${formatCudfFormula(pkg.depends)}`);
    if (pkg.conflicts.length) lines.push(`conflicts: ${pkg.conflicts.map(formatCudfAtom).join(', ')}`);
    if (pkg.provides.length) lines.push(`provides: ${pkg.provides.map(formatCudfAtom).join(', ')}`);
    if (pkg.installed) lines.push('installed: true');
    if (pkg.wasInstalled) lines.push('was-installed: true');
    if (pkg.keep !== 'none') lines.push(`keep: ${pkg.keep}`);
    for (const [k, v] of Object.entries(pkg.properties)) lines.push(`${k}: ${fold(v)}`);
    out.push(lines.join('\n'));
  }
  if (doc.request) {
    const q = doc.request;
    const lines = [`request: ${q.id}`];
    if (q.install.length) lines.push(`install: ${q.install.map(formatCudfAtom).join(', ')}`);
    if (q.remove.length) lines.push(`remove: ${q.remove.map(formatCudfAtom).join(', ')}`);
    if (q.upgrade.length) lines.push(`upgrade: ${q.upgrade.map(formatCudfAtom).join(', ')}`);
    for (const [k, v] of Object.entries(q.properties)) lines.push(`${k}: ${fold(v)}`);
    out.push(lines.join('\n'));
  }
  return out.length ? `${out.join('\n\n')}\n` : '';
}

/**
 * Write a CUDF solution: one stanza per package installed in the solution
 * (`package`, `version`, `installed: true`), as cudf-check and opam expect.
 */
export function writeCudfSolution(installed: ReadonlyArray<{ name: string; version: string }>, options: { preamble?: string } = {}): string {
  const parts: string[] = [];
  if (options.preamble !== undefined) parts.push(`preamble: ${options.preamble}`);
  for (const p of installed) parts.push(`package: ${p.name}\nversion: ${p.version}\ninstalled: true`);
  return parts.length ? `${parts.join('\n\n')}\n` : '';
}

/** Packages marked installed in a document (the installed state of the problem, or a solution's content). */
export function installedOf(doc: CudfDocument): Array<{ name: string; version: string }> {
  return doc.packages.filter((p) => p.installed).map((p) => ({ name: p.name, version: p.version }));
}

/** The document's packages as PackageRecords (scheme `cudf`, architecture `all`). */
export function cudfToRecords(doc: CudfDocument, layer?: string): PackageRecord[] {
  const provenance: Provenance = { layer: layer ?? `cudf:${doc.file.split('/').pop() ?? doc.file}`, source: doc.file, trust: 'distribution' };
  return doc.packages.map((p) => ({
    name: p.name, version: p.version, architecture: 'all', scheme: 'cudf' as const,
    depends: p.depends, preDepends: [], recommends: p.recommends, suggests: [],
    conflicts: p.conflicts, breaks: [], provides: p.provides, replaces: [],
    essential: false, provenance: { ...provenance, line: p.line },
  }));
}
