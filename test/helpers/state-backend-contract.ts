/**
 * What every state backend keeps (worker/state/backend.ts), through the provider users get:
 * run against memory and SQLite (test/unit/state/providers.test.ts) and real Redis
 * (test/integration/state/redis-provider.test.ts). "Reopen" is a new provider over a new
 * backend connection to the same storage: what a restarted worker sees.
 *
 * No sleeps: every step is awaited; prepares that must overlap with puts are started and not
 * awaited until the puts are done.
 */
import type { KeyValueState, ManagedState } from '../../topology-api';
import type { StateBackend } from '../../worker/state/backend';
import { keyGroupOf, keyGroupRange, keyGroupsOf } from '../../worker/state/key-groups';
import { BackendStateProvider } from '../../worker/state/provider';
import { KeyGroupStore } from '../../worker/state/two-phase';
import { StateCodec } from '../../worker/state/codec';
import { rejectsWithCode } from './state-store-contract';
import { Random } from '../../common/random';

export { rejectsWithCode };

export interface StateBackendHarness {
  /** A new connection to the same storage (every call). */
  backend(): StateBackend;
}

type KV = KeyValueState<unknown, unknown> & ManagedState;

export const MAX_KEY_GROUPS = 16;

export function contents(state: Iterable<[unknown, unknown]>): Array<[unknown, unknown]> {
  return [...state].sort((a, b) => (JSON.stringify(a[0]) < JSON.stringify(b[0]) ? -1 : 1));
}

let nsCounter = 0;

export function describeStateBackendContract(name: string, harness: () => StateBackendHarness): void {
  let providers: BackendStateProvider[] = [];
  let ns = '';

  let rawBackends: StateBackend[] = [];
  /** A backend used below the provider (closed after the test). */
  const rawBackend = (): StateBackend => {
    const b = harness().backend();
    rawBackends.push(b);
    return b;
  };
  const provider = (): BackendStateProvider => {
    const h = harness();
    const p = new BackendStateProvider(name as 'memory', () => h.backend(), MAX_KEY_GROUPS);
    providers.push(p);
    return p;
  };
  /** A state as a (re)started worker opens it. */
  const open = (keyGroups?: number[], namespace = ns): Promise<KV> => provider().newState(namespace, keyGroups ? { keyGroups } : {});

  beforeEach(() => {
    ns = `ns${++nsCounter}-${process.pid}-${Date.now()}`;
    providers = [];
    rawBackends = [];
  });
  afterEach(async () => {
    await Promise.all([...providers.map((p) => p.close()), ...rawBackends.map((b) => b.close())]);
  });

  describe(`${name}: KeyValueState`, () => {
    it('starts empty, and gets, puts, deletes and iterates', async () => {
      const s = await open();
      expect(s.size).toBe(0);
      expect(s.get('a')).toBeUndefined();
      expect(s.get('a', 7)).toBe(7);
      s.put('a', 1);
      s.put('b', { x: [1, 2] });
      s.put(1, 'one');
      s.put('1', 'string one');
      s.put(['u', 3], 'composite');
      expect(s.get('a')).toBe(1);
      expect(s.get(1)).toBe('one');
      expect(s.get('1')).toBe('string one');
      expect(s.get(['u', 3])).toBe('composite');
      expect(s.delete('a')).toBe(1);
      expect(s.delete('missing')).toBeUndefined();
      expect(s.size).toBe(4);
      expect(contents(s)).toEqual(contents([['b', { x: [1, 2] }], [1, 'one'], ['1', 'string one'], [['u', 3], 'composite']]));
    });

    it('commits what was put before the barrier and a reopened state loads it', async () => {
      const s = await open();
      s.put('a', 1);
      s.put('b', 2);
      s.put(['k', 1], { deep: { list: [1, 'x', null, true] } });
      await s.prepareCommit(1);
      await s.commit(1);
      s.delete('b');
      s.put('a', 10);
      s.put('c', 3);
      await s.prepareCommit(2);
      await s.commit(2);
      expect(s.checkpointStats().committedTxid).toBe(2);
      const r = await open();
      expect(contents(r)).toEqual(contents([['a', 10], ['c', 3], [['k', 1], { deep: { list: [1, 'x', null, true] } }]]));
      expect(r.checkpointStats().committedTxid).toBe(2);
    });

    it('a checkpoint holds the values at its barrier, not later ones (copy-on-write)', async () => {
      const s = await open();
      for (let i = 0; i < 3000; i++) s.put(`k${i}`, i);
      s.put('obj', { n: 1 });
      const prepared = s.prepareCommit(1); // the barrier
      for (let i = 0; i < 3000; i++) s.put(`k${i}`, -i);
      s.delete('k5');
      s.put('new', true);
      (s.get('obj') as { n: number }).n = 2; // changed in place after the barrier
      await prepared;
      await s.commit(1);
      const r = await open();
      expect(r.size).toBe(3001);
      expect(r.get('k5')).toBe(5);
      expect(r.get('k2999')).toBe(2999);
      expect(r.get('new')).toBeUndefined();
      expect(r.get('obj')).toEqual({ n: 1 });
      // and the later changes are the next checkpoint
      await s.prepareCommit(2);
      await s.commit(2);
      const r2 = await open();
      expect(r2.get('k5')).toBeUndefined();
      expect(r2.get('k2999')).toBe(-2999);
      expect(r2.get('obj')).toEqual({ n: 2 });
      expect(r2.get('new')).toBe(true);
    });

    it('rolls back to the last committed state, before and after a prepare', async () => {
      const s = await open();
      s.put('a', 1);
      s.put('obj', { list: [1] });
      await s.prepareCommit(1);
      await s.commit(1);
      s.put('a', 2);
      s.put('b', 1);
      (s.get('obj') as { list: number[] }).list.push(2); // in place, then put
      s.put('obj', s.get('obj'));
      await s.rollback();
      expect(contents(s)).toEqual(contents([['a', 1], ['obj', { list: [1] }]]));
      s.put('a', 3);
      s.delete('obj');
      await s.prepareCommit(2);
      s.put('c', 1);
      await s.rollback(); // a failed checkpoint: prepared, never committed
      expect(contents(s)).toEqual(contents([['a', 1], ['obj', { list: [1] }]]));
      // the aborted staging is invisible and the next checkpoint starts clean
      expect(contents(await open())).toEqual(contents([['a', 1], ['obj', { list: [1] }]]));
      s.put('d', 4);
      await s.prepareCommit(2);
      await s.commit(2);
      expect(contents(await open())).toEqual(contents([['a', 1], ['d', 4], ['obj', { list: [1] }]]));
    });

    it('matches a model under seeded read-modify-writes, deletes, barriers with puts in flight, commits, rollbacks and reopens', async () => {
      // the hot path of a counting bolt is get(k) then put(k): a put of a key already changed
      // since the barrier skips the undo bookkeeping, and a get's cell is remembered for the put
      const rand = new Random(11);
      const keys = ['a', 'b', 'c', 'd', 'e', 7, 8, ['k', 1]];
      let s = await open();
      let working = new Map<string, unknown>();
      let committed = new Map<string, unknown>();
      let txid = 0;
      const id = (k: unknown): string => JSON.stringify(k);
      const check = (): void => {
        expect(contents(s)).toEqual(contents([...working].map(([k, v]) => [JSON.parse(k), v])));
        for (const k of keys) expect(s.get(k)).toEqual(working.get(id(k)));
      };
      for (let step = 0; step < 1500; step++) {
        const k = keys[rand.nextInt(keys.length)];
        const op = rand.nextInt(100);
        if (op < 55) {
          const n = ((s.get(k, 0) as number) ?? 0) + 1;
          expect(n - 1).toBe(working.get(id(k)) ?? 0);
          s.put(k, n);
          working.set(id(k), n);
        } else if (op < 70) {
          const v = rand.nextInt(1000);
          s.put(k, v);
          working.set(id(k), v);
        } else if (op < 80) {
          expect(s.delete(k)).toEqual(working.get(id(k)));
          working.delete(id(k));
        } else if (op < 88) {
          // a barrier, with puts while the snapshot is written, then its commit
          txid++;
          const snapshot = new Map(working);
          const prepared = s.prepareCommit(txid);
          const k2 = keys[rand.nextInt(keys.length)];
          const n = ((s.get(k2, 0) as number) ?? 0) + 100;
          s.put(k2, n);
          working.set(id(k2), n);
          await prepared;
          if (rand.nextInt(4) === 0) {
            await s.rollback(); // prepared, never committed
            working = new Map(committed);
          } else {
            await s.commit(txid);
            committed = snapshot;
          }
        } else if (op < 94) {
          await s.rollback();
          working = new Map(committed);
        } else if (op < 96) {
          s = await open(); // a restarted worker: the committed state
          working = new Map(committed);
        } else {
          check();
        }
      }
      check();
    });

    it('a prepare that was never committed is invisible after a restart; a replayed commit applies it', async () => {
      const s = await open();
      s.put('a', 1);
      await s.prepareCommit(1);
      await s.commit(1);
      s.put('a', 2);
      s.put('b', 2);
      await s.prepareCommit(2);
      // the worker dies here; the restarted one sees txid 1
      const r = await open();
      expect(contents(r)).toEqual([['a', 1]]);
      expect(r.checkpointStats().committedTxid).toBe(1);
      // recovery replays the decision to commit 2
      await r.commit(2);
      expect(contents(r)).toEqual([
        ['a', 2],
        ['b', 2],
      ]);
      expect(contents(await open())).toEqual([
        ['a', 2],
        ['b', 2],
      ]);
    });

    it('replays are idempotent: prepare and commit of a committed txid do nothing', async () => {
      const s = await open();
      s.put('a', 1);
      await s.prepareCommit(1);
      await s.commit(1);
      await s.commit(1);
      s.put('a', 2);
      await s.prepareCommit(1); // already committed: a no-op, the change stays pending
      await s.commit(1);
      expect(contents(await open())).toEqual([['a', 1]]);
      const r = await open();
      await r.prepareCommit(1);
      await r.commit(1);
      expect(contents(r)).toEqual([['a', 1]]);
      await s.prepareCommit(2);
      await s.commit(2);
      expect(contents(await open())).toEqual([['a', 2]]);
    });

    it('a commit replayed to a state that has no record at all does nothing (a task new to the topology)', async () => {
      const s = await open();
      await s.commit(7);
      expect(s.size).toBe(0);
      s.put('a', 1);
      await s.prepareCommit(8);
      await s.commit(8);
      expect(contents(await open())).toEqual([['a', 1]]);
    });

    it('refuses a commit of a txid never prepared, and a stale prepare', async () => {
      const s = await open();
      s.put('a', 1);
      await rejectsWithCode(s.commit(5), 'ERR_STATE_TXID');
      await s.prepareCommit(3);
      await rejectsWithCode(s.prepareCommit(2), 'ERR_STATE_TXID');
      await s.commit(3);
      expect(contents(await open())).toEqual([['a', 1]]);
      // a restarted state whose backend has records, but none for that txid
      await rejectsWithCode((await open()).commit(5), 'ERR_STATE_TXID');
    });

    it('a newer prepare supersedes one not yet committed, and stages every change since the commit', async () => {
      const s = await open();
      s.put('a', 1);
      const first = s.prepareCommit(1);
      s.put('b', 2);
      const second = s.prepareCommit(2);
      await rejectsWithCode(first, 'ERR_STATE_TXID');
      await second;
      await rejectsWithCode(s.commit(1), 'ERR_STATE_TXID');
      await s.commit(2);
      expect(contents(await open())).toEqual([
        ['a', 1],
        ['b', 2],
      ]);
      expect(s.checkpointStats().entries).toBe(2);
    });

    it('reports the staged delta: keys and bytes', async () => {
      const s = await open();
      for (let i = 0; i < 100; i++) s.put(`key${i}`, 'v'.repeat(10));
      await s.prepareCommit(1);
      await s.commit(1);
      const stats = s.checkpointStats();
      expect(stats.entries).toBe(100);
      // msgpack: 'key0'..'key99' are 5-6 bytes, 'vvvvvvvvvv' 11 bytes
      expect(stats.sizeBytes).toBe(100 * 11 + 10 * 5 + 90 * 6);
      s.put('key1', 'w');
      await s.prepareCommit(2);
      expect(s.checkpointStats()).toMatchObject({ entries: 1, sizeBytes: 5 + 2 });
    });

    it('keeps namespaces apart', async () => {
      const a = await open(undefined, `${ns}-a`);
      const b = await open(undefined, `${ns}-b`);
      a.put('k', 'a');
      b.put('k', 'b');
      await Promise.all([a.prepareCommit(1), b.prepareCommit(1)]);
      await Promise.all([a.commit(1), b.commit(1)]);
      expect((await open(undefined, `${ns}-a`)).get('k')).toBe('a');
      expect((await open(undefined, `${ns}-b`)).get('k')).toBe('b');
    });
  });

  describe(`${name}: key groups`, () => {
    const keys = Array.from({ length: 400 }, (_, i) => (i % 3 === 0 ? [`u${i}`, i] : `w${i}`));

    it('refuses a key of a group the task does not own', async () => {
      const owned = keyGroupsOf(keyGroupRange(0, 2, MAX_KEY_GROUPS));
      const s = await open(owned);
      const foreign = keys.find((k) => !owned.includes(keyGroupOf(k, MAX_KEY_GROUPS)))!;
      const own = keys.find((k) => owned.includes(keyGroupOf(k, MAX_KEY_GROUPS)))!;
      s.put(own, 1);
      expect(() => s.put(foreign, 1)).toThrow(expect.objectContaining({ code: 'ERR_STATE_KEY_GROUP' }));
    });

    it('rescaling 2 → 3 → 1 tasks opens every key exactly once', async () => {
      const write = async (n: number, txid: number, value: (k: unknown) => unknown): Promise<void> => {
        const tasks = await Promise.all(Array.from({ length: n }, (_, i) => open(keyGroupsOf(keyGroupRange(i, n, MAX_KEY_GROUPS)))));
        for (const k of keys) {
          const owner = tasks.findIndex((_, i) => keyGroupsOf(keyGroupRange(i, n, MAX_KEY_GROUPS)).includes(keyGroupOf(k, MAX_KEY_GROUPS)));
          tasks[owner].put(k, value(tasks[owner].get(k)));
        }
        await Promise.all(tasks.map((t) => t.prepareCommit(txid)));
        await Promise.all(tasks.map((t) => t.commit(txid)));
      };
      const read = async (n: number): Promise<Array<Array<[unknown, unknown]>>> =>
        Promise.all(Array.from({ length: n }, async (_, i) => contents(await open(keyGroupsOf(keyGroupRange(i, n, MAX_KEY_GROUPS))))));
      await write(2, 1, () => 1);
      await write(3, 2, (v) => (v as number) + 1);
      const three = await read(3);
      expect(three.flat()).toHaveLength(keys.length);
      expect(three.flat().every(([, v]) => v === 2)).toBe(true);
      await write(1, 3, (v) => (v as number) + 1);
      const one = (await read(1))[0];
      expect(one).toHaveLength(keys.length);
      expect(one.every(([, v]) => v === 3)).toBe(true);
    });
  });

  describe(`${name}: crash points of the two-phase store`, () => {
    const codec = new StateCodec();
    const entry = (k: string, v: unknown | null) => ({ op: 'stage' as const, kg: keyGroupOf(k, MAX_KEY_GROUPS), key: codec.encodeKey(k), value: v === null ? null : codec.encode(v) });
    const groups = keyGroupsOf({ start: 0, end: MAX_KEY_GROUPS });
    const committed = async (): Promise<Array<[unknown, unknown]>> => contents(await open());

    async function base(): Promise<KeyGroupStore> {
      const store = new KeyGroupStore(rawBackend(), ns, groups, 3);
      await store.beginStage();
      await store.stage(['a', 'b', 'c'].map((k) => entry(k, 1)));
      await store.seal(1);
      await store.commit(1);
      return store;
    }

    it('staged rows without a seal are ignored, and cleared by the next prepare', async () => {
      const store = await base();
      await store.beginStage();
      await store.stage([entry('a', 2), entry('b', null), entry('d', 2)]);
      expect(await committed()).toEqual([
        ['a', 1],
        ['b', 1],
        ['c', 1],
      ]);
      await store.beginStage();
      await store.stage([entry('c', 3)]);
      await store.seal(2);
      await store.commit(2);
      expect(await committed()).toEqual([
        ['a', 1],
        ['b', 1],
        ['c', 3],
      ]);
    });

    it('a sealed but undecided prepare is ignored by readers', async () => {
      const store = await base();
      await store.beginStage();
      await store.stage([entry('a', 2)]);
      await store.seal(2);
      expect(await committed()).toEqual([
        ['a', 1],
        ['b', 1],
        ['c', 1],
      ]);
    });

    it('a commit point without its fold is rolled forward by the next reader', async () => {
      const backend = rawBackend();
      const store = new KeyGroupStore(backend, ns, groups, 2);
      await store.beginStage();
      const many = Array.from({ length: 20 }, (_, i) => entry(`k${i}`, i));
      await store.stage(many);
      await store.seal(1);
      // the commit point alone, then a crash: no row folded yet
      await backend.write(
        ns,
        groups.map((kg) => ({ op: 'mark', kg, committed: 1 })),
        { sync: true },
      );
      const r = await open();
      expect(r.size).toBe(20);
      expect(r.checkpointStats().committedTxid).toBe(1);
      await store.beginStage();
      await store.stage(Array.from({ length: 20 }, (_, i) => entry(`k${i}`, i % 2 ? null : 100 + i)));
      await store.seal(2);
      await backend.write(
        ns,
        groups.map((kg) => ({ op: 'mark', kg, committed: 2 })),
        { sync: true },
      );
      // a crash half-way through the fold: one group's rows moved, the others still staged
      let folded = 0;
      for (const kg of groups) {
        if ((await backend.scan(ns, kg, 'staged', null, 100)).rows.length === 0) continue;
        await backend.fold(ns, kg);
        folded += 1;
        break;
      }
      expect(folded).toBeGreaterThan(0);
      const after = await open();
      expect(after.size).toBe(10);
      for (let i = 0; i < 20; i++) expect(after.get(`k${i}`)).toBe(i % 2 ? undefined : 100 + i);
      // the replayed commit finds it done
      await after.commit(2);
      expect(after.size).toBe(10);
    });

    // A fold the client gave up on (a command timeout) may still run in the backend later, after
    // the next prepare has cleared the group and sealed new rows under a txid not yet committed:
    // it must move nothing then, or that prepare's rows become committed under the old txid and
    // its staged txid is lost (the commit of the new txid then fails with ERR_STATE_TXID).
    it('a fold of a group whose staged txid is not committed moves nothing', async () => {
      const backend = rawBackend();
      const store = await base();
      await store.beginStage();
      await store.stage([entry('a', 2), entry('b', null)]);
      await store.seal(2);
      for (const kg of groups) await backend.fold(ns, kg); // late folds of txid 1
      expect(await committed()).toEqual([
        ['a', 1],
        ['b', 1],
        ['c', 1],
      ]);
      const metas = await backend.meta(ns, groups);
      expect(metas.filter((m) => m.staged !== 2)).toEqual([]);
      await store.commit(2);
      expect(await committed()).toEqual([
        ['a', 2],
        ['c', 1],
      ]);
    });
  });
}
