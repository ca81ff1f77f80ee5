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
  private hashes = new Int32Array(1024);
  private slots = new Int32Array(1 << 12);

  get size(): number {
    return this.texts.length;
  }

  /** Id of a string, or -1. */
  get(text: string): number {
    return this.find(text, hashString(text));
  }

  private find(text: string, h: number): number {
    const mask = this.slots.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = this.slots[i]!;
      if (v === 0) return -1;
      if (this.hashes[v - 1] === h && this.texts[v - 1] === text) return v - 1;
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
    const mask = this.slots.length - 1;
    const len = e - s;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = this.slots[i]!;
      if (v === 0) return -1;
      if (this.hashes[v - 1] === h) {
        const t = this.texts[v - 1]!;
        if (t.length === len) {
          let k = 0;
          while (k < len && t.charCodeAt(k) === b[s + k]) k++;
          if (k === len) return v - 1;
        }
      }
    }
  }

  /** The text of bytes b[s, e) (latin1). */
  static textOf(b: Uint8Array, s: number, e: number): string {
    return (b as unknown as Latin1Slicer).latin1Slice(s, e);
  }

  add(text: string, h: number = hashString(text)): number {
    const id = this.texts.length;
    this.texts.push(text);
    if (id === this.hashes.length) {
      const nh = new Int32Array(id * 2);
      nh.set(this.hashes);
      this.hashes = nh;
    }
    this.hashes[id] = h;
    if ((id + 1) * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    const mask = this.slots.length - 1;
    let i = h & mask;
    while (this.slots[i] !== 0) i = (i + 1) & mask;
    this.slots[i] = id + 1;
    return id;
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size);
    const mask = size - 1;
    for (let id = 0; id < this.texts.length - 1; id++) {
      let i = this.hashes[id]! & mask;
      while (this.slots[i] !== 0) i = (i + 1) & mask;
      this.slots[i] = id + 1;
    }
  }
}
