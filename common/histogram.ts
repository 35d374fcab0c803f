/**
 * A log-linear latency histogram (HDR-style): 32 powers of two of microseconds, each split into 16
 * linear sub-buckets, so any recorded value is off by at most 1/16 (~6%). Recording is a few integer
 * operations and no allocation; percentiles come from the full distribution, not a sample.
 */
const SUB_BITS = 4;
const SUB = 1 << SUB_BITS;
const BUCKETS = 33 * SUB;

export class Histogram {
  readonly counts = new Float64Array(BUCKETS);
  total = 0;
  sumUs = 0;
  maxUs = 0;

  /** Records one value, in milliseconds (fractions welcome). */
  recordMs(ms: number): void {
    this.recordUs(ms * 1000);
  }

  recordUs(us: number): void {
    const v = us < 0 ? 0 : us > 4e9 ? 4e9 : us;
    this.counts[bucketOf(v)]++;
    this.total++;
    this.sumUs += v;
    if (v > this.maxUs) this.maxUs = v;
  }

  /** Records `n` values of `us` each (a batch's mean; no allocation). */
  recordManyUs(us: number, n: number): void {
    if (n <= 0) return;
    const v = us < 0 ? 0 : us > 4e9 ? 4e9 : us;
    this.counts[bucketOf(v)] += n;
    this.total += n;
    this.sumUs += v * n;
    if (v > this.maxUs) this.maxUs = v;
  }

  /** The value (ms) below which `p` percent of recorded values fall. */
  percentileMs(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(upperBoundUs(i), this.maxUs) / 1000;
    }
    return this.maxUs / 1000;
  }

  meanMs(): number {
    return this.total === 0 ? 0 : this.sumUs / this.total / 1000;
  }

  merge(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i] += other.counts[i];
    this.total += other.total;
    this.sumUs += other.sumUs;
    if (other.maxUs > this.maxUs) this.maxUs = other.maxUs;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.sumUs = 0;
    this.maxUs = 0;
  }

  /** Compact form for the wire: [index, count] pairs of non-empty buckets. */
  toSparse(): number[] {
    const out: number[] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i] > 0) out.push(i, this.counts[i]);
    return out;
  }

  static fromSparse(pairs: readonly number[], sumUs = 0, maxUs = 0): Histogram {
    const h = new Histogram();
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      h.counts[pairs[i]] += pairs[i + 1];
      h.total += pairs[i + 1];
    }
    h.sumUs = sumUs;
    let top = 0;
    for (let i = 0; i + 1 < pairs.length; i += 2) top = Math.max(top, upperBoundUs(pairs[i]));
    h.maxUs = maxUs > 0 ? maxUs : top;
    return h;
  }
}

/** Upper bound (µs) of a bucket: what a sparse pair's index stands for. */
export function bucketUpperUs(index: number): number {
  return upperBoundUs(index);
}

/** Number of buckets; a sparse pair's index is below this. */
export const HISTOGRAM_BUCKETS = BUCKETS;

function bucketOf(us: number): number {
  const v = Math.floor(us);
  if (v < SUB) return v;
  const exp = 31 - Math.clz32(v); // v in [2^exp, 2^(exp+1))
  const sub = (v >>> (exp - SUB_BITS)) & (SUB - 1);
  return (exp - SUB_BITS + 1) * SUB + sub;
}

function upperBoundUs(index: number): number {
  if (index < SUB) return index + 1;
  const exp = Math.floor(index / SUB) + SUB_BITS - 1;
  const sub = index % SUB;
  return (SUB + sub + 1) * 2 ** (exp - SUB_BITS);
}
