// ESLint rules that keep the layers of docs/ARCHITECTURE.md true without anyone remembering them.
//
// layers/one-way: a file in src/<layer>/ imports only from its own layer or from layers to its
//   left, and another layer only through that layer's index.ts (its public surface).
// layers/index-only: files outside src/ (tests, benchmarks, tools) import a layer only through its
//   index.ts, except that a test under test/<layer>/ may reach into <layer>'s own files (it tests
//   them). Tests may import any layer (they are consumers), never around the public surface.
// layers/no-cycle: no import cycles among the files of src/ (type-only imports included: a cycle
//   of types is still two modules that cannot be understood one without the other).
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export const LAYERS = [
  'shared', 'versions', 'kb', 'universe', 'solver', 'fleet', 'planner', 'analysis',
  'hosts', 'monitor', 'deploy', 'learn', 'store', 'app',
];

/** The layer of an absolute path under src/, and the path inside src/. */
function layerOf(file, srcRoot) {
  const rel = path.relative(srcRoot, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  const [first] = rel.split(path.sep);
  return LAYERS.includes(first) ? { layer: first, rel } : undefined;
}

/** For a file under test/<layer>/, that layer. */
function testLayerOf(file, repoRoot) {
  const rel = path.relative(path.join(repoRoot, 'test'), file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  const [first] = rel.split(path.sep);
  return LAYERS.includes(first) ? first : undefined;
}

function isIndexOf(target, srcRoot, layer) {
  return path.relative(path.join(srcRoot, layer), target).replace(/\.(js|ts)$/, '') === 'index';
}

function importVisitors(check) {
  return {
    ImportDeclaration: (n) => check(n, n.source.value),
    ExportNamedDeclaration: (n) => n.source && check(n, n.source.value),
    ExportAllDeclaration: (n) => check(n, n.source.value),
    ImportExpression: (n) => n.source.type === 'Literal' && check(n, n.source.value),
  };
}

const oneWay = {
  meta: {
    type: 'problem',
    docs: { description: 'imports between layers go one way, through the layer\'s index.ts (see docs/ARCHITECTURE.md)' },
    messages: {
      wrongWay: "layer '{{from}}' may not import from layer '{{to}}' (order: {{order}})",
      notIndex: "import layer '{{to}}' through its public surface ('{{index}}'), not its file '{{file}}'",
    },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    const srcRoot = path.resolve(context.cwd, 'src');
    const from = layerOf(file, srcRoot);
    if (!from) return {};
    return importVisitors((node, spec) => {
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const target = path.resolve(path.dirname(file), spec);
      const to = layerOf(target, srcRoot);
      if (!to || to.layer === from.layer) return;
      if (LAYERS.indexOf(to.layer) > LAYERS.indexOf(from.layer)) {
        context.report({ node, messageId: 'wrongWay', data: { from: from.layer, to: to.layer, order: LAYERS.join(' → ') } });
      } else if (!isIndexOf(target, srcRoot, to.layer)) {
        context.report({ node, messageId: 'notIndex', data: { to: to.layer, index: `src/${to.layer}/index.ts`, file: `src/${to.rel}` } });
      }
    });
  },
};

const indexOnly = {
  meta: {
    type: 'problem',
    docs: { description: 'tests, benchmarks and tools use a layer through its index.ts (a test may reach into its own layer)' },
    messages: {
      notIndex: "import layer '{{to}}' through its public surface ('{{index}}'), not its file '{{file}}'",
    },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    const repoRoot = path.resolve(context.cwd);
    const srcRoot = path.join(repoRoot, 'src');
    if (layerOf(file, srcRoot)) return {};
    const own = testLayerOf(file, repoRoot);
    return importVisitors((node, spec) => {
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const target = path.resolve(path.dirname(file), spec);
      const to = layerOf(target, srcRoot);
      if (!to || to.layer === own) return;
      if (!isIndexOf(target, srcRoot, to.layer)) {
        context.report({ node, messageId: 'notIndex', data: { to: to.layer, index: `src/${to.layer}/index.ts`, file: `src/${to.rel}` } });
      }
    });
  },
};

// ---- cycles: the import graph of src/, computed once per lint run ----------------------------

const IMPORT_RE = /^\s*(?:import|export)\s[^'";]*?\bfrom\s+['"](\.[^'"]+)['"]|^\s*import\s+['"](\.[^'"]+)['"]/gm;

function listTs(dir, out) {
  for (const n of readdirSync(dir)) {
    const p = path.join(dir, n);
    if (statSync(p).isDirectory()) listTs(p, out);
    else if (/\.ts$/.test(n) && !/\.d\.ts$/.test(n)) out.push(p);
  }
  return out;
}

function resolveImport(from, spec) {
  const t = path.resolve(path.dirname(from), spec).replace(/\.js$/, '');
  for (const c of [`${t}.ts`, path.join(t, 'index.ts')]) if (existsSync(c)) return c;
  return undefined;
}

let cycleCache;

/** file → the cycle (files, in order) it belongs to, for every file of src/ that is in one. */
function cyclesOf(srcRoot) {
  if (cycleCache && cycleCache.root === srcRoot) return cycleCache.byFile;
  const files = existsSync(srcRoot) ? listTs(srcRoot, []) : [];
  const edges = new Map();
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const out = new Set();
    for (const m of text.matchAll(IMPORT_RE)) {
      const r = resolveImport(f, m[1] ?? m[2]);
      if (r) out.add(r);
    }
    edges.set(f, out);
  }
  // Tarjan's strongly connected components, iteratively (deep import chains)
  let counter = 0;
  const index = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const byFile = new Map();
  for (const start of files) {
    if (index.has(start)) continue;
    const work = [[start, [...(edges.get(start) ?? [])], 0]];
    index.set(start, counter); low.set(start, counter); counter++; stack.push(start); onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const [v, succ] = frame;
      if (frame[2] < succ.length) {
        const w = succ[frame[2]++];
        if (!index.has(w)) {
          index.set(w, counter); low.set(w, counter); counter++; stack.push(w); onStack.add(w);
          work.push([w, [...(edges.get(w) ?? [])], 0]);
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1][0];
        low.set(parent, Math.min(low.get(parent), low.get(v)));
      }
      if (low.get(v) === index.get(v)) {
        const scc = [];
        let w;
        do { w = stack.pop(); onStack.delete(w); scc.push(w); } while (w !== v);
        if (scc.length > 1) for (const f of scc) byFile.set(f, scc);
      }
    }
  }
  cycleCache = { root: srcRoot, byFile };
  return byFile;
}

const noCycle = {
  meta: {
    type: 'problem',
    docs: { description: 'no import cycles among the files of src/' },
    messages: { cycle: 'this file is in an import cycle: {{files}} (pass a function in, or move the shared part down)' },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    const srcRoot = path.resolve(context.cwd, 'src');
    if (!layerOf(file, srcRoot)) return {};
    return {
      Program(node) {
        const scc = cyclesOf(srcRoot).get(file);
        if (scc) context.report({ node, messageId: 'cycle', data: { files: scc.map((f) => path.relative(srcRoot, f)).sort().join(' ↔ ') } });
      },
    };
  },
};

export default { rules: { 'one-way': oneWay, 'index-only': indexOnly, 'no-cycle': noCycle } };
