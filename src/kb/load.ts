/**
 * Loading a knowledge base from paths: YAML files, directories of them, and distribution
 * `Packages` indexes. Every file is checked fully (syntax, schema, relations, versions,
 * references across all loaded layers) and every problem is returned with its position;
 * nothing here throws for a user's mistake.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir, stat, open } from 'node:fs/promises';
import path from 'node:path';
import type { Alternatives, Provenance, SchemeName } from './model.js';
import { createEmptyRecord } from './model.js';
import { closestNames, documentData, excerpt, locatePath, parseSource, placeInFolder, positionAt, type YamlPath, type SourceDoc } from '../shared/index.js';
import { createProblem, sortProblems, type KbProblem } from './problems.js';
import {
  isValidVersionIn, parseClause, parseProvision, parseVersionRange, toAlternatives, toAtom, versionHint,
  type LocatedAtom, type RelationProblem,
} from './relations.js';
import {
  ConfigFileSchema, FunctionalImpactSchema, KbDocumentSchema, KB_API_VERSION, KB_KIND, KnownIssueSchema, LayerHeaderSchema,
  PackageSchema, ServiceSchema, type KbLayerHeader,
} from './schema.js';
import { createLayer, setLazyRecords, type KbLayer, type KnowledgeBase, type ParsedEnvironment, type Trust } from './types.js';
import { problemsFromZodIssues } from './zod-issues.js';
import { loadIndexRecords, type IndexLoad } from './index-layer.js';

const YAML_EXT = /\.ya?ml$/i;

export interface LoadOptions {
  /** Extra distribution indexes (Packages, .gz, .xz) to load as layers. */
  indexes?: readonly string[];
  /** Indexes loaded only when no path and no `indexes` entry is an index (the CLI's embedded default). */
  fallbackIndexes?: readonly string[];
  /**
   * Loads the index layers instead of the record importer (the planner's universe fast path).
   * Called once, after the YAML layers are read and before references are checked, with every
   * index (file, layer name, precedence) and the YAML layers; returns, in the same order, each
   * index layer's records or a problem (that layer is then left out, as when an import fails).
   */
  indexLoader?: IndexLayersLoader;
  /** Accept migration scripts outside the knowledge base's folder (absolute, `..`, links out); the operator's choice. */
  allowOutsidePaths?: boolean;
}

export interface IndexLayerInput {
  file: string;
  layer: string;
  precedence: number;
}

export type IndexLayersLoader = (indexes: readonly IndexLayerInput[], yamlLayers: readonly KbLayer[]) => Promise<IndexLoad[]>;

type Raw = Record<string, unknown>;
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const asRecord = (v: unknown): Raw | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Raw) : undefined);
const asString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A reference to check once every layer is loaded. */
interface PendingRef {
  kind: 'package' | 'service';
  name: string;
  src: SourceDoc;
  path: YamlPath;
  offset: number;
  /** For a versioned package reference: the version and where it is, to check against the target's scheme. */
  version?: { text: string; offset: number };
  what: string;
}

/** Names written in YAML, even in entries that failed the schema, so one mistake is reported once. */
interface Declared {
  packages: Map<string, SchemeName>;
  virtual: Set<string>;
  services: Set<string>;
}

interface FileResult {
  src: SourceDoc;
  header?: KbLayerHeader;
}

/** Is this path a distribution index rather than YAML? (.gz/.xz, a name containing Packages, or a first line `Package:`). */
async function looksLikeIndex(file: string): Promise<boolean> {
  const base = path.basename(file);
  if (/\.(xz|gz|lz4)$/i.test(base) || /Packages/.test(base)) return true;
  if (YAML_EXT.test(base)) return false;
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(64);
    const { bytesRead } = await fh.read(buf, 0, 64, 0);
    return /^Package:/m.test(buf.subarray(0, bytesRead).toString('utf8').split('\n')[0] ?? '');
  } finally {
    await fh.close();
  }
}

/** A file in a directory that is a Packages index: `Packages`, `Packages.xz`, `bookworm-main-amd64.Packages.gz`, ... */
const INDEX_NAME = /(^|[._-])Packages(\.(xz|gz|lz4))?$/;

/** YAML files (and Packages indexes) under a directory, recursively, in name order. */
async function listKbFiles(dir: string, out: { yaml: string[]; indexes: string[] }): Promise<void> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) await listKbFiles(full, out);
    else if (e.isFile() && YAML_EXT.test(e.name)) out.yaml.push(full);
    else if (e.isFile() && INDEX_NAME.test(e.name)) out.indexes.push(full);
  }
}

/** Split paths into YAML files and index files; unreadable paths become problems. */
async function expandPaths(paths: readonly string[], problems: KbProblem[]): Promise<{ yaml: string[]; indexes: string[] }> {
  const yaml: string[] = [];
  const indexes: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = await stat(p);
    } catch (_e) {
      problems.push(createProblem('RW_KB_IO', { file: p }, 'no such file or directory', 'give a YAML file, a directory of them, or a Debian Packages index'));
      continue;
    }
    if (st.isDirectory()) {
      const found = { yaml: [] as string[], indexes: [] as string[] };
      try {
        await listKbFiles(p, found);
      } catch (e) {
        problems.push(createProblem('RW_KB_IO', { file: p }, `cannot list the directory: ${(e as Error).message}`));
        continue;
      }
      if (found.yaml.length + found.indexes.length === 0) problems.push(createProblem('RW_KB_IO', { file: p }, 'the directory holds no .yaml or .yml file', 'knowledge-base files end in .yaml or .yml'));
      yaml.push(...found.yaml);
      indexes.push(...found.indexes);
    } else if (await looksLikeIndex(p).catch(() => false)) {
      indexes.push(p);
    } else {
      yaml.push(p);
    }
  }
  return { yaml, indexes };
}

/** Load and validate a knowledge base. */
export async function loadKnowledgeBase(paths: readonly string[], options: LoadOptions = {}): Promise<KnowledgeBase> {
  const problems: KbProblem[] = [];
  const { yaml, indexes } = await expandPaths(paths, problems);
  for (const i of options.indexes ?? []) {
    if (!existsSync(i)) problems.push(createProblem('RW_KB_IO', { file: i }, 'no such index file', 'give a Debian Packages index (plain, .gz or .xz)'));
    else indexes.push(i);
  }
  if (indexes.length === 0) for (const i of options.fallbackIndexes ?? []) if (existsSync(i)) indexes.push(i);
  const layers = new Map<string, KbLayer>();
  const layerHeaderFile = new Map<string, FileResult>();
  const refs: PendingRef[] = [];
  const sources = new Map<string, SourceDoc>();
  const declared: Declared = { packages: new Map(), virtual: new Set(), services: new Set() };

  const deferred: Array<{ input: IndexLayerInput; layer: KbLayer }> = [];
  for (const idx of indexes) {
    const name = indexLayerName(idx);
    let loaded: IndexLoad | undefined;
    if (!options.indexLoader) {
      loaded = await loadIndexRecords(idx, name);
      if (!loaded.ok) {
        problems.push(loaded.problem);
        continue;
      }
    }
    if (layers.has(name)) {
      problems.push(createProblem('RW_KB_LAYER', { file: idx }, `the index layer '${name}' is loaded twice`, 'give each index once'));
      continue;
    }
    const layer = createLayer({ name, precedence: 10, trust: 'distribution', origin: 'index', source: idx, files: [idx] });
    if (loaded?.ok && 'records' in loaded) layer.records = loaded.records;
    else deferred.push({ input: { file: idx, layer: name, precedence: layer.precedence }, layer });
    layers.set(name, layer);
  }

  for (const file of yaml) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      problems.push(createProblem('RW_KB_IO', { file }, `cannot read: ${(e as Error).message}`));
      continue;
    }
    // eslint-disable-next-line no-control-regex -- NUL (and U+FFFD, invalid UTF-8) is what is refused here
    const bad = text.search(/[\u0000\ufffd]/);
    if (bad >= 0) {
      // not a text file (or not UTF-8): say where, quote nothing (it may be a key or a binary)
      const before = text.slice(0, bad);
      const line = before.split('\n').length;
      problems.push(createProblem('RW_KB_YAML', { file, line, column: bad - before.lastIndexOf('\n') }, text[bad] === '\u0000' ? 'a NUL character: this is not a text file' : 'invalid UTF-8: this is not a UTF-8 text file', 'knowledge-base files are UTF-8 YAML text (see docs/knowledge-base.md)'));
      continue;
    }
    const src = parseSource(file, text);
    sources.set(file, src);
    if (src.doc.errors.length > 0) {
      for (const err of src.doc.errors) {
        const first = err.message.split('\n')[0] ?? err.message;
        // An unclosed [ or { is reported where the file ends: point at the bracket instead.
        const opener = /^Flow (sequence|map)/.test(first) ? findUnclosedFlow(text, err.pos[0]) : undefined;
        if (opener !== undefined) {
          problems.push(createProblem('RW_KB_YAML', positionAt(src, opener), `YAML syntax: this '${text[opener]}' is never closed`, `close it with '${text[opener] === '[' ? ']' : '}'}', or write the list as block items (one '- item' per line)`));
        } else {
          problems.push(createProblem('RW_KB_YAML', positionAt(src, err.pos[0]), `YAML syntax: ${first}`, yamlHint(err.code)));
        }
      }
      continue;
    }
    const read = documentData(src);
    if (!read.ok) {
      problems.push(createProblem('RW_KB_YAML', read.problem.position, read.problem.message, 'write the values out instead of nesting aliases (*name) of aliases'));
      continue;
    }
    const data = read.data;
    if (data === null || data === undefined) {
      problems.push(createProblem('RW_KB_EMPTY', { file, line: 1, column: 1 }, 'the file is empty', `start with apiVersion: ${KB_API_VERSION}, kind: ${KB_KIND} and a layer: header`));
      continue;
    }
    if (typeof data !== 'object' || Array.isArray(data)) {
      // not a knowledge-base document at all (a key, a list, a note): say what it is, quote nothing
      const what = Array.isArray(data) ? 'a list' : `a single ${typeof data === 'string' ? 'text value' : typeof data}`;
      problems.push(createProblem('RW_KB_TYPE', { file, line: 1, column: 1 }, `not a knowledge-base document: the file is ${what}, not a mapping`, `a knowledge-base file starts with apiVersion: ${KB_API_VERSION}, kind: ${KB_KIND} and a layer: header (see docs/knowledge-base.md)`));
      continue;
    }
    // a mapping none of whose keys a knowledge base has (a shadow file, a config of another tool):
    // not a knowledge-base document, and its keys (which may be secrets) are not quoted
    const known = keysOfSchema(KbDocumentSchema);
    if (!Object.keys(data).some((k) => known.has(k))) {
      problems.push(createProblem('RW_KB_TYPE', { file, line: 1, column: 1 }, 'not a knowledge-base document: none of its keys is one a knowledge base has (its content is not shown)', `a knowledge-base file starts with apiVersion: ${KB_API_VERSION}, kind: ${KB_KIND} and a layer: header (see docs/knowledge-base.md)`));
      continue;
    }
    const parsed = KbDocumentSchema.safeParse(data);
    if (!parsed.success) problems.push(...problemsFromZodIssues(src, KbDocumentSchema, data, parsed.error.issues));
    const doc = asRecord(data);
    if (!doc) continue;
    const header = LayerHeaderSchema.safeParse(doc.layer);
    // Without a valid layer header the file's facts have nowhere to go, but they are still checked
    // (into a detached layer) so every problem is reported at once.
    const layer = header.success ? attachLayer(layers, layerHeaderFile, header.data, src, problems) : undefined;
    collectFile(layer ?? createLayer({ name: '(detached)', precedence: 0, trust: 'organisation', origin: 'yaml', source: file }), src, doc, problems, refs, declared, options.allowOutsidePaths === true);
  }

  if (options.indexLoader && deferred.length > 0) {
    const yamlLayers = [...layers.values()].filter((l) => l.origin === 'yaml');
    const results = await options.indexLoader(deferred.map((d) => d.input), yamlLayers);
    deferred.forEach((d, i) => {
      const r = results[i];
      if (r?.ok) {
        if ('lazyRecords' in r) {
          setLazyRecords(d.layer, r.lazyRecords);
          d.layer.names = r.names;
        } else d.layer.records = r.records;
      }
      else {
        if (r) problems.push(r.problem);
        layers.delete(d.input.layer);
      }
    });
  }

  const ordered = [...layers.values()].sort((a, b) => b.precedence - a.precedence || (a.name < b.name ? -1 : 1));
  checkReferences(ordered, refs, declared, problems);
  checkEntities(ordered, sources, problems);
  return { layers: ordered, problems: sortProblems(problems) };
}

/** `bookworm-main-amd64.Packages.xz` → `debian:bookworm-main-amd64`. */
export function indexLayerName(file: string): string {
  const base = path.basename(file).replace(/\.(xz|gz|lz4)$/i, '').replace(/[._-]?Packages$/i, '').replace(/^Packages[._-]?/i, '');
  return `debian:${base || 'packages'}`;
}

/** The offset of the last `[` or `{` before `end` that is not closed (outside quotes and comments). */
function findUnclosedFlow(text: string, end: number): number | undefined {
  const stack: number[] = [];
  let quote: string | undefined;
  for (let i = 0; i < end && i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if ((c === '"' || c === "'") && (i === 0 || /[\s[{,:]/.test(text[i - 1]!))) quote = c;
    else if (c === '[' || c === '{') stack.push(i);
    else if ((c === ']' || c === '}') && stack.length) stack.pop();
  }
  return stack.at(-1);
}

function yamlHint(code: string): string {
  switch (code) {
    case 'BAD_INDENT': return 'check the indentation: nested keys are indented more than their parent, list items line up';
    case 'DUPLICATE_KEY': return 'a key may appear once per mapping; merge the two entries';
    case 'MISSING_CHAR': return 'a bracket or quote is not closed';
    case 'MULTIPLE_DOCS': return 'one document per file: split it at `---` into two files';
    default: return 'fix the YAML syntax; quote strings containing `: `, `#`, `[`, `{` or starting with `*`, `&`, `!`';
  }
}

function attachLayer(layers: Map<string, KbLayer>, headerFile: Map<string, FileResult>, h: KbLayerHeader, src: SourceDoc, problems: KbProblem[]): KbLayer | undefined {
  const existing = layers.get(h.name);
  if (existing) {
    if (existing.origin === 'index') {
      problems.push(createProblem('RW_KB_LAYER', locatePath(src, ['layer', 'name']), `layer '${h.name}' is the name of a loaded index`, 'give the YAML layer another name'));
      return undefined;
    }
    const first = headerFile.get(h.name)!;
    for (const key of ['precedence', 'trust'] as const) {
      if (first.header && first.header[key] !== h[key]) {
        const pos = locatePath(first.src, ['layer', key]);
        problems.push(createProblem('RW_KB_LAYER', locatePath(src, ['layer', key]),
          `layer '${h.name}' is declared with ${key} ${String(h[key])} here but ${String(first.header[key])} in ${pos.file}:${pos.line}`,
          'every file of a layer states the same precedence and trust'));
      }
    }
    existing.files.push(src.file);
    return existing;
  }
  const layer = createLayer({ name: h.name, precedence: h.precedence, trust: h.trust as Trust, origin: 'yaml', source: h.source ?? src.file, files: [src.file] });
  if (h.author !== undefined) layer.author = h.author;
  if (h.date !== undefined) layer.date = h.date;
  if (h.description !== undefined) layer.description = h.description;
  layers.set(h.name, layer);
  headerFile.set(h.name, { src, header: h });
  return layer;
}

function provenanceFor(layer: KbLayer, src: SourceDoc, line: number): Provenance {
  const p: Provenance = { layer: layer.name, source: src.file, line, trust: layer.trust };
  if (layer.author !== undefined) p.author = layer.author;
  if (layer.date !== undefined) p.date = layer.date;
  if (layer.source !== src.file && layer.origin === 'yaml') p.origin = layer.source;
  return p;
}

const CLAUSE_FIELDS = ['depends', 'preDepends', 'recommends', 'suggests'] as const;
const ATOM_FIELDS = ['conflicts', 'breaks', 'replaces'] as const;

/** Check one file's facts beyond the schema and add the valid ones to its layer. */
function collectFile(layer: KbLayer, src: SourceDoc, doc: Raw, problems: KbProblem[], refs: PendingRef[], declared: Declared, allowOutsidePaths: boolean): void {
  const dir = path.dirname(src.file);
  const ref = (kind: PendingRef['kind'], name: string, p: YamlPath, offset: number, what: string, version?: PendingRef['version']): void => {
    const r: PendingRef = { kind, name, src, path: p, offset, what };
    if (version) r.version = version;
    refs.push(r);
  };
  const at = (p: YamlPath, offset?: number) => locatePath(src, p, offset === undefined ? {} : { offset });
  const warn = (warnings: readonly RelationProblem[], p: YamlPath, what: string, text: string): void => {
    for (const w of warnings) problems.push(createProblem('RW_KB_DEPRECATED', at(p, w.offset), `${what}: ${w.message} in '${excerpt(text, 80)}'`, w.hint, 'warning'));
  };
  const clause = (text: unknown, p: YamlPath, what: string, allowAlternatives: boolean): LocatedAtom[] | undefined => {
    if (typeof text !== 'string') return undefined;
    const r = parseClause(text, { allowAlternatives });
    if (!r.ok) {
      problems.push(createProblem('RW_KB_BAD_RELATION', at(p, r.problem.offset), `${what}: ${r.problem.message} in '${excerpt(text, 80)}'`, r.problem.hint));
      return undefined;
    }
    warn(r.warnings, p, what, text);
    for (const a of r.value) ref('package', a.name, p, a.nameOffset, what, a.version !== undefined ? { text: a.version, offset: a.versionOffset ?? 0 } : undefined);
    return r.value;
  };
  /** An environment block's ranges, parsed (undefined when one of them is malformed: reported). */
  const environment = (env: Raw | undefined, p: YamlPath, what: string): ParsedEnvironment | undefined => {
    const out: ParsedEnvironment = {};
    let ok = true;
    for (const key of ['kernel', 'kernelVersion'] as const) {
      const text = env?.[key];
      if (typeof text !== 'string') continue;
      const r = parseVersionRange(text);
      if (!r.ok) {
        problems.push(createProblem('RW_KB_INVALID_VALUE', at([...p, key], r.problem.offset), `${what}: ${r.problem.message} in '${excerpt(text, 80)}'`, r.problem.hint));
        ok = false;
        continue;
      }
      warn(r.warnings, [...p, key], what, text);
      out[key] = r.value;
    }
    return ok ? out : undefined;
  };

  // Packages
  asArray(doc.packages).forEach((rawPkg, i) => {
    const pkg = asRecord(rawPkg);
    if (!pkg) return;
    const name = asString(pkg.name) ?? '?';
    const scheme: SchemeName = pkg.scheme === 'semver' ? 'semver' : 'deb';
    if (typeof pkg.name === 'string' && !declared.packages.has(pkg.name)) declared.packages.set(pkg.name, scheme);
    const relationsOk: boolean[] = [];
    const envs: Array<ParsedEnvironment | undefined> = [];
    asArray(pkg.versions).forEach((rawVer, j) => {
      const ver = asRecord(rawVer);
      if (!ver) return;
      const vp: YamlPath = ['packages', i, 'versions', j];
      let ok = true;
      const version = asString(ver.version);
      if (version !== undefined && !isValidVersionIn(scheme, version)) {
        problems.push(createProblem('RW_KB_BAD_VERSION', at([...vp, 'version']), `'${version}' is not a valid ${scheme} version of ${name}`, versionHint(scheme)));
        ok = false;
      }
      const label = `${name} ${version ?? '?'}`;
      for (const f of CLAUSE_FIELDS) asArray(ver[f]).forEach((t, k) => { if (typeof t === 'string' && !clause(t, [...vp, f, k], `${f} of ${label}`, true)) ok = false; });
      for (const f of ATOM_FIELDS) asArray(ver[f]).forEach((t, k) => { if (typeof t === 'string' && !clause(t, [...vp, f, k], `${f} of ${label}`, false)) ok = false; });
      asArray(ver.provides).forEach((t, k) => {
        if (typeof t !== 'string') return;
        const r = parseProvision(t);
        if (r.ok) declared.virtual.add(r.value.name);
        else {
          problems.push(createProblem('RW_KB_BAD_RELATION', at([...vp, 'provides', k], r.problem.offset), `provides of ${label}: ${r.problem.message} in '${excerpt(t, 80)}'`, r.problem.hint));
          ok = false;
        }
      });
      const env = environment(asRecord(ver.environment), [...vp, 'environment'], `kernel range of ${label}`);
      if (env === undefined) ok = false;
      envs.push(env);
      const seenMigrations = new Map<string, number>();
      asArray(ver.migrations).forEach((rawM, k) => {
        const m = asRecord(rawM);
        if (!m) return;
        const mp: YamlPath = [...vp, 'migrations', k];
        const key = `${String(m.database)}/${String(m.id)}`;
        if (seenMigrations.has(key)) problems.push(createProblem('RW_KB_DUPLICATE', at([...mp, 'id']), `migration '${String(m.id)}' of database '${String(m.database)}' is listed twice in ${label}`, 'migration ids are unique per database'));
        seenMigrations.set(key, k);
        if (m.down === undefined && m.irreversible !== true) {
          problems.push(createProblem('RW_KB_MIGRATION', at(mp), `migration '${String(m.id)}' of ${label} has no down script`, 'add `down: path/to/down.sql`, or `irreversible: true` so plans back the database up first'));
        }
        if (m.down !== undefined && m.irreversible === true) {
          problems.push(createProblem('RW_KB_MIGRATION', at([...mp, 'irreversible']), `migration '${String(m.id)}' of ${label} is marked irreversible but has a down script`, 'remove one of `down:` and `irreversible: true`'));
        }
        for (const s of ['up', 'down'] as const) {
          const script = asString(m[s]);
          if (script === undefined) continue;
          const where = placeInFolder(dir, script);
          if (where.kind === 'outside' && !allowOutsidePaths) {
            problems.push(createProblem('RW_KB_INVALID_VALUE', at([...mp, s]), `${s} script '${excerpt(script)}' of migration '${String(m.id)}' is outside the knowledge base's folder`, `migration scripts live beside the YAML file that names them (a relative path inside ${dir})`));
          } else if (!existsSync(where.path)) {
            problems.push(createProblem('RW_KB_MISSING_FILE', at([...mp, s]), `${s} script '${excerpt(script)}' of migration '${String(m.id)}' does not exist`, `paths are relative to ${src.file}`));
          }
        }
      });
      relationsOk.push(ok);
    });
    const parsed = PackageSchema.safeParse(rawPkg);
    if (!parsed.success) return;
    const pkgPos = at(['packages', i]);
    layer.packages.push({ value: parsed.data, file: src.file, path: ['packages', i], position: pkgPos, provenance: provenanceFor(layer, src, pkgPos.line), environments: envs });
    parsed.data.versions.forEach((v, j) => {
      if (relationsOk[j] === false) return;
      const line = at(['packages', i, 'versions', j]).line;
      const rec = createEmptyRecord(parsed.data.name, v.version, parsed.data.architecture, provenanceFor(layer, src, line), scheme);
      const clauses = (list: string[] | undefined) => (list ?? []).map((t) => { const r = parseClause(t); return r.ok ? toAlternatives(r.value) : []; });
      const atoms = (list: string[] | undefined) => (list ?? []).flatMap((t) => { const r = parseClause(t, { allowAlternatives: false }); return r.ok ? r.value.map(toAtom) : []; });
      rec.depends = clauses(v.depends);
      rec.preDepends = clauses(v.preDepends);
      rec.recommends = clauses(v.recommends);
      rec.suggests = clauses(v.suggests);
      rec.conflicts = atoms(v.conflicts);
      rec.breaks = atoms(v.breaks);
      rec.replaces = atoms(v.replaces);
      rec.provides = (v.provides ?? []).flatMap((t) => { const r = parseProvision(t); return r.ok ? [r.value.version !== undefined ? { name: r.value.name, version: r.value.version } : { name: r.value.name }] : []; });
      const d = v.description ?? parsed.data.description;
      if (d !== undefined) rec.description = d;
      if (parsed.data.section !== undefined) rec.section = parsed.data.section;
      layer.records.push(rec);
    });
  });

  // Services
  asArray(doc.services).forEach((rawSvc, i) => {
    const svc = asRecord(rawSvc);
    if (!svc) return;
    const sp: YamlPath = ['services', i];
    const name = asString(svc.name) ?? '?';
    if (typeof svc.name === 'string') declared.services.add(svc.name);
    asArray(svc.packages).forEach((p, k) => { if (typeof p === 'string') ref('package', p, [...sp, 'packages', k], 0, `packages of service ${name}`); });
    asArray(svc.dependsOn).forEach((s, k) => { if (typeof s === 'string') ref('service', s, [...sp, 'dependsOn', k], 0, `dependsOn of service ${name}`); });
    const restart = asRecord(svc.restart);
    if (restart) {
      if (restart.systemd === undefined && restart.runit === undefined && restart.command === undefined) {
        problems.push(createProblem('RW_KB_MISSING_KEY', at([...sp, 'restart']), `restart of service ${name} says nothing`, 'give `systemd: unit.service`, `runit: name` or `command: [argv...]`'));
      }
      if (restart.systemd !== undefined && restart.runit !== undefined) {
        problems.push(createProblem('RW_KB_INVALID_VALUE', at([...sp, 'restart', 'runit'], 0), `service ${name} is restarted by both systemd and runit`, 'keep the one supervising it on your hosts'));
      }
    }
    asArray(svc.metrics).forEach((rawM, k) => {
      const m = asRecord(rawM);
      if (m && m.min === undefined && m.max === undefined) {
        problems.push(createProblem('RW_KB_MISSING_KEY', at([...sp, 'metrics', k]), `metric '${String(m.name)}' of service ${name} has no threshold`, 'add `max:` (healthy at or below) or `min:` (healthy at or above)'));
      }
      if (m && typeof m.min === 'number' && typeof m.max === 'number' && m.min > m.max) {
        problems.push(createProblem('RW_KB_INVALID_VALUE', at([...sp, 'metrics', k, 'min']), `metric '${String(m.name)}' of service ${name}: min ${m.min} is above max ${m.max}`, 'no value could be healthy'));
      }
    });
    const parsed = ServiceSchema.safeParse(rawSvc);
    if (!parsed.success) return;
    const pos = at(sp);
    layer.services.push({ value: parsed.data, file: src.file, path: sp, position: pos, provenance: provenanceFor(layer, src, pos.line) });
  });

  // Functional dependencies
  const functional = asRecord(doc.functional);
  asArray(functional?.requires).forEach((rawR, i) => {
    const r = asRecord(rawR);
    if (!r) return;
    const rp: YamlPath = ['functional', 'requires', i];
    const pkg = clause(r.package, [...rp, 'package'], 'functional requirement', false);
    const req = clause(r.requires, [...rp, 'requires'], 'functional requirement', true);
    if (pkg && req && typeof r.package === 'string' && typeof r.requires === 'string') {
      const pos = at(rp);
      const value = { packageText: r.package, requiresText: r.requires, package: toAlternatives(pkg), requires: toAlternatives(req), ...(typeof r.reason === 'string' ? { reason: r.reason } : {}) };
      layer.requirements.push({ value, file: src.file, path: rp, position: pos, provenance: provenanceFor(layer, src, pos.line) });
    }
  });
  asArray(functional?.impacts).forEach((rawI, i) => {
    const imp = asRecord(rawI);
    if (!imp) return;
    const ip: YamlPath = ['functional', 'impacts', i];
    if (typeof imp.package === 'string') ref('package', imp.package, [...ip, 'package'], 0, 'functional impact');
    if (typeof imp.service === 'string') ref('service', imp.service, [...ip, 'service'], 0, 'functional impact');
    const parsed = FunctionalImpactSchema.safeParse(rawI);
    if (!parsed.success) return;
    const pos = at(ip);
    layer.impacts.push({ value: parsed.data, file: src.file, path: ip, position: pos, provenance: provenanceFor(layer, src, pos.line) });
  });

  // Known issues
  asArray(doc.knownIssues).forEach((rawK, i) => {
    const ki = asRecord(rawK);
    if (!ki) return;
    const kp: YamlPath = ['knownIssues', i];
    const id = asString(ki.id) ?? '?';
    const when = asRecord(ki.when);
    let ok = true;
    const conditionPackages: Alternatives[] = [];
    let conditionEnv: ParsedEnvironment | undefined;
    if (when) {
      if (when.packages === undefined && when.environment === undefined) {
        problems.push(createProblem('RW_KB_MISSING_KEY', at([...kp, 'when']), `known issue ${id} has an empty condition`, 'give `packages:` and/or `environment:` under `when:`'));
      }
      asArray(when.packages).forEach((t, k) => {
        if (typeof t !== 'string') return;
        const atoms = clause(t, [...kp, 'when', 'packages', k], `condition of known issue ${id}`, true);
        if (atoms) conditionPackages.push(toAlternatives(atoms));
        else ok = false;
      });
      const env = asRecord(when.environment);
      if (env) {
        conditionEnv = environment(env, [...kp, 'when', 'environment'], `kernel range of known issue ${id}`);
        if (conditionEnv === undefined) ok = false;
      }
    }
    const effect = asRecord(ki.effect);
    asArray(effect?.services).forEach((s, k) => { if (typeof s === 'string') ref('service', s, [...kp, 'effect', 'services', k], 0, `effect of known issue ${id}`); });
    const parsed = KnownIssueSchema.safeParse(rawK);
    if (!parsed.success || !ok) return;
    const pos = at(kp);
    layer.knownIssues.push({
      value: parsed.data, file: src.file, path: kp, position: pos, provenance: provenanceFor(layer, src, pos.line),
      when: { packages: conditionPackages, ...(conditionEnv ? { environment: conditionEnv } : {}) },
    });
  });

  // Configuration files
  asArray(doc.configFiles).forEach((rawC, i) => {
    const cf = asRecord(rawC);
    if (!cf) return;
    const cp: YamlPath = ['configFiles', i];
    if (typeof cf.package === 'string') ref('package', cf.package, [...cp, 'package'], 0, `config file ${String(cf.path)}`);
    if (typeof cf.reload === 'string') ref('service', cf.reload, [...cp, 'reload'], 0, `config file ${String(cf.path)}`);
    const parsed = ConfigFileSchema.safeParse(rawC);
    if (!parsed.success) return;
    const pos = at(cp);
    layer.configFiles.push({ value: parsed.data, file: src.file, path: cp, position: pos, provenance: provenanceFor(layer, src, pos.line) });
  });
}

/**
 * Where a migration script named in a KB file is: inside the file's folder (following links:
 * a link out of the folder is outside), outside it (an absolute path, `..`, or a link out), or
 * missing. A knowledge base may only make Rollwise read files it ships.
 */
/** Names defined by all layers: package names, virtual names they provide, services. */
function checkReferences(layers: readonly KbLayer[], refs: readonly PendingRef[], declared: Declared, problems: KbProblem[]): void {
  // per layer, highest precedence first: a name lookup (index layers) or a map of its records
  const lookups = layers.map((l): { scheme: (n: string) => SchemeName | undefined; provides: (n: string) => boolean } => {
    if (l.names) { const names = l.names; return { scheme: (n) => names.schemeOf(n), provides: (n) => names.provides(n) }; }
    const schemes = new Map<string, SchemeName>();
    const provided = new Set<string>();
    for (const r of l.records) {
      if (!schemes.has(r.name)) schemes.set(r.name, r.scheme);
      for (const p of r.provides) provided.add(p.name);
    }
    return { scheme: (n) => schemes.get(n), provides: (n) => provided.has(n) };
  });
  const services = new Set<string>(declared.services);
  for (const l of layers) for (const s of l.services) services.add(s.value.name);
  const schemeOfName = (name: string): SchemeName | undefined => {
    for (const k of lookups) { const s = k.scheme(name); if (s !== undefined) return s; }
    // Names written in YAML whose entry failed the schema still count as defined, so one mistake is reported once.
    return declared.packages.get(name);
  };
  const isVirtual = (name: string): boolean => declared.virtual.has(name) || lookups.some((k) => k.provides(name));
  const allNames = (): string[] => {
    const out = new Set<string>(declared.packages.keys());
    for (const l of layers) for (const n of l.names ? l.names.all() : l.records.map((r) => r.name)) out.add(n);
    return [...out];
  };
  for (const ref of refs) {
    if (ref.kind === 'service') {
      if (!services.has(ref.name)) {
        const near = closestNames(ref.name, [...services])[0];
        problems.push(createProblem('RW_KB_UNDEFINED_SERVICE', locatePath(ref.src, ref.path, { offset: ref.offset }), `${ref.what}: service '${ref.name}' is not defined in any loaded layer`,
          near ? `did you mean '${near}'?` : 'define it under `services:` in a loaded file'));
      }
      continue;
    }
    const scheme = schemeOfName(ref.name);
    if (scheme === undefined && !isVirtual(ref.name)) {
      const hasIndex = layers.some((l) => l.origin === 'index');
      const near = closestNames(ref.name, allNames().filter((n) => Math.abs(n.length - ref.name.length) <= 3))[0];
      const hint = near ? `did you mean '${near}'?` : hasIndex ? 'define it under `packages:` or check the spelling against the distribution index' : 'define it under `packages:`, or load the distribution index that has it (a Packages file as another PATH, or --index)';
      problems.push(createProblem('RW_KB_UNDEFINED_PACKAGE', locatePath(ref.src, ref.path, { offset: ref.offset }), `${ref.what}: package '${ref.name}' is not defined in any loaded layer`, hint));
      continue;
    }
    if (scheme !== undefined && ref.version && !isValidVersionIn(scheme, ref.version.text)) {
      problems.push(createProblem('RW_KB_BAD_VERSION', locatePath(ref.src, ref.path, { offset: ref.version.offset }), `${ref.what}: '${ref.version.text}' is not a valid ${scheme} version of ${ref.name}`, versionHint(scheme)));
    }
  }
}

/** Duplicates inside a layer, equal-precedence disagreements between layers, service dependency cycles. */
function checkEntities(layers: readonly KbLayer[], sources: ReadonlyMap<string, SourceDoc>, problems: KbProblem[]): void {
  type Pos = { file: string; line: number; column: number };
  type Entry = { layer: KbLayer; position: Pos };
  const posOf = (file: string, p: YamlPath, fallback: Pos): Pos => {
    const src = sources.get(file);
    return src ? locatePath(src, p) : fallback;
  };
  const kinds: Array<{ label: string; keys: (l: KbLayer) => Array<[string, Entry]> }> = [
    { label: 'package version', keys: (l) => l.packages.flatMap((p) => p.value.versions.map((v, j): [string, Entry] => [`${p.value.name} ${v.version}`, { layer: l, position: posOf(p.file, [...p.path, 'versions', j, 'version'], p.position) }])) },
    { label: 'service', keys: (l) => l.services.map((s): [string, Entry] => [s.value.name, { layer: l, position: posOf(s.file, [...s.path, 'name'], s.position) }]) },
    { label: 'known issue', keys: (l) => l.knownIssues.map((k): [string, Entry] => [k.value.id, { layer: l, position: posOf(k.file, [...k.path, 'id'], k.position) }]) },
    { label: 'config file', keys: (l) => l.configFiles.map((c): [string, Entry] => [c.value.path, { layer: l, position: posOf(c.file, [...c.path, 'path'], c.position) }]) },
  ];
  for (const kind of kinds) {
    const seen = new Map<string, Entry>();
    for (const l of layers) {
      if (l.origin !== 'yaml') continue;
      for (const [key, e] of kind.keys(l)) {
        const prev = seen.get(key);
        if (!prev) {
          seen.set(key, e);
          continue;
        }
        const where = `${prev.position.file}:${prev.position.line}`;
        if (prev.layer === l) {
          problems.push(createProblem('RW_KB_DUPLICATE', e.position, `${kind.label} '${key}' is defined twice in layer '${l.name}' (first at ${where})`, 'keep one definition per layer; a higher-precedence layer can override it'));
        } else if (prev.layer.precedence === l.precedence) {
          problems.push(createProblem('RW_KB_AMBIGUOUS', e.position, `${kind.label} '${key}' is defined by layers '${prev.layer.name}' and '${l.name}' with the same precedence ${l.precedence} (other at ${where})`, 'give one of the layers a higher precedence so it is clear which wins'));
        }
      }
    }
  }
  checkServiceCycles(layers, sources, problems);
}

function checkServiceCycles(layers: readonly KbLayer[], sources: ReadonlyMap<string, SourceDoc>, problems: KbProblem[]): void {
  const winner = new Map<string, KbLayer['services'][number]>();
  for (const l of layers) for (const s of l.services) if (!winner.has(s.value.name)) winner.set(s.value.name, s);
  const state = new Map<string, 1 | 2>();
  const reported = new Set<string>();
  const visit = (name: string, stack: string[]): void => {
    const s = winner.get(name);
    if (!s) return;
    state.set(name, 1);
    (s.value.dependsOn ?? []).forEach((dep, k) => {
      if (state.get(dep) === 1) {
        const cycle = [...stack.slice(stack.indexOf(dep)), name, dep];
        const key = [...new Set(cycle)].sort().join(',');
        if (reported.has(key)) return;
        reported.add(key);
        const src = sources.get(s.file);
        const pos = src ? locatePath(src, [...s.path, 'dependsOn', k]) : s.position;
        problems.push(createProblem('RW_KB_CYCLE', pos, `services depend on each other in a cycle: ${cycle.join(' → ')}`, 'a service cannot (indirectly) depend on itself; remove one dependsOn entry'));
      } else if (!state.has(dep)) {
        visit(dep, [...stack, name]);
      }
    });
    state.set(name, 2);
  };
  for (const name of winner.keys()) if (!state.has(name)) visit(name, []);
}

/** The top-level keys a schema object accepts. */
function keysOfSchema(schema: unknown): Set<string> {
  const shape = (schema as { shape?: Record<string, unknown> }).shape;
  return new Set(shape ? Object.keys(shape) : []);
}
