import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseClause, parseProvision, parseVersionRange, formatClause } from '../../src/kb/index.js';

describe('Debian relation syntax in the knowledge base', () => {
  it('parses alternatives with versions and architecture qualifiers', () => {
    const r = parseClause('postgresql-client-15 | postgresql-client (>= 15) | python3:any', { allowAlternatives: true });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.map((a) => [a.name, a.op, a.version, a.archQualifier, a.nameOffset])).toEqual([
      ['postgresql-client-15', undefined, undefined, undefined, 0],
      ['postgresql-client', '>=', '15', undefined, 23],
      ['python3', undefined, undefined, 'any', 51],
    ]);
    expect(formatClause(r.value)).toBe('postgresql-client-15 | postgresql-client (>= 15) | python3:any');
  });

  it('accepts every Debian operator and an epoch', () => {
    for (const op of ['<<', '<=', '=', '>=', '>>']) {
      const r = parseClause(`redis-server (${op} 5:7.0.15-1~deb12u1)`);
      expect(r.ok && r.value[0]!.op).toBe(op);
    }
  });

  it('reads the obsolete < and > as dpkg does (<= and >=), with a warning at the operator', () => {
    const r = parseClause('libfoo (> 1.0)');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value[0]).toMatchObject({ name: 'libfoo', op: '>=', version: '1.0' });
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]!.offset).toBe(8);
    expect(r.warnings[0]!.hint).toContain('>>');
    const lt = parseClause('libfoo (< 1.0)');
    expect(lt.ok && lt.value[0]!.op).toBe('<=');
  });

  it('points at an invalid version, an invalid name, a missing parenthesis and trailing junk', () => {
    const cases: Array<[string, number, RegExp]> = [
      ['libfoo (>= 1.0 beta)', 15, /expected '\)'/],
      ['libfoo (>= _1)', 11, /not a valid Debian version/],
      ['LibFoo', 0, /not a valid Debian package name/],
      ['libfoo (>= 1.0', 14, /expected '\)'/],
      ['libfoo, libbar', 6, /unexpected ', libbar'/],
      ['libfoo [amd64]', 7, /architecture restrictions/],
      ['libfoo >= 1.0', 7, /expected ',' or '\|'/],
      ['', 0, /expected a package name/],
      ['libfoo | ', 9, /expected a package name/],
    ];
    for (const [text, offset, message] of cases) {
      const r = parseClause(text);
      expect(r.ok, text).toBe(false);
      if (r.ok) continue;
      expect([text, r.problem.offset]).toEqual([text, offset]);
      expect(r.problem.message).toMatch(message);
    }
  });

  it('refuses alternatives where Debian does not allow them', () => {
    const r = parseClause('a1 | b1', { allowAlternatives: false });
    expect(!r.ok && r.problem.offset).toBe(3);
  });

  it('parses Provides, versioned only with =', () => {
    const ok = parseProvision('shop-http-backend (= 2.0.0)');
    expect(ok.ok && ok.value).toMatchObject({ name: 'shop-http-backend', version: '2.0.0' });
    const bad = parseProvision('shop-http-backend (>= 2.0.0)');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problem.hint).toContain('(= version)');
  });

  it('parses version ranges as conjunctions with offsets', () => {
    const r = parseVersionRange('>= 6.1, << 6.1.76');
    expect(r.ok && r.value).toEqual([{ op: '>=', version: '6.1', offset: 3 }, { op: '<<', version: '6.1.76', offset: 11 }]);
    const old = parseVersionRange('>= 6.1, < 6.2');
    expect(old.ok && old.value[1]!.op).toBe('<=');
    expect(old.ok && old.warnings.map((w) => w.offset)).toEqual([8]);
    const bad = parseVersionRange('>= 6.1, ~ 6.2');
    expect(!bad.ok && bad.problem.offset).toBe(8);
    const junk = parseVersionRange('>= 6.1 6.2');
    expect(!junk.ok && junk.problem.offset).toBe(7);
  });

  it('formatting a parsed clause and parsing it again gives the same atoms (property)', () => {
    const name = fc.stringMatching(/^[a-z0-9][a-z0-9+.-]{1,12}$/);
    const version = fc.stringMatching(/^([1-9]:)?[0-9][A-Za-z0-9.+~]{0,6}(-[A-Za-z0-9.+~]{1,4})?$/);
    const atom = fc.record({
      name,
      arch: fc.option(fc.constantFrom('any', 'amd64', 'native'), { nil: undefined }),
      constraint: fc.option(fc.tuple(fc.constantFrom('<<', '<=', '=', '>=', '>>'), version), { nil: undefined }),
    });
    fc.assert(fc.property(fc.array(atom, { minLength: 1, maxLength: 4 }), (atoms) => {
      const text = atoms.map((a) => `${a.name}${a.arch ? `:${a.arch}` : ''}${a.constraint ? ` (${a.constraint[0]} ${a.constraint[1]})` : ''}`).join(' | ');
      const r = parseClause(text);
      if (!r.ok) throw new Error(`${text}: ${r.problem.message}`);
      expect(r.value.map((a) => [a.name, a.archQualifier, a.op, a.version])).toEqual(atoms.map((a) => [a.name, a.arch, a.constraint?.[0], a.constraint?.[1]]));
      expect(formatClause(r.value)).toBe(text);
      for (const a of r.value) expect(text.slice(a.nameOffset, a.nameOffset + a.name.length)).toBe(a.name);
    }), { numRuns: 300 });
  });
});
