/**
 * An interning table for strings that can also be probed by latin1 byte ranges without making a
 * string: FNV-1a hashes (the same over a string's char codes and over its latin1 bytes), open
 * addressing, ids in insertion order. Used for package names and versions.
 */
export const FNV_OFFSET = 0x811c9dc5 | 0;
export const FNV_PRIME = 16777619;

export function hashString(text: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return h;
}

interface Latin1Slicer {
  latin1Slice(start: number, end: number): string;
}

export class StringTable {
  readonly texts: string[] = [];
  /** Open addressing, interleaved pairs [hash, id + 1] so a probe touches one cache line. */
  private slots: Int32Array = new Int32Array(2 << 12);

  get size(): number {
    return this.texts.length;
  }

  /** Id of a string, or -1. */
  get(text: string): number {
    return this.find(text, hashString(text));
  }

  private find(text: string, h: number): number {
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = slots[2 * i + 1]!;
      if (v === 0) return -1;
      if (slots[2 * i] === h && this.texts[v - 1] === text) return v - 1;
    }
  }

  /** Id of a string, added if new. */
  intern(text: string): number {
    const h = hashString(text);
    const id = this.find(text, h);
    return id >= 0 ? id : this.add(text, h);
  }

  /** Id of the latin1 bytes b[s, e) whose FNV-1a hash is h, or -1 if absent. */
  getBytes(b: Uint8Array, s: number, e: number, h: number): number {
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    const len = e - s;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = slots[2 * i + 1]!;
      if (v === 0) return -1;
      if (slots[2 * i] === h) {
        const t = this.texts[v - 1]!;
        if (t.length === len) {
          let k = 0;
          while (k < len && t.charCodeAt(k) === b[s + k]) k++;
          if (k === len) return v - 1;
        }
      }
    }
  }

  /** The hash slots (for the binary cache: a table is restored without rehashing its texts). */
  exportSlots(): Int32Array {
    return this.slots;
  }

  /** A table from texts and the slots exportSlots() gave for them (trusted: the cache checks its payload). */
  static fromParts(texts: string[], slots: Int32Array): StringTable {
    return new StringTable(texts, slots);
  }

  constructor(texts?: string[], slots?: Int32Array) {
    if (texts && slots) {
      this.texts = texts;
      this.slots = slots;
    }
  }

  /** The text of bytes b[s, e) (latin1). */
  static textOf(b: Uint8Array, s: number, e: number): string {
    return (b as unknown as Latin1Slicer).latin1Slice(s, e);
  }

  add(text: string, h: number = hashString(text)): number {
    const id = this.texts.length;
    this.texts.push(text);
    if ((id + 1) * 2 > this.slots.length >> 1) this.rehash(this.slots.length);
    this.insert(h, id);
    return id;
  }

  private insert(h: number, id: number): void {
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    let i = h & mask;
    while (slots[2 * i + 1] !== 0) i = (i + 1) & mask;
    slots[2 * i] = h;
    slots[2 * i + 1] = id + 1;
  }

  private rehash(pairs: number): void {
    const old = this.slots;
    this.slots = new Int32Array(2 * pairs);
    for (let i = 0; i < old.length; i += 2) {
      if (old[i + 1] !== 0) this.insert(old[i]!, old[i + 1]! - 1);
    }
  }
}
