// A small ESLint rule that keeps the layers of docs/ARCHITECTURE.md one-way.
// A file in src/<layer>/ may import only from its own layer or from layers to its left.
// solver/internal/ may be imported only from inside src/solver/.
import path from 'node:path';

export const LAYERS = [
  'shared', 'versions', 'kb', 'universe', 'solver', 'fleet', 'planner', 'analysis',
  'monitor', 'hosts', 'deploy', 'learn', 'store', 'app',
];

function layerOf(file, srcRoot) {
  const rel = path.relative(srcRoot, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  const [first] = rel.split(path.sep);
  return LAYERS.includes(first) ? { layer: first, rel } : undefined;
}

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'imports between layers go one way (see docs/ARCHITECTURE.md)' },
    messages: {
      wrongWay: "layer '{{from}}' may not import from layer '{{to}}' (order: {{order}})",
      internal: "'solver/internal' is private to src/solver/; import from 'solver/index.js'",
    },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    const srcRoot = path.resolve(context.cwd, 'src');
    const from = layerOf(file, srcRoot);
    if (!from) return {};
    function check(node, spec) {
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const target = path.resolve(path.dirname(file), spec);
      const to = layerOf(target, srcRoot);
      if (!to) return;
      if (LAYERS.indexOf(to.layer) > LAYERS.indexOf(from.layer)) {
        context.report({ node, messageId: 'wrongWay', data: { from: from.layer, to: to.layer, order: LAYERS.join(' → ') } });
      }
      if (to.rel.split(path.sep).slice(0, 2).join('/') === 'solver/internal' && from.layer !== 'solver') {
        context.report({ node, messageId: 'internal' });
      }
    }
    return {
      ImportDeclaration: (n) => check(n, n.source.value),
      ExportNamedDeclaration: (n) => n.source && check(n, n.source.value),
      ExportAllDeclaration: (n) => check(n, n.source.value),
      ImportExpression: (n) => n.source.type === 'Literal' && check(n, n.source.value),
    };
  },
};

export default { rules: { 'one-way': rule } };
