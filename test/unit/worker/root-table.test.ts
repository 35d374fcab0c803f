import { Random } from '../../../common/random';
import { RootTable } from '../../../worker/root-table';

/** A RootTable with one number of payload per root, for checking against a Map. */
class Table extends RootTable {
  values = new Float64Array(0);
  private old = this.values;
  constructor(buckets: number) {
    super(buckets, 16);
    this.allocate(this.capacity());
  }
  set(root: number, value: number): void {
    const s = this.upsert(root);
    this.values[s] = value;
  }
  get(root: number): number | undefined {
    const s = this.find(root);
    return s < 0 ? undefined : this.values[s];
  }
  remove(root: number): boolean {
    const s = this.find(root);
    if (s < 0) return false;
    this.removeAt(s);
    return true;
  }
  refresh(root: number): void {
    const s = this.find(root);
    if (s >= 0) this.touch(s);
  }
  rotate(): number[] {
    const expired: number[] = [];
    this.rotateWith((s) => expired.push(this.values[s]));
    return expired;
  }
  protected allocate(n: number): void {
    this.values = new Float64Array(n);
  }
  protected stash(): void {
    this.old = this.values;
  }
  protected carry(from: number, to: number): void {
    this.values[to] = this.old[from];
  }
  protected move(from: number, to: number): void {
    this.values[to] = this.values[from];
  }
}

describe('RootTable', () => {
  it('matches a Map under random puts, removes, refreshes and rotations (RotatingMap semantics)', () => {
    const rand = new Random(7);
    const buckets = 3;
    const table = new Table(buckets);
    // the model: root -> [value, generation it was put or refreshed in]
    const model = new Map<number, [number, number]>();
    let generation = 0;
    // few distinct roots, some colliding in their low bits, some in runs of consecutive ids as a
    // spout task makes them (SpoutTask.nextRoot: runs of 16 share a block of slots), so clusters
    // form and shift
    const runs = [7 * 4294967296 + 4294967200, 9 * 4294967296 + 5];
    const roots = Array.from({ length: 450 }, (_, i) => (i % 3 === 0 ? rand.nextId53() : i % 3 === 1 ? 1 + i * 1024 : runs[i % 2] + i));
    for (let step = 0; step < 50_000; step++) {
      const root = roots[rand.nextInt(roots.length)];
      const op = rand.nextInt(100);
      if (op < 45) {
        const v = rand.nextInt(1e9);
        table.set(root, v);
        const had = model.get(root);
        model.set(root, [v, had ? had[1] : generation]);
      } else if (op < 85) {
        expect(table.remove(root)).toBe(model.delete(root));
      } else if (op < 95) {
        table.refresh(root);
        const had = model.get(root);
        if (had) had[1] = generation;
      } else if (op < 96) {
        generation++;
        const expired = table.rotate().sort((a, b) => a - b);
        const expected: number[] = [];
        for (const [r, [v, g]] of model) {
          if (g <= generation - buckets) {
            expected.push(v);
            model.delete(r);
          }
        }
        expect(expired).toEqual(expected.sort((a, b) => a - b));
      } else {
        expect(table.get(root)).toBe(model.get(root)?.[0]);
      }
      if (step % 997 === 0) {
        expect(table.size()).toBe(model.size);
        for (const r of roots) expect(table.get(r)).toBe(model.get(r)?.[0]);
      }
    }
  });

  it('keeps consecutive ids of interleaved runs, put and settled in order as a spout does, exactly', () => {
    const table = new Table(3);
    const model = new Map<number, number>();
    const starts = [3 * 4294967296 + 4294960000, 1_000_000, 2 ** 52];
    const next = [0, 0, 0];
    const live: number[] = [];
    for (let step = 0; step < 60_000; step++) {
      const q = step % 3;
      const root = starts[q] + next[q]++;
      table.set(root, step);
      model.set(root, step);
      live.push(root);
      // settle the oldest once 5,000 are pending, one out of order now and then
      if (live.length > 5_000) {
        const i = step % 7 === 0 ? 17 : 0;
        const [r] = live.splice(i, 1);
        expect(table.get(r)).toBe(model.get(r));
        expect(table.remove(r)).toBe(true);
        model.delete(r);
      }
    }
    expect(table.size()).toBe(model.size);
    for (const [r, v] of model) expect(table.get(r)).toBe(v);
  });

  it('expires an entry on the `buckets`-th rotation after its last put or refresh', () => {
    const table = new Table(3);
    table.set(5, 1);
    expect(table.rotate()).toEqual([]);
    table.refresh(5);
    expect(table.rotate()).toEqual([]);
    expect(table.rotate()).toEqual([]);
    expect(table.rotate()).toEqual([1]);
    expect(table.size()).toBe(0);
  });
});
