/** A Packages (or status) text's stanzas by package name, each trimmed, in file order: for tests that cut real indexes down. */
export function stanzasOf(text: string): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const s of text.split(/\n\n+/)) {
    const m = /^Package: (\S+)/m.exec(s);
    if (!m) continue;
    const l = byName.get(m[1]!) ?? [];
    l.push(s.trim());
    byName.set(m[1]!, l);
  }
  return byName;
}
