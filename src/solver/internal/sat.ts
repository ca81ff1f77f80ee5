/**
 * The resolver's search engine: a conflict-driven clause-learning (CDCL) SAT solver written
 * for package problems, working on integer literals and typed arrays.
 *
 * Why CDCL: a Debian request is a propositional problem (one variable per package version;
 * Depends are clauses `¬p ∨ c1 ∨ … ∨ cn`, Conflicts are binary clauses `¬p ∨ ¬q`). CDCL is
 * complete (it finds a model when one exists and proves unsatisfiability when none does), it
 * learns from every dead end, and it supports assumptions, which we need three times over:
 * incremental whole-archive checks (one engine, one assumption per package), core-guided
 * optimisation (assume every objective literal false, relax the failed cores), and explanations
 * (one selector literal per fact, the failed-assumption core is a set of facts).
 *
 * Technique (MiniSat/Glucose lineage, written from the published algorithms):
 * - Literals: variable v has literals 2v (true) and 2v+1 (false); `lit ^ 1` negates.
 *   `litValue[lit]` is 1 (true), -1 (false) or 0 (unassigned), kept for both polarities so a
 *   lookup is one typed-array read.
 * - Binary clauses (most of a package problem: conflicts, one-version-per-package) live only in
 *   implication lists `binImp[lit]` (when lit becomes false, every listed literal must be true);
 *   their reason is encoded as `-2 - otherLiteral`, so no clause object exists for them.
 * - Longer clauses live in one Int32Array arena: `[size, flags, lits...]`; the first two
 *   literals are watched (two-watched-literal scheme with a blocker literal per watch).
 * - Conflict analysis: first unique implication point (1-UIP), recursive minimisation of the
 *   learnt clause (a literal is dropped when its reasons are implied by the rest), LBD
 *   ("glue") computed for clause-database reduction: learnt clauses with glue ≤ 2 are kept
 *   forever, the others are halved periodically, worst glue first.
 * - Decisions: VSIDS activity in a binary heap, with phase saving. The caller seeds the phase
 *   (installed versions true, everything else false, for a request; true for the whole-archive
 *   check, so that each model certifies as many packages as possible) and may seed activity
 *   (policy order: installed versions first, then the newest, as libsolv does).
 * - Restarts: Luby sequence (unit 100 conflicts); learnt clauses and phases survive restarts.
 * - Assumptions: decided first, one decision level each; when one is found false, final
 *   conflict analysis walks the implication graph back to the assumptions that caused it and
 *   returns them as the failed-assumption core.
 * - Incremental: clauses and variables can be added between solves (the engine returns to
 *   level 0 after each solve); learnt clauses remain valid because clauses are only added.
 * - Budget: `deadline` (performance.now() ms) and `conflictLimit` stop a solve with 'unknown'.
 * - Decision scopes: a solve may decide only a given set of variables (the heap is rebuilt from
 *   it), leaving the rest unassigned unless propagation reaches them. The whole-archive check
 *   uses this to test one package of a 63,000-variable archive by deciding only its dependency
 *   closure, and verifies the partial model itself (see installable.ts).
 */

export type SatOutcome = 'sat' | 'unsat' | 'unknown';

const NO_REASON = -1;

export interface SolveOptions {
  assumptions?: ArrayLike<number>;
  /** performance.now() value after which the solve stops with 'unknown'. */
  deadline?: number;
  /**
   * Decision scope: only these variables are decided; the others stay unassigned unless
   * propagation assigns them (the model then reports them false). Sound for the caller only when
   * every clause that could be left unsatisfied by "unassigned means false" is checked by it
   * (see installable.ts); used to check one package of a whole archive without deciding the
   * archive's other 60,000 variables.
   */
  scope?: ArrayLike<number>;
  /** Maximum number of conflicts for this call. */
  conflictLimit?: number;
  /** Record only the variables true in the model (`trueVars`), not a full copy (`model`). */
  trueVarsOnly?: boolean;
}

export function lit(v: number, positive: boolean): number {
  return positive ? v << 1 : (v << 1) | 1;
}
export function litVar(l: number): number {
  return l >> 1;
}
export function litNeg(l: number): number {
  return l ^ 1;
}
export function litIsPositive(l: number): boolean {
  return (l & 1) === 0;
}

function luby(y: number, x: number): number {
  let size = 1;
  let seq = 0;
  while (size < x + 1) {
    seq++;
    size = 2 * size + 1;
  }
  while (size - 1 !== x) {
    size = (size - 1) >> 1;
    seq--;
    x = x % size;
  }
  return Math.pow(y, seq);
}

export class SatEngine {
  private nVars = 0;
  private cap = 0;
  private litValue = new Int8Array(0);
  private level = new Int32Array(0);
  private reason = new Int32Array(0);
  private trail = new Int32Array(0);
  private trailLen = 0;
  private trailLim: number[] = [];
  private qhead = 0;
  private activity = new Float64Array(0);
  private phase = new Int8Array(0);
  private seen = new Uint8Array(0);
  private heap = new Int32Array(0);
  private heapIdx = new Int32Array(0);
  private heapSize = 0;
  private varInc = 1;
  private readonly varDecay = 0.95;

  private arena = new Int32Array(1 << 16);
  private arenaLen = 0;
  /** Watch lists and binary implication lists, created on first use (most literals never get one). */
  private watches: Array<number[] | undefined> = [];
  private binImp: Array<number[] | undefined> = [];
  private learnts: number[] = [];
  private wasted = 0;

  private ok = true;
  private conflictLits: number[] = [];
  /** Failed-assumption core of the last 'unsat' answer under assumptions (assumption literals). */
  core: number[] = [];
  /** Model of the last 'sat' answer: model[v] = 1 true, -1 false (0: left unassigned by a scoped solve). */
  model = new Int8Array(0);
  /** Variables true in the last 'sat' answer when solved with `trueVarsOnly`. */
  trueVars: number[] = [];

  // statistics
  conflicts = 0;
  decisions = 0;
  propagations = 0;
  solves = 0;

  private scopeMark: Uint8Array | null = null;
  /** The heap holds only scope variables (true) or every unassigned variable (false). */
  private heapScoped = false;

  private rebuildHeap(scope: ArrayLike<number> | undefined): void {
    for (let i = 0; i < this.heapSize; i++) this.heapIdx[this.heap[i]!] = -1;
    this.heapSize = 0;
    if (scope) {
      const mark = new Uint8Array(this.nVars);
      for (let i = 0; i < scope.length; i++) mark[scope[i]!] = 1;
      this.scopeMark = mark;
      for (let i = 0; i < scope.length; i++) {
        const v = scope[i]!;
        if (this.litValue[v << 1] === 0 && this.heapIdx[v]! < 0) this.heapInsert(v);
      }
      this.heapScoped = true;
    } else {
      this.scopeMark = null;
      for (let v = 0; v < this.nVars; v++) if (this.litValue[v << 1] === 0) this.heapInsert(v);
      this.heapScoped = false;
    }
  }

  private readonly clauseBuf: number[] = [];
  private openScratch = new Int32Array(64);
  private varStamp = new Int32Array(0);
  private addStamp = 0;

  private nextReduce = 2000;
  private reduceInc = 300;

  get numVars(): number {
    return this.nVars;
  }

  get isOk(): boolean {
    return this.ok;
  }

  get numLearnts(): number {
    return this.learnts.length;
  }

  private grow(need: number): void {
    if (need <= this.cap) return;
    let c = Math.max(64, this.cap * 2);
    while (c < need) c *= 2;
    const lv = new Int8Array(2 * c);
    lv.set(this.litValue);
    this.litValue = lv;
    const le = new Int32Array(c);
    le.set(this.level);
    this.level = le;
    const re = new Int32Array(c);
    re.set(this.reason);
    this.reason = re;
    const tr = new Int32Array(c);
    tr.set(this.trail);
    this.trail = tr;
    const ac = new Float64Array(c);
    ac.set(this.activity);
    this.activity = ac;
    const ph = new Int8Array(c);
    ph.set(this.phase);
    this.phase = ph;
    const se = new Uint8Array(c);
    se.set(this.seen);
    this.seen = se;
    const hp = new Int32Array(c);
    hp.set(this.heap);
    this.heap = hp;
    const hi = new Int32Array(c).fill(-1);
    hi.set(this.heapIdx);
    this.heapIdx = hi;
    this.cap = c;
  }

  /** Creates a variable; `phase` is the polarity tried first when it is decided. */
  newVar(phase = false, activity = 0): number {
    const v = this.nVars++;
    this.grow(this.nVars);
    this.level[v] = -1;
    this.reason[v] = NO_REASON;
    this.phase[v] = phase ? 1 : -1;
    this.activity[v] = activity;
    this.heapIdx[v] = -1;
    this.watches.push(undefined, undefined);
    this.binImp.push(undefined, undefined);
    if (!this.heapScoped) this.heapInsert(v);
    return v;
  }

  /** Creates n variables at once (one allocation, heap built in linear time). */
  newVars(n: number, phase = false): number {
    const first = this.nVars;
    this.nVars += n;
    this.grow(this.nVars);
    this.level.fill(-1, first, this.nVars);
    this.reason.fill(NO_REASON, first, this.nVars);
    this.phase.fill(phase ? 1 : -1, first, this.nVars);
    this.activity.fill(0, first, this.nVars);
    for (let v = first; v < this.nVars; v++) {
      this.watches.push(undefined, undefined);
      this.binImp.push(undefined, undefined);
    }
    if (!this.heapScoped) {
      // all new activities are 0: appending keeps the heap property
      for (let v = first; v < this.nVars; v++) {
        const i = this.heapSize++;
        this.heap[i] = v;
        this.heapIdx[v] = i;
      }
    } else this.heapIdx.fill(-1, first, this.nVars);
    return first;
  }

  setPhase(v: number, positive: boolean): void {
    this.phase[v] = positive ? 1 : -1;
  }

  /** Raises v's decision priority (policy order); larger is decided earlier. */
  setActivity(v: number, a: number): void {
    this.activity[v] = a;
    const i = this.heapIdx[v]!;
    if (i >= 0) {
      this.heapUp(i);
      this.heapDown(this.heapIdx[v]!);
    }
  }

  valueOfLit(l: number): number {
    return this.litValue[l]!;
  }

  /** True when `l` is fixed at level 0 (holds in every model of the current clauses). */
  isFixedTrue(l: number): boolean {
    return this.litValue[l] === 1 && this.level[l >> 1] === 0;
  }

  // ---------------------------------------------------------------- heap (max-activity)
  private heapLess(a: number, b: number): boolean {
    return this.activity[a]! > this.activity[b]!;
  }
  private heapUp(i: number): void {
    const h = this.heap;
    const x = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const y = h[p]!;
      if (!this.heapLess(x, y)) break;
      h[i] = y;
      this.heapIdx[y] = i;
      i = p;
    }
    h[i] = x;
    this.heapIdx[x] = i;
  }
  private heapDown(i: number): void {
    const h = this.heap;
    const x = h[i]!;
    const n = this.heapSize;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.heapLess(h[c + 1]!, h[c]!)) c++;
      const y = h[c]!;
      if (!this.heapLess(y, x)) break;
      h[i] = y;
      this.heapIdx[y] = i;
      i = c;
    }
    h[i] = x;
    this.heapIdx[x] = i;
  }
  private heapInsert(v: number): void {
    if (this.heapIdx[v]! >= 0) return;
    const i = this.heapSize++;
    this.heap[i] = v;
    this.heapIdx[v] = i;
    this.heapUp(i);
  }
  private heapPop(): number {
    const h = this.heap;
    const v = h[0]!;
    this.heapSize--;
    this.heapIdx[v] = -1;
    if (this.heapSize > 0) {
      h[0] = h[this.heapSize]!;
      this.heapIdx[h[0]!] = 0;
      this.heapDown(0);
    }
    return v;
  }

  private bumpVar(v: number): void {
    const a = (this.activity[v]! += this.varInc);
    if (a > 1e100) {
      for (let i = 0; i < this.nVars; i++) this.activity[i]! *= 1e-100;
      this.varInc *= 1e-100;
    }
    const i = this.heapIdx[v]!;
    if (i >= 0) this.heapUp(i);
  }

  // ---------------------------------------------------------------- clauses
  private allocClause(lits: ArrayLike<number>, learnt: boolean): number {
    const n = lits.length;
    const need = this.arenaLen + n + 2;
    if (need > this.arena.length) {
      let c = this.arena.length * 2;
      while (c < need) c *= 2;
      const a = new Int32Array(c);
      a.set(this.arena.subarray(0, this.arenaLen));
      this.arena = a;
    }
    const cr = this.arenaLen;
    this.arena[cr] = n;
    this.arena[cr + 1] = learnt ? 1 : 0;
    for (let i = 0; i < n; i++) this.arena[cr + 2 + i] = lits[i]!;
    this.arenaLen = need;
    return cr;
  }

  /**
   * Adds a clause (literals over existing variables). Must be called between solves. Returns
   * false when the clause set became unsatisfiable at level 0.
   */
  addClause(input: ArrayLike<number>): boolean {
    if (!this.ok) return false;
    if (this.trailLim.length > 0) this.cancelUntil(0);
    // simplify: drop false literals and duplicates, detect satisfied / tautology (stamp per variable)
    const lits = this.clauseBuf;
    lits.length = 0;
    const stamp = ++this.addStamp;
    if (this.varStamp.length < this.nVars) {
      const grown = new Int32Array(this.cap);
      grown.set(this.varStamp);
      this.varStamp = grown;
    }
    const vs = this.varStamp;
    for (let i = 0; i < input.length; i++) {
      const l = input[i]!;
      const v = l >> 1;
      if (v >= this.nVars || l < 0) throw new Error(`literal ${l} out of range`);
      const val = this.litValue[l]!;
      if (val === 1) return true;
      if (val === -1) continue;
      if (vs[v] === stamp) {
        // seen before: same literal (skip) or its negation (tautology)
        let same = false;
        for (const m of lits) if (m === l) same = true;
        if (!same) return true;
        continue;
      }
      vs[v] = stamp;
      lits.push(l);
    }
    if (lits.length === 0) {
      this.ok = false;
      return false;
    }
    if (lits.length === 1) {
      this.enqueue(lits[0]!, NO_REASON);
      if (this.propagate() >= 0 || this.conflictLits.length > 0) {
        this.conflictLits.length = 0;
        this.ok = false;
        return false;
      }
      return true;
    }
    if (lits.length === 2) {
      (this.binImp[lits[0]!] ??= []).push(lits[1]!);
      (this.binImp[lits[1]!] ??= []).push(lits[0]!);
      return true;
    }
    const cr = this.allocClause(lits, false);
    (this.watches[lits[0]!] ??= []).push(cr, lits[1]!);
    (this.watches[lits[1]!] ??= []).push(cr, lits[0]!);
    return true;
  }

  private enqueue(l: number, reason: number): void {
    const v = l >> 1;
    this.litValue[l] = 1;
    this.litValue[l ^ 1] = -1;
    this.level[v] = this.trailLim.length;
    this.reason[v] = reason;
    this.trail[this.trailLen++] = l;
  }

  /**
   * Unit propagation. Returns a conflicting clause reference (>= 0), or -1 with
   * `conflictLits` set for a binary conflict, or -1 with empty `conflictLits` for no conflict.
   */
  private propagate(): number {
    const litValue = this.litValue;
    const arena = this.arena;
    while (this.qhead < this.trailLen) {
      const p = this.trail[this.qhead++]!;
      const f = p ^ 1;
      this.propagations++;
      const bins = this.binImp[f];
      if (bins !== undefined) for (let i = 0; i < bins.length; i++) {
        const o = bins[i]!;
        const v = litValue[o]!;
        if (v === 1) continue;
        if (v === -1) {
          this.conflictLits = [o, f];
          this.qhead = this.trailLen;
          return -1;
        }
        this.enqueue(o, -2 - f);
      }
      const ws = this.watches[f];
      if (ws === undefined) continue;
      let i = 0;
      let j = 0;
      const n = ws.length;
      while (i < n) {
        const cr = ws[i]!;
        const blk = ws[i + 1]!;
        i += 2;
        if (litValue[blk] === 1) {
          ws[j++] = cr;
          ws[j++] = blk;
          continue;
        }
        const base = cr + 2;
        if (arena[base] === f) {
          arena[base] = arena[base + 1]!;
          arena[base + 1] = f;
        }
        const first = arena[base]!;
        if (first !== blk && litValue[first] === 1) {
          ws[j++] = cr;
          ws[j++] = first;
          continue;
        }
        const size = arena[cr]!;
        let found = false;
        for (let k = 2; k < size; k++) {
          const l = arena[base + k]!;
          if (litValue[l] !== -1) {
            arena[base + 1] = l;
            arena[base + k] = f;
            (this.watches[l] ??= []).push(cr, first);
            found = true;
            break;
          }
        }
        if (found) continue;
        ws[j++] = cr;
        ws[j++] = first;
        if (litValue[first] === -1) {
          while (i < n) ws[j++] = ws[i++]!;
          ws.length = j;
          this.qhead = this.trailLen;
          this.conflictLits.length = 0;
          return cr;
        }
        this.enqueue(first, cr);
      }
      if (j !== ws.length) ws.length = j;
    }
    if (this.conflictLits.length !== 0) this.conflictLits.length = 0;
    return -1;
  }

  private cancelUntil(lvl: number): void {
    if (this.trailLim.length <= lvl) return;
    const stop = this.trailLim[lvl]!;
    for (let i = this.trailLen - 1; i >= stop; i--) {
      const l = this.trail[i]!;
      const v = l >> 1;
      this.litValue[l] = 0;
      this.litValue[l ^ 1] = 0;
      this.reason[v] = NO_REASON;
      this.level[v] = -1;
      this.phase[v] = (l & 1) === 0 ? 1 : -1;
      if (this.heapIdx[v]! < 0 && (this.scopeMark === null || this.scopeMark[v] === 1)) this.heapInsert(v);
    }
    this.trailLen = stop;
    this.qhead = stop;
    this.trailLim.length = lvl;
  }

  /** Literals of the reason of v other than v's own literal. */
  private reasonOthers(v: number, out: number[]): void {
    out.length = 0;
    const r = this.reason[v]!;
    if (r >= 0) {
      const size = this.arena[r]!;
      for (let k = 1; k < size; k++) out.push(this.arena[r + 2 + k]!);
    } else if (r <= -2) {
      out.push(-2 - r);
    }
  }

  private analyze(confl: number, out: number[]): number {
    const seen = this.seen;
    const level = this.level;
    const curLevel = this.trailLim.length;
    out.length = 0;
    out.push(-1);
    let pathC = 0;
    let p: number;
    let index = this.trailLen - 1;
    const tmp: number[] = [];
    let lits: number[];
    if (confl >= 0) {
      const size = this.arena[confl]!;
      lits = [];
      for (let k = 0; k < size; k++) lits.push(this.arena[confl + 2 + k]!);
      this.bumpClause(confl);
    } else {
      lits = this.conflictLits.slice();
    }
    for (;;) {
      for (const q of lits) {
        const v = q >> 1;
        if (!seen[v] && level[v]! > 0) {
          this.bumpVar(v);
          seen[v] = 1;
          if (level[v]! >= curLevel) pathC++;
          else out.push(q);
        }
      }
      while (!seen[this.trail[index]! >> 1]) index--;
      p = this.trail[index]!;
      index--;
      const pv = p >> 1;
      seen[pv] = 0;
      pathC--;
      if (pathC === 0) break;
      this.reasonOthers(pv, tmp);
      lits = tmp.slice();
      const r = this.reason[pv]!;
      if (r >= 0) this.bumpClause(r);
    }
    out[0] = p ^ 1;
    // recursive minimisation
    let abstract = 0;
    for (let i = 1; i < out.length; i++) abstract |= 1 << (level[out[i]! >> 1]! & 31);
    const toClear = out.slice();
    let j = 1;
    for (let i = 1; i < out.length; i++) {
      const q = out[i]!;
      if (this.reason[q >> 1] === NO_REASON || !this.litRedundant(q, abstract, toClear)) out[j++] = q;
    }
    out.length = j;
    for (const q of toClear) seen[q >> 1] = 0;
    // backtrack level: put the highest-level literal second
    let bt = 0;
    if (out.length > 1) {
      let maxI = 1;
      for (let i = 2; i < out.length; i++) if (level[out[i]! >> 1]! > level[out[maxI]! >> 1]!) maxI = i;
      const t = out[1]!;
      out[1] = out[maxI]!;
      out[maxI] = t;
      bt = level[out[1]! >> 1]!;
    }
    return bt;
  }

  private litRedundant(p: number, abstract: number, toClear: number[]): boolean {
    const stack = [p];
    const top = toClear.length;
    const tmp: number[] = [];
    const seen = this.seen;
    while (stack.length > 0) {
      const q = stack.pop()!;
      this.reasonOthers(q >> 1, tmp);
      for (const l of tmp) {
        const v = l >> 1;
        const lv = this.level[v]!;
        if (!seen[v] && lv > 0) {
          if (this.reason[v] !== NO_REASON && (abstract & (1 << (lv & 31))) !== 0) {
            seen[v] = 1;
            stack.push(l);
            toClear.push(l);
          } else {
            for (let k = top; k < toClear.length; k++) seen[toClear[k]! >> 1] = 0;
            toClear.length = top;
            return false;
          }
        }
      }
    }
    return true;
  }

  private bumpClause(_cr: number): void {
    // clause activity is not tracked; reduction uses glue (LBD) and age.
  }

  private computeLbd(lits: number[]): number {
    const levels = new Set<number>();
    for (const l of lits) levels.add(this.level[l >> 1]!);
    return levels.size;
  }

  /** Final conflict analysis: which assumptions made `p` (an assumption) false. */
  private analyzeFinal(p: number): number[] {
    const out = [p];
    if (this.trailLim.length === 0) return out;
    const seen = this.seen;
    seen[p >> 1] = 1;
    const tmp: number[] = [];
    for (let i = this.trailLen - 1; i >= this.trailLim[0]!; i--) {
      const l = this.trail[i]!;
      const x = l >> 1;
      if (!seen[x]) continue;
      if (this.reason[x] === NO_REASON) {
        out.push(l);
      } else {
        this.reasonOthers(x, tmp);
        for (const q of tmp) if (this.level[q >> 1]! > 0) seen[q >> 1] = 1;
      }
      seen[x] = 0;
    }
    seen[p >> 1] = 0;
    return out;
  }

  private reduceDb(): void {
    const arena = this.arena;
    const cand: number[] = [];
    const keep: number[] = [];
    for (const cr of this.learnts) {
      const lbd = arena[cr + 1]! >> 2;
      // locked clauses (reason of their first literal) are kept
      const l0 = arena[cr + 2]!;
      const locked = this.litValue[l0] === 1 && this.reason[l0 >> 1] === cr;
      if (lbd <= 2 || locked) keep.push(cr);
      else cand.push(cr);
    }
    cand.sort((a, b) => (arena[b + 1]! >> 2) - (arena[a + 1]! >> 2) || a - b);
    const remove = cand.length >> 1;
    for (let i = 0; i < remove; i++) {
      const cr = cand[i]!;
      arena[cr + 1] = arena[cr + 1]! | 2;
      this.wasted += arena[cr]! + 2;
    }
    for (let i = remove; i < cand.length; i++) keep.push(cand[i]!);
    this.learnts = keep;
    // purge watches of deleted clauses
    for (const ws of this.watches) {
      if (ws === undefined) continue;
      let j = 0;
      for (let i = 0; i < ws.length; i += 2) {
        if ((arena[ws[i]! + 1]! & 2) === 0) {
          ws[j++] = ws[i]!;
          ws[j++] = ws[i + 1]!;
        }
      }
      ws.length = j;
    }
  }

  /**
   * Searches for a model under the given assumptions. 'sat': `model` holds it; 'unsat': `core`
   * holds the failed assumptions (empty when the clauses alone are unsatisfiable); 'unknown':
   * the budget ran out.
   */
  solve(options: SolveOptions = {}): SatOutcome {
    this.solves++;
    this.core = [];
    if (!this.ok) return 'unsat';
    const assumptions = options.assumptions ?? [];
    for (let i = 0; i < assumptions.length; i++) {
      const a = assumptions[i]!;
      if (a < 0 || (a >> 1) >= this.nVars) throw new Error(`assumption ${a} out of range`);
    }
    const deadline = options.deadline ?? Infinity;
    if (options.scope) this.rebuildHeap(options.scope);
    else if (this.heapScoped) this.rebuildHeap(undefined);
    const conflictLimit = options.conflictLimit ?? Infinity;
    const startConflicts = this.conflicts;
    let restartNo = 0;
    let result: SatOutcome = 'unknown';
    const learnt: number[] = [];
    outer: for (;;) {
      const budget = luby(2, restartNo++) * 100;
      let localConflicts = 0;
      for (;;) {
        const confl = this.propagate();
        if (confl >= 0 || this.conflictLits.length > 0) {
          this.conflicts++;
          localConflicts++;
          if (this.trailLim.length === 0) {
            this.ok = false;
            result = 'unsat';
            break outer;
          }
          const bt = this.analyze(confl, learnt);
          this.cancelUntil(bt);
          this.addLearnt(learnt);
          this.varInc /= this.varDecay;
          if (this.conflicts >= this.nextReduce) {
            this.nextReduce = this.conflicts + 2000 + this.reduceInc * (this.learnts.length > 0 ? 1 : 0);
            this.reduceInc += 300;
            this.reduceDb();
          }
          if ((this.conflicts & 63) === 0 && performance.now() > deadline) break outer;
          if (this.conflicts - startConflicts >= conflictLimit) break outer;
          continue;
        }
        if (localConflicts >= budget) {
          this.cancelUntil(0);
          if (performance.now() > deadline) break outer;
          continue outer;
        }
        // decide
        let next = -1;
        while (this.trailLim.length < assumptions.length) {
          const a = assumptions[this.trailLim.length]!;
          const val = this.litValue[a]!;
          if (val === 1) {
            this.trailLim.push(this.trailLen);
          } else if (val === -1) {
            this.core = this.analyzeFinal(a);
            result = 'unsat';
            break outer;
          } else {
            next = a;
            break;
          }
        }
        if (next < 0) {
          let v = -1;
          while (this.heapSize > 0) {
            const c = this.heapPop();
            if (this.litValue[c << 1] === 0) {
              v = c;
              break;
            }
          }
          if (v < 0) {
            result = 'sat';
            break outer;
          }
          next = this.phase[v] === 1 ? v << 1 : (v << 1) | 1;
        }
        this.decisions++;
        if ((this.decisions & 1023) === 0 && performance.now() > deadline) break outer;
        this.trailLim.push(this.trailLen);
        this.enqueue(next, NO_REASON);
      }
    }
    if (result === 'sat') {
      if (options.trueVarsOnly) {
        const t: number[] = [];
        for (let i = 0; i < this.trailLen; i++) {
          const l = this.trail[i]!;
          if ((l & 1) === 0) t.push(l >> 1);
        }
        this.trueVars = t;
      } else {
        if (this.model.length < this.nVars) this.model = new Int8Array(this.cap);
        for (let v = 0; v < this.nVars; v++) this.model[v] = this.litValue[v << 1]!;
      }
    }
    this.cancelUntil(0);
    return result;
  }

  private addLearnt(learnt: number[]): void {
    const asserting = learnt[0]!;
    if (learnt.length === 1) {
      this.enqueue(asserting, NO_REASON);
      return;
    }
    if (learnt.length === 2) {
      (this.binImp[learnt[0]!] ??= []).push(learnt[1]!);
      (this.binImp[learnt[1]!] ??= []).push(learnt[0]!);
      this.enqueue(asserting, -2 - learnt[1]!);
      return;
    }
    const lbd = this.computeLbd(learnt);
    const cr = this.allocClause(learnt, true);
    this.arena[cr + 1] = 1 | (lbd << 2);
    this.learnts.push(cr);
    (this.watches[learnt[0]!] ??= []).push(cr, learnt[1]!);
    (this.watches[learnt[1]!] ??= []).push(cr, learnt[0]!);
    this.enqueue(asserting, cr);
  }

  /**
   * Calls `fn` with the literals not false at level 0 of every problem clause (long and
   * binary, learnt ones excluded) that no level-0 literal satisfies. Call between solves.
   */
  forEachOpenClause(fn: (lits: number[]) => void, keep?: (lit: number) => boolean): void {
    if (this.trailLim.length > 0) this.cancelUntil(0);
    // `keep`: a clause with an open literal it refuses is skipped as soon as one is met (most
    // clauses, when a caller looks for few literals): no copy, and fn sees only the others
    let scratch = this.openScratch;
    const arena = this.arena;
    const litValue = this.litValue;
    for (let cr = 0; cr < this.arenaLen; ) {
      const size = arena[cr]!;
      const flags = arena[cr + 1]!;
      if ((flags & 3) === 0) {
        if (scratch.length < size) scratch = this.openScratch = new Int32Array(Math.max(size, scratch.length * 2));
        let n = 0;
        let skip = false;
        for (let k = 0; k < size; k++) {
          const l = arena[cr + 2 + k]!;
          const v = litValue[l]!;
          if (v === 1 || (v === 0 && keep !== undefined && !keep(l))) {
            skip = true;
            break;
          }
          if (v === 0) scratch[n++] = l;
        }
        if (!skip) fn(Array.from(scratch.subarray(0, n)));
      }
      cr += size + 2;
    }
    for (let l = 0; l < this.binImp.length; l++) {
      const list = this.binImp[l];
      if (!list || litValue[l] !== 0 || (keep !== undefined && !keep(l))) continue;
      for (const o of list) {
        if (o < l || litValue[o] !== 0 || (keep !== undefined && !keep(o))) continue;
        fn([l, o]);
      }
    }
  }

  /** Value of literal l in the last model. */
  modelValue(l: number): boolean {
    const v = this.model[l >> 1]!;
    return (l & 1) === 0 ? v === 1 : v === -1;
  }
}

export function createSatEngine(): SatEngine {
  return new SatEngine();
}
