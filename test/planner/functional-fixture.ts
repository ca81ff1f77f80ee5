/**
 * A small world for requirements across hosts: an application (`shop`) whose 2.x needs the
 * database (`pgsql`) at 15 or later on the hosts that run it, application hosts and database
 * hosts (one on 13, one on 15), as files: a Packages index, a KB layer, status files, an inventory.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const PACKAGES = `Package: shop
Version: 1.0-1
Architecture: all
Description: the shop

Package: shop
Version: 2.0-1
Architecture: all
Description: the shop

Package: pgsql
Version: 13-1
Architecture: amd64
Description: the database

Package: pgsql
Version: 15-1
Architecture: amd64
Description: the database
`;

const KB = `apiVersion: rollwise/v1
kind: KnowledgeBase
layer:
  name: org-shop
  precedence: 50
  trust: organisation
functional:
  requires:
    - package: shop (>= 2.0-1)
      requires: pgsql (>= 15)
      reason: the 2.x checkout uses MERGE
`;

const stanza = (name: string, version: string, arch = 'amd64'): string => `Package: ${name}\nStatus: install ok installed\nPriority: optional\nArchitecture: ${arch}\nVersion: ${version}\nDescription: ${name}\n`;

export const INVENTORY = `version: 1
defaults:
  facts: { architecture: amd64, os: { id: debian, versionId: "12", codename: bookworm } }
hosts:
  - { name: app-1, status: status/app }
  - { name: app-2, status: status/app }
  - { name: db-1, status: status/db13 }
  - { name: db-2, status: status/db15 }
`;

export interface FunctionalWorld {
  dir: string;
  index: string;
  kb: string;
  inventory: string;
  cleanup(): void;
}

export function createFunctionalWorld(inventory = INVENTORY): FunctionalWorld {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rw-functional-'));
  mkdirSync(path.join(dir, 'status'));
  mkdirSync(path.join(dir, 'kb'));
  writeFileSync(path.join(dir, 'Packages'), PACKAGES);
  writeFileSync(path.join(dir, 'kb', 'functional.yaml'), KB);
  writeFileSync(path.join(dir, 'status', 'app'), stanza('shop', '1.0-1', 'all'));
  writeFileSync(path.join(dir, 'status', 'db13'), stanza('pgsql', '13-1'));
  writeFileSync(path.join(dir, 'status', 'db15'), stanza('pgsql', '15-1'));
  writeFileSync(path.join(dir, 'inventory.yaml'), inventory);
  return {
    dir, index: path.join(dir, 'Packages'), kb: path.join(dir, 'kb'), inventory: path.join(dir, 'inventory.yaml'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
