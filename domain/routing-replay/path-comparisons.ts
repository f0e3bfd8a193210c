/**
 * The four component-wise comparisons of one query path with many past paths. Paths of up to 30
 * components use bit-parallel longest common subsequence (Hyyrö 2004) over a per-component bit mask of
 * the query's positions; longer ones fall back to dynamic programming.
 */
export class PathComparisons {
  /** [LCP, LCSuff, LCSubstr, LCSubseq] of the last `compare`, in components. */
  readonly result = new Float64Array(4);
  queryLength = 0;
  private query: Int32Array = new Int32Array(0);
  private masks = new Int32Array(0);
  private runEnd = new Int32Array(0);
  private runLength = new Int32Array(0);

  /** Sets the path the next comparisons start from; components are ids below `components`. */
  setQuery(query: Int32Array, components: number): void {
    for (const component of this.query) if (component < this.masks.length) this.masks[component] = 0;
    if (this.masks.length < components) this.masks = new Int32Array(Math.max(components, 2 * this.masks.length));
    this.query = query;
    this.queryLength = query.length;
    if (query.length <= 30) query.forEach((component, position) => (this.masks[component]! |= 1 << position));
    if (this.runEnd.length < query.length) {
      this.runEnd = new Int32Array(query.length);
      this.runLength = new Int32Array(query.length);
    }
  }

  /** Compares the query with `past`; false (and nothing computed) when they share no component. */
  compare(past: Int32Array): boolean {
    const query = this.query;
    if (query.length > 30) return this.compareByTables(past);
    const masks = this.masks;
    const all = (1 << query.length) - 1;
    let shared = 0;
    let v = all;
    let substring = 0;
    this.runEnd.fill(-2, 0, query.length);
    for (let j = 0; j < past.length; j++) {
      const match = masks[past[j]!]!;
      if (match === 0) continue;
      shared |= match;
      const u = v & match;
      v = ((v + u) | (v - u)) & all;
      // Run lengths at the (rare) matching positions, highest first so position i-1 still holds column j-1.
      for (let bits = match; bits !== 0; bits &= bits - 1) {
        const i = 31 - Math.clz32(bits & -bits);
        const run = i > 0 && this.runEnd[i - 1] === j - 1 ? this.runLength[i - 1]! + 1 : 1;
        if (run > substring) substring = run;
        this.pending(i, j, run);
      }
      this.flush();
    }
    if (shared === 0) return false;
    this.finish(past, substring, query.length - popcount(v));
    return true;
  }

  private pendingCount = 0;
  private readonly pendingPositions = new Int32Array(31);
  private readonly pendingColumns = new Int32Array(31);
  private readonly pendingRuns = new Int32Array(31);

  // Writes wait until the column is done, so a run read at i-1 is always the previous column's.
  private pending(i: number, j: number, run: number): void {
    this.pendingPositions[this.pendingCount] = i;
    this.pendingColumns[this.pendingCount] = j;
    this.pendingRuns[this.pendingCount++] = run;
  }

  private flush(): void {
    for (let k = 0; k < this.pendingCount; k++) {
      this.runEnd[this.pendingPositions[k]!] = this.pendingColumns[k]!;
      this.runLength[this.pendingPositions[k]!] = this.pendingRuns[k]!;
    }
    this.pendingCount = 0;
  }

  private compareByTables(past: Int32Array): boolean {
    const query = this.query;
    const width = past.length + 1;
    const substringRows = [new Int32Array(width), new Int32Array(width)];
    const sequenceRows = [new Int32Array(width), new Int32Array(width)];
    let substring = 0;
    for (let i = 1; i <= query.length; i++) {
      const [current, previous] = [substringRows[i & 1]!, substringRows[(i - 1) & 1]!];
      const [sequence, sequenceBefore] = [sequenceRows[i & 1]!, sequenceRows[(i - 1) & 1]!];
      for (let j = 1; j <= past.length; j++) {
        if (query[i - 1] === past[j - 1]) {
          current[j] = previous[j - 1]! + 1;
          substring = Math.max(substring, current[j]!);
          sequence[j] = sequenceBefore[j - 1]! + 1;
        } else {
          current[j] = 0;
          sequence[j] = Math.max(sequenceBefore[j]!, sequence[j - 1]!);
        }
      }
    }
    const subsequence = sequenceRows[query.length & 1]![past.length]!;
    if (subsequence === 0) return false;
    this.finish(past, substring, subsequence);
    return true;
  }

  private finish(past: Int32Array, substring: number, subsequence: number): void {
    const query = this.query;
    let prefix = 0;
    while (prefix < query.length && prefix < past.length && query[prefix] === past[prefix]) prefix++;
    let suffix = 0;
    while (suffix < query.length && suffix < past.length && query[query.length - 1 - suffix] === past[past.length - 1 - suffix]) suffix++;
    this.result[0] = prefix;
    this.result[1] = suffix;
    this.result[2] = substring;
    this.result[3] = subsequence;
  }
}

function popcount(bits: number): number {
  let count = 0;
  for (let rest = bits; rest !== 0; rest &= rest - 1) count++;
  return count;
}
