/**
 * A small fleet over a lab's directory roots, as the deployment service tests use it: the two kit
 * versions (a conffile each), an empty organisation KB layer and an inventory naming every lab
 * host's root in one group `web`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CreateLabOptions, Lab } from '../lab/index.js';

export const KIT_PACKAGES: NonNullable<CreateLabOptions['packages']> = [
  { name: 'kit', version: '1.0', scripts: false, conffiles: { '/etc/kit.conf': 'v=1\n' } },
  { name: 'kit', version: '2.0', scripts: false, conffiles: { '/etc/kit.conf': 'v=2\n' } },
];

export async function writeRootsFleet(lab: Lab): Promise<{ kb: string; inventory: string }> {
  const kb = path.join(lab.dir, 'kb');
  await mkdir(kb, { recursive: true });
  await writeFile(path.join(kb, 'layer.yaml'), 'apiVersion: rollwise/v1\nkind: KnowledgeBase\nlayer:\n  name: test\n  precedence: 50\n  trust: organisation\n  author: test\n  date: 2026-12-04\n  source: test\n');
  const inventory = path.join(lab.dir, 'inventory.yaml');
  await writeFile(inventory, `groups:\n  web: {}\nhosts:\n${lab.hosts.map((h) => `  - name: ${h.name}\n    groups: [web]\n    root: ${path.relative(lab.dir, h.root)}\n`).join('')}`);
  return { kb, inventory };
}
