import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadDebianIndex, parseDebianPackages } from '../../src/kb/index.js';
import { RollwiseError } from '../../src/shared/index.js';
import { addDebianPackagesFast, createUniverse, createUniverseBuilder, loadDebianUniverse, REL, type Universe } from '../../src/universe/index.js';

const INDEX = new URL('../../../shared/data/debian/bookworm-main-amd64.Packages.xz', import.meta.url).pathname;

function fast(text: string): Universe {
  const b = createUniverseBuilder();
  addDebianPackagesFast(b, Buffer.from(text, 'latin1'), 'bad/Packages', { name: 'x' });
  return b.build();
}

function caught(f: () => unknown): RollwiseError {
  try {
    f();
  } catch (e) {
    if (e instanceof RollwiseError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

/** Every relation of every pv as text, for comparing two universes. */
function dump(u: Universe): string[] {
  const out: string[] = [];
  for (let pv = 0; pv < u.pvCount; pv++) {
    const rel: string[] = [];
    for (let k = 0; k < REL.enhances; k++) rel.push(u.clausesOf(pv, k).map((c) => [...c].map((a) => u.formatAtom(a)).join('|')).join(','));
    out.push(`${u.describePv(pv)} ${u.archOf(pv)} e=${u.isEssential(pv)} r=${u.isRequired(pv)} ma=${u.multiArchOf(pv)} line=${u.pvLine[pv]} ${rel.join(' ; ')}`);
  }
  return out;
}

describe('the byte fast path rejects what the record importer rejects, with the same error', () => {
  const ok = 'Package: a1\nVersion: 1.0\nArchitecture: all\n';
  const bad = [
    `${ok}\nPackage: b1\nVersion 2.0\nArchitecture: all\n`,
    ` leading\n${ok}`,
    `${ok}\nPackage: b1\nArchitecture: all\n`,
    `${ok}\nVersion: 1\nArchitecture: all\n`,
    `${ok}\nPackage: b1\nVersion: 1.0_x?\nArchitecture: all\n`,
    'Package: B_1\nVersion: 1\nArchitecture: all\n',
    'Package: b\nVersion: 1\nArchitecture: all\n',
    `${ok}Depends: b1 (>= 1.0, c1\n`,
    `${ok}Depends: c1, b1 (>= )\n`,
    `${ok}Depends: b1 (~ 1)\n`,
    `${ok}Depends: b1 |\n`,
    `${ok}Conflicts: b1 | c1\n`,
    `${ok}Provides: b1 (<< 2)\n`,
    `${ok}Version: 2\n`,
    `${ok}Essential: maybe\n`,
    `${ok}Depends: x1,\n y1 (>= 1:)\n`,
    `${ok}Depends: x1,\n y1 (>= 1) z1\n`,
    `${ok}Pre-Depends: x1 [amd64\n`,
    `${ok}Bad Field: 1\n`,
    `${ok}\rDepends: x1\n`,
    `${ok}Depends: x1,\r\n \r\n y1 (\n`,
  ];
  for (const text of bad) {
    it(`rejects ${JSON.stringify(text.slice(ok.length > text.length ? 0 : 0, 60))}`, () => {
      const slow = caught(() => parseDebianPackages(Buffer.from(text), 'bad/Packages'));
      const quick = caught(() => fast(text));
      expect(quick.code).toBe('RW_INDEX_PARSE');
      expect({ message: quick.message, position: quick.position }).toEqual({ message: slow.message, position: slow.position });
    });
  }

  it('reads the last line without a trailing newline, at every alignment of the buffer', () => {
    // the last line (a short continuation line) falls in the unaligned tail for some shift
    const text = 'Package: a1\nVersion: 1.0\nArchitecture: all\n\nPackage: b2\nVersion: 2\nArchitecture: all\nDepends: a1,\n b22';
    for (let cut = 0; cut < 3; cut++) {
      const t = cut === 0 ? text : text.slice(0, -cut);
      for (let shift = 0; shift < 4; shift++) {
        const backing = Buffer.alloc(t.length + 8);
        backing.write(t, shift, 'latin1');
        const b = backing.subarray(shift, shift + t.length);
        const builder = createUniverseBuilder();
        addDebianPackagesFast(builder, b, 'x', { name: 'x' });
        expect(dump(builder.build())).toEqual(dump(createUniverse(parseDebianPackages(Buffer.from(t, 'latin1'), 'x').records)));
      }
    }
  });

  it('agrees with the record importer on random well-formed indexes (property)', () => {
    const name = fc.stringMatching(/^[a-z0-9][a-z0-9+.-]{1,8}$/);
    const version = fc.stringMatching(/^([1-9]:)?[0-9][0-9a-z.+~]{0,5}(-[0-9a-z.+~]{1,3})?$/);
    const op = fc.constantFrom('<<', '<=', '=', '>=', '>>', '<', '>');
    const atom = fc.tuple(name, fc.option(fc.constantFrom(':any', ':amd64', ':i386', ':native'), { nil: undefined }), fc.option(fc.tuple(op, version), { nil: undefined }), fc.option(fc.constantFrom(' [amd64]', ' [!amd64]', ' [i386 arm64]'), { nil: undefined }))
      .map(([n, q, c, r]) => `${n}${q ?? ''}${c ? ` (${c[0]} ${c[1]})` : ''}${r ?? ''}`);
    const clause = fc.array(atom, { minLength: 1, maxLength: 3 }).map((a) => a.join(' | '));
    const field = fc.array(clause, { minLength: 1, maxLength: 4 }).map((c) => c.join(', '));
    const single = fc.array(atom.filter((a) => !a.includes('[')), { minLength: 1, maxLength: 3 }).map((a) => a.join(', '));
    const provides = fc.array(fc.tuple(name, fc.option(version, { nil: undefined })).map(([n, v]) => (v ? `${n} (= ${v})` : n)), { minLength: 1, maxLength: 3 }).map((a) => a.join(', '));
    const stanza = fc.record({
      name, version, arch: fc.constantFrom('amd64', 'all'),
      depends: fc.option(field, { nil: undefined }), pre: fc.option(field, { nil: undefined }), rec: fc.option(field, { nil: undefined }),
      conflicts: fc.option(single, { nil: undefined }), breaks: fc.option(single, { nil: undefined }), provides: fc.option(provides, { nil: undefined }),
      essential: fc.option(fc.constantFrom('yes', 'no'), { nil: undefined }), priority: fc.option(fc.constantFrom('required', 'optional', 'important'), { nil: undefined }),
      ma: fc.option(fc.constantFrom('same', 'foreign', 'allowed', 'no'), { nil: undefined }), fold: fc.boolean(),
    }).map((s) => [
      `Package: ${s.name}`, `Version: ${s.version}`, `Architecture: ${s.arch}`, 'Description: x',
      s.depends && `Depends: ${s.fold ? s.depends.replace(/, /g, ',\n ') : s.depends}`, s.pre && `Pre-Depends: ${s.pre}`, s.rec && `Recommends: ${s.rec}`,
      s.conflicts && `Conflicts: ${s.conflicts}`, s.breaks && `Breaks: ${s.breaks}`, s.provides && `Provides: ${s.provides}`,
      s.essential && `Essential: ${s.essential}`, s.priority && `Priority: ${s.priority}`, s.ma && `Multi-Arch: ${s.ma}`,
    ].filter((l) => l).join('\n'));
    fc.assert(fc.property(fc.array(stanza, { minLength: 1, maxLength: 6 }), (stanzas) => {
      const text = `${stanzas.join('\n\n')}${stanzas.length % 2 ? '\n' : ''}`;
      let slow: Universe | RollwiseError;
      try {
        slow = createUniverse(parseDebianPackages(Buffer.from(text), 'p').records);
      } catch (e) {
        if (!(e instanceof RollwiseError)) throw e;
        slow = e;
      }
      if (slow instanceof RollwiseError) {
        const q = caught(() => fast(text));
        expect([q.message, q.position?.line, q.position?.column]).toEqual([slow.message, slow.position?.line, slow.position?.column]);
      } else {
        expect(dump(fast(text))).toEqual(dump(slow));
      }
    }), { numRuns: 300 });
  });
});

describe('bookworm main through the fast path', () => {
  it('holds all 63,440 packages and answers like the record importer', async () => {
    try {
      execFileSync('xz', ['--version'], { stdio: 'ignore' });
    } catch {
      throw new Error('the xz program is missing: apt-get install xz-utils');
    }
    const { universe: u } = await loadDebianUniverse([INDEX]);
    expect(u.pvCount).toBe(63440);
    const libc6 = u.versionsOf(u.nameId('libc6'));
    expect(libc6).toHaveLength(1);
    expect(u.multiArchOf(libc6[0]!)).toBe('same');
    const bash = u.versionsOf(u.nameId('bash'))[0]!;
    expect(u.isEssential(bash)).toBe(true);
    expect(u.isRequired(bash)).toBe(true);
    const essentials = [...u.essential()].map((pv) => u.nameOfPv(pv));
    expect(essentials).toEqual(expect.arrayContaining(['bash', 'coreutils', 'dpkg', 'base-files', 'libc-bin', 'tar']));
    const mta = u.candidatesFor({ name: 'mail-transport-agent' });
    expect([...mta].map((pv) => u.nameOfPv(pv))).toEqual(expect.arrayContaining(['postfix', 'exim4-daemon-light', 'exim4-daemon-heavy', 'nullmailer', 'ssmtp', 'msmtp-mta', 'dma']));
    // postfix conflicts with every other MTA, never with itself
    const postfix = u.versionsOf(u.nameId('postfix'))[0]!;
    const hits = [...u.conflictsOf(postfix)].map((pv) => u.nameOfPv(pv));
    expect(hits).toContain('exim4-daemon-light');
    expect(hits).not.toContain('postfix');
    // the whole archive agrees with the record importer, relation by relation
    const { records } = await loadDebianIndex(INDEX);
    const slow = createUniverse(records);
    expect(dump(u)).toEqual(dump(slow));
  });
});
