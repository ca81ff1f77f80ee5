/**
 * A small, fast world for planner and CLI tests: a Debian Packages index, an organisation KB
 * layer (an environment requirement and a known issue), dpkg status files and an inventory.
 * States: up-to-date hosts (ready, with a known issue), hosts with an old kernel (requirement
 * conflict), a host with a package that blocks the upgrade (removal conflict), a Debian 11 host.
 */
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const PACKAGES = `Package: libc6
Version: 2.36-9
Architecture: amd64
Priority: required
Description: GNU C Library

Package: libfoo1
Version: 1.0-1
Architecture: amd64
Depends: libc6 (>= 2.36)
Description: foo library

Package: libfoo1
Version: 2.0-1
Architecture: amd64
Depends: libc6 (>= 2.36)
Description: foo library

Package: legacy-tool
Version: 1.0-1
Architecture: amd64
Depends: libfoo1 (<< 2.0)
Description: an old tool pinned to libfoo 1

Package: helper
Version: 3.1-2
Architecture: all
Description: something to install
`;

export const KB = `apiVersion: rollwise/v1
kind: KnowledgeBase
layer:
  name: org-test
  precedence: 50
  trust: organisation
packages:
  - name: app-a
    architecture: amd64
    versions:
      - version: "1.0-1"
        depends: ["libfoo1"]
      - version: "2.0-1"
        depends: ["libfoo1 (>= 2.0)"]
        environment:
          kernel: ">= 6.1"
knownIssues:
  - id: KI-T1
    title: app-a 2 leaks file handles on Debian 12
    when:
      packages: ["app-a (>= 2.0-1)"]
      environment:
        releases: ["12"]
    effect:
      impact: resources
      description: file handles grow until restart
    severity: medium
    source: test-incident
    workaround: restart weekly
`;

function stanza(name: string, version: string, extra = ''): string {
  return `Package: ${name}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nVersion: ${version}\n${extra}Description: ${name}\n`;
}

export const STATUS_BASE = [stanza('libc6', '2.36-9'), stanza('libfoo1', '1.0-1', 'Depends: libc6 (>= 2.36)\n'), stanza('app-a', '1.0-1', 'Depends: libfoo1\n')].join('\n');
export const STATUS_LEGACY = [STATUS_BASE, stanza('legacy-tool', '1.0-1', 'Depends: libfoo1 (<< 2.0)\n')].join('\n');
/** A package only dpkg knows (not in any layer), with a removed-but-configured neighbour that must be ignored. */
export const STATUS_LOCAL = [STATUS_BASE, stanza('site-local', '0.1', 'Depends: libc6\n'), 'Package: gone\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 9\nDescription: gone\n'].join('\n');

export const INVENTORY = `version: 1
defaults:
  facts: { architecture: amd64, memoryMiB: 2048, cpus: 2 }
groups:
  bookworm:
    facts: { os: { id: debian, versionId: "12", codename: bookworm }, kernel: 6.1.0-18-amd64 }
hosts:
  - name: ok-1
    groups: [bookworm]
    status: status/base
  - name: ok-2
    groups: [bookworm]
    status: status/base
  - name: ok-3
    groups: [bookworm]
    status: status/base
    labels: { rack: r2 }
  - name: old-1
    groups: [bookworm]
    status: status/base
    facts: { kernel: 5.10.0-28-amd64 }
  - name: old-2
    groups: [bookworm]
    status: status/base
    facts: { kernel: 5.10.0-28-amd64 }
  - name: legacy-1
    groups: [bookworm]
    status: status/legacy
  - name: deb11-1
    status: status/base
    facts: { os: { id: debian, versionId: "11", codename: bullseye }, kernel: 6.1.0-18-amd64 }
  - name: inline-1
    groups: [bookworm]
    installed: ["libc6=2.36-9", "libfoo1=1.0-1", "app-a=1.0-1"]
`;

export interface World {
  dir: string;
  index: string;
  kb: string;
  inventory: string;
  cleanup(): void;
}

export function createWorld(overrides: { inventory?: string } = {}): World {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rw-plan-'));
  mkdirSync(path.join(dir, 'status'));
  mkdirSync(path.join(dir, 'kb'));
  writeFileSync(path.join(dir, 'Packages'), PACKAGES);
  writeFileSync(path.join(dir, 'kb', 'org.yaml'), KB);
  writeFileSync(path.join(dir, 'status', 'base'), STATUS_BASE);
  writeFileSync(path.join(dir, 'status', 'legacy'), STATUS_LEGACY);
  writeFileSync(path.join(dir, 'status', 'local'), STATUS_LOCAL);
  writeFileSync(path.join(dir, 'inventory.yaml'), overrides.inventory ?? INVENTORY);
  return {
    dir,
    index: path.join(dir, 'Packages'),
    kb: path.join(dir, 'kb'),
    inventory: path.join(dir, 'inventory.yaml'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
