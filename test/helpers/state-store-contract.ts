/**
 * The behaviour every StateStore keeps (store.ts), run against the in-memory twin
 * (test/unit/cluster-state/memory-store.test.ts) and real ZooKeeper (test/cluster/zk-store.test.ts).
 *
 * No sleeps: every wait is on an event, bounded. To show that a watch did NOT fire, a test makes a
 * later change that the same session watches (a "barrier") and waits for that event: sessions get
 * their events in order, so anything the earlier change triggered has been delivered by then.
 */
import { errorCode } from '../../common/errors';
import type { ConnectionState, StateStore, WatchEvent, Watcher } from '../../common/cluster-state/store';

export interface StateStoreHarness {
  /** Opens a new, connected session. */
  connect(): Promise<StateStore>;
  /** Expires a session from outside; the store then renews by itself. */
  expire(store: StateStore): Promise<void>;
}

export const EVENT_WAIT_MS = 5_000;

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function text(data: Uint8Array | undefined): string {
  return new TextDecoder().decode(data);
}

/** Rejects with a message naming what was awaited if `promise` does not settle within `ms`. */
export function within<T>(promise: Promise<T>, what: string, ms = EVENT_WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A watcher that records its events; `next()` waits (bounded) for the next unread one. */
export function recorder(name = 'watch'): { watcher: Watcher; events: WatchEvent[]; next(): Promise<WatchEvent> } {
  const events: WatchEvent[] = [];
  const waiting: Array<(e: WatchEvent) => void> = [];
  let read = 0;
  return {
    events,
    watcher: (event) => {
      events.push(event);
      const wake = waiting.shift();
      if (wake) wake(events[read++]);
    },
    next: () => {
      if (read < events.length) return Promise.resolve(events[read++]);
      return within(new Promise<WatchEvent>((resolve) => waiting.push(resolve)), `an event on ${name}`);
    },
  };
}

/**
 * Records connection states. `waitFor(state, after)` resolves once `state` has been reported
 * (after the first `after`, when given: a plain reconnect may come before an expiry).
 */
export function connectionLog(store: StateStore): {
  states: ConnectionState[];
  waitFor(state: ConnectionState, after?: ConnectionState): Promise<void>;
  stop(): void;
} {
  const states: ConnectionState[] = [];
  const waiters: Array<{ done: () => boolean; resolve: () => void }> = [];
  const seen = (state: ConnectionState, after?: ConnectionState): boolean => {
    const from = after === undefined ? 0 : states.indexOf(after);
    return from >= 0 && states.indexOf(state, from) >= 0;
  };
  const stop = store.onConnectionChange((state) => {
    states.push(state);
    for (const w of waiters.filter((x) => x.done())) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  return {
    states,
    stop,
    waitFor: (state, after) => {
      if (seen(state, after)) return Promise.resolve();
      const what = after ? `connection state '${state}' after '${after}'` : `connection state '${state}'`;
      return within(new Promise<void>((resolve) => waiters.push({ done: () => seen(state, after), resolve })), what);
    },
  };
}

/** The states from the first 'expired' on. */
export function fromExpiry(states: ConnectionState[]): ConnectionState[] {
  const i = states.indexOf('expired');
  return i < 0 ? [] : states.slice(i);
}

let nextBarrier = 0;

export async function barrier(store: StateStore, base: string): Promise<void> {
  const path = `${base}/barrier-${++nextBarrier}`;
  const seen = recorder(`barrier ${path}`);
  expect(await store.exists(path, seen.watcher)).toBe(false);
  await store.create(path, new Uint8Array(0));
  expect(await seen.next()).toEqual({ type: 'created', path });
}

export async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<Error> {
  let caught: unknown = null;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  if (caught === null) throw new Error(`expected a rejection with ${code}, but it resolved`);
  expect(errorCode(caught)).toBe(code);
  return caught as Error;
}

let nextBase = 0;

/** Registers the contract tests; call inside a describe whose beforeAll makes `harness()` usable. */
export function describeStateStoreContract(harness: () => StateStoreHarness): void {
  const open: StateStore[] = [];
  let base = '';

  const connect = async (): Promise<StateStore> => {
    const store = await harness().connect();
    open.push(store);
    return store;
  };

  beforeEach(() => {
    base = `/contract-${process.pid}-${++nextBase}`;
  });

  afterEach(async () => {
    const stores = open.splice(0);
    await Promise.all(stores.map((s) => s.close()));
  });

  describe('nodes and versions', () => {
    test('create then get: the data at version 0', async () => {
      const s = await connect();
      expect(await s.create(`${base}/a`, bytes('one'))).toBe(`${base}/a`);
      const node = await s.get(`${base}/a`);
      expect(text(node?.data)).toBe('one');
      expect(node?.version).toBe(0);
      expect(node?.data).toBeInstanceOf(Uint8Array);
    });

    test('create creates missing parents as empty persistent nodes', async () => {
      const s = await connect();
      await s.create(`${base}/x/y/z`, bytes('deep'));
      expect(await s.children(base)).toEqual(['x']);
      expect(await s.get(`${base}/x/y`)).toEqual({ data: new Uint8Array(0), version: 0 });
    });

    test('create on an existing node fails with ERR_STATE_NODE_EXISTS', async () => {
      const s = await connect();
      await s.create(`${base}/a`, bytes('1'));
      await rejectsWithCode(s.create(`${base}/a`, bytes('2')), 'ERR_STATE_NODE_EXISTS');
      expect(text((await s.get(`${base}/a`))?.data)).toBe('1');
    });

    test('set bumps the version by one and checks the expected version', async () => {
      const s = await connect();
      await s.create(`${base}/a`, bytes('v0'));
      expect(await s.set(`${base}/a`, bytes('v1'))).toBe(1);
      expect(await s.set(`${base}/a`, bytes('v2'), 1)).toBe(2);
      await rejectsWithCode(s.set(`${base}/a`, bytes('stale'), 1), 'ERR_STATE_CONFLICT');
      expect(await s.get(`${base}/a`)).toEqual({ data: bytes('v2'), version: 2 });
    });

    test('set on a missing node fails with ERR_STATE_NO_NODE', async () => {
      const s = await connect();
      await rejectsWithCode(s.set(`${base}/missing`, bytes('x')), 'ERR_STATE_NO_NODE');
    });

    test('put creates (with parents), then updates', async () => {
      const s = await connect();
      await s.put(`${base}/p/q`, bytes('first'));
      await s.put(`${base}/p/q`, bytes('second'));
      expect(await s.get(`${base}/p/q`)).toEqual({ data: bytes('second'), version: 1 });
    });

    test('get of a missing node is null; exists tells', async () => {
      const s = await connect();
      expect(await s.get(`${base}/nope`)).toBeNull();
      expect(await s.exists(`${base}/nope`)).toBe(false);
      await s.create(`${base}/yes`, new Uint8Array(0));
      expect(await s.exists(`${base}/yes`)).toBe(true);
    });

    test('empty data round-trips', async () => {
      const s = await connect();
      await s.create(`${base}/empty`, new Uint8Array(0));
      expect(await s.get(`${base}/empty`)).toEqual({ data: new Uint8Array(0), version: 0 });
    });

    test('binary data round-trips byte for byte', async () => {
      const s = await connect();
      const data = Uint8Array.from({ length: 256 }, (_, i) => i);
      await s.create(`${base}/bin`, data.subarray(10, 200));
      expect(await s.get(`${base}/bin`)).toEqual({ data: data.slice(10, 200), version: 0 });
    });

    test('children are sorted; a missing node has none', async () => {
      const s = await connect();
      for (const name of ['b', 'c', 'a', 'b2']) await s.create(`${base}/${name}`, new Uint8Array(0));
      expect(await s.children(base)).toEqual(['a', 'b', 'b2', 'c']);
      expect(await s.children(`${base}/missing`)).toEqual([]);
    });

    test('sequential nodes get a 10-digit counter that sorts in creation order', async () => {
      const s = await connect();
      const first = await s.create(`${base}/q/item-`, bytes('1'), { sequential: true });
      const second = await s.create(`${base}/q/item-`, bytes('2'), { sequential: true });
      const third = await s.create(`${base}/q/item-`, bytes('3'), { sequential: true, ephemeral: true });
      for (const p of [first, second, third]) expect(p).toMatch(new RegExp(`^${base}/q/item-\\d{10}$`));
      expect(new Set([first, second, third]).size).toBe(3);
      expect(await s.children(`${base}/q`)).toEqual([first, second, third].map((p) => p.slice(`${base}/q/`.length)));
      expect(text((await s.get(second))?.data)).toBe('2');
    });

    test('a sequential counter keeps counting after deletions (names are never reused)', async () => {
      const s = await connect();
      const first = await s.create(`${base}/q/n-`, new Uint8Array(0), { sequential: true });
      await s.delete(first);
      const second = await s.create(`${base}/q/n-`, new Uint8Array(0), { sequential: true });
      expect(second > first).toBe(true);
    });
  });

  describe('delete', () => {
    test('a missing node is fine', async () => {
      const s = await connect();
      await s.delete(`${base}/never`);
      await s.delete(`${base}/never`, { recursive: true });
    });

    test('a node with children needs recursive (ERR_STATE_CONFLICT otherwise)', async () => {
      const s = await connect();
      await s.create(`${base}/t/a/b`, new Uint8Array(0));
      await rejectsWithCode(s.delete(`${base}/t`), 'ERR_STATE_CONFLICT');
      expect(await s.exists(`${base}/t/a/b`)).toBe(true);
    });

    test('recursive delete removes the whole subtree and nothing else', async () => {
      const s = await connect();
      for (const p of ['t/a/b', 't/a/c', 't/d', 'keep/e']) await s.create(`${base}/${p}`, bytes(p));
      await s.delete(`${base}/t`, { recursive: true });
      expect(await s.exists(`${base}/t`)).toBe(false);
      expect(await s.children(base)).toEqual(['keep']);
      expect(text((await s.get(`${base}/keep/e`))?.data)).toBe('keep/e');
    });

    test('the expected version is checked', async () => {
      const s = await connect();
      await s.create(`${base}/v`, bytes('0'));
      await s.set(`${base}/v`, bytes('1'));
      await rejectsWithCode(s.delete(`${base}/v`, { version: 0 }), 'ERR_STATE_CONFLICT');
      await rejectsWithCode(s.delete(`${base}/v`, { version: 0, recursive: true }), 'ERR_STATE_CONFLICT');
      expect(await s.exists(`${base}/v`)).toBe(true);
      await s.delete(`${base}/v`, { version: 1 });
      expect(await s.exists(`${base}/v`)).toBe(false);
    });
  });

  describe('watches', () => {
    test('a data watch fires once, with dataChanged, however many writes follow', async () => {
      const s = await connect();
      await s.create(`${base}/w`, bytes('0'));
      const w = recorder();
      await s.get(`${base}/w`, w.watcher);
      await s.set(`${base}/w`, bytes('1'));
      await s.set(`${base}/w`, bytes('2'));
      expect(await w.next()).toEqual({ type: 'dataChanged', path: `${base}/w` });
      await barrier(s, base);
      expect(w.events).toHaveLength(1);
    });

    test('a write by another session fires the watch', async () => {
      const watcherSide = await connect();
      const writer = await connect();
      await writer.create(`${base}/w`, bytes('0'));
      const w = recorder();
      await watcherSide.get(`${base}/w`, w.watcher);
      await writer.set(`${base}/w`, bytes('1'));
      expect(await w.next()).toEqual({ type: 'dataChanged', path: `${base}/w` });
      expect(text((await watcherSide.get(`${base}/w`))?.data)).toBe('1');
    });

    test('a data watch fires deleted when the node goes', async () => {
      const s = await connect();
      await s.create(`${base}/w`, bytes('0'));
      const w = recorder();
      await s.get(`${base}/w`, w.watcher);
      await s.delete(`${base}/w`);
      expect(await w.next()).toEqual({ type: 'deleted', path: `${base}/w` });
    });

    test('get of a missing node arms the watch for its creation', async () => {
      const s = await connect();
      const w = recorder();
      expect(await s.get(`${base}/later`, w.watcher)).toBeNull();
      await s.create(`${base}/later`, bytes('now'));
      expect(await w.next()).toEqual({ type: 'created', path: `${base}/later` });
    });

    test('exists: created on a missing node, dataChanged on an existing one', async () => {
      const s = await connect();
      const missing = recorder();
      expect(await s.exists(`${base}/e`, missing.watcher)).toBe(false);
      await s.create(`${base}/e`, bytes('0'));
      expect(await missing.next()).toEqual({ type: 'created', path: `${base}/e` });
      const present = recorder();
      expect(await s.exists(`${base}/e`, present.watcher)).toBe(true);
      await s.set(`${base}/e`, bytes('1'));
      expect(await present.next()).toEqual({ type: 'dataChanged', path: `${base}/e` });
    });

    test('a children watch fires childrenChanged on a child created, then (re-armed) deleted', async () => {
      const s = await connect();
      await s.create(`${base}/dir`, new Uint8Array(0));
      const created = recorder();
      expect(await s.children(`${base}/dir`, created.watcher)).toEqual([]);
      await s.create(`${base}/dir/kid`, new Uint8Array(0));
      expect(await created.next()).toEqual({ type: 'childrenChanged', path: `${base}/dir` });
      const deleted = recorder();
      expect(await s.children(`${base}/dir`, deleted.watcher)).toEqual(['kid']);
      await s.delete(`${base}/dir/kid`);
      expect(await deleted.next()).toEqual({ type: 'childrenChanged', path: `${base}/dir` });
    });

    test('a children watch ignores data changes of the node and of its children', async () => {
      const s = await connect();
      await s.create(`${base}/dir/kid`, bytes('0'));
      const w = recorder();
      await s.children(`${base}/dir`, w.watcher);
      await s.set(`${base}/dir`, bytes('dir data'));
      await s.set(`${base}/dir/kid`, bytes('kid data'));
      await barrier(s, base);
      expect(w.events).toEqual([]);
    });

    test('a data watch ignores children coming and going', async () => {
      const s = await connect();
      await s.create(`${base}/dir`, bytes('0'));
      const w = recorder();
      await s.get(`${base}/dir`, w.watcher);
      await s.create(`${base}/dir/kid`, new Uint8Array(0));
      await s.delete(`${base}/dir/kid`);
      await barrier(s, base);
      expect(w.events).toEqual([]);
    });

    test('children of a missing node: [] and the watch fires created when the node appears', async () => {
      const s = await connect();
      const w = recorder();
      expect(await s.children(`${base}/later`, w.watcher)).toEqual([]);
      await s.create(`${base}/later/kid`, new Uint8Array(0));
      expect(await w.next()).toEqual({ type: 'created', path: `${base}/later` });
      expect(await s.children(`${base}/later`)).toEqual(['kid']);
    });

    test('a children watch fires deleted when the node itself goes', async () => {
      const s = await connect();
      await s.create(`${base}/dir`, new Uint8Array(0));
      const w = recorder();
      await s.children(`${base}/dir`, w.watcher);
      await s.delete(`${base}/dir`);
      expect(await w.next()).toEqual({ type: 'deleted', path: `${base}/dir` });
    });

    test('events arrive in the order the changes happened', async () => {
      const s = await connect();
      const order: string[] = [];
      const done = recorder();
      for (const name of ['a', 'b', 'c']) {
        await s.exists(`${base}/${name}`, (e) => order.push(e.path.slice(base.length + 1)));
      }
      await s.exists(`${base}/d`, done.watcher);
      for (const name of ['c', 'a', 'b', 'd']) await s.create(`${base}/${name}`, new Uint8Array(0));
      await done.next();
      expect(order).toEqual(['c', 'a', 'b']);
    });

    test('a watcher that throws does not break the store', async () => {
      const s = await connect();
      await s.create(`${base}/boom`, bytes('0'));
      await s.get(`${base}/boom`, () => {
        throw new Error('watcher bug');
      });
      const after = recorder();
      await s.get(`${base}/boom`, after.watcher);
      await s.set(`${base}/boom`, bytes('1'));
      expect(await after.next()).toEqual({ type: 'dataChanged', path: `${base}/boom` });
      expect(await s.set(`${base}/boom`, bytes('2'))).toBe(2);
    });
  });

  describe('ephemeral nodes', () => {
    test('are visible to other sessions and vanish when the owner closes (their watches fire)', async () => {
      const owner = await connect();
      const other = await connect();
      await owner.create(`${base}/live/me`, bytes('here'), { ephemeral: true });
      expect(text((await other.get(`${base}/live/me`))?.data)).toBe('here');
      const gone = recorder();
      const listing = recorder();
      await other.exists(`${base}/live/me`, gone.watcher);
      await other.children(`${base}/live`, listing.watcher);
      await owner.close();
      expect(await gone.next()).toEqual({ type: 'deleted', path: `${base}/live/me` });
      expect(await listing.next()).toEqual({ type: 'childrenChanged', path: `${base}/live` });
      expect(await other.exists(`${base}/live/me`)).toBe(false);
      expect(await other.exists(`${base}/live`)).toBe(true);
    });

    test('cannot have children (ERR_STATE_STORE)', async () => {
      const s = await connect();
      await s.create(`${base}/eph`, new Uint8Array(0), { ephemeral: true });
      await rejectsWithCode(s.create(`${base}/eph/kid`, new Uint8Array(0)), 'ERR_STATE_STORE');
    });

    test('putEphemeral creates, then updates in place', async () => {
      const owner = await connect();
      const other = await connect();
      await owner.putEphemeral(`${base}/sup/one`, bytes('v0'));
      await owner.putEphemeral(`${base}/sup/one`, bytes('v1'));
      expect(await other.get(`${base}/sup/one`)).toEqual({ data: bytes('v1'), version: 1 });
      await owner.close();
      expect(await other.exists(`${base}/sup/one`)).toBe(false);
    });

    test("putEphemeral takes over another session's node, which then lives as long as the new owner", async () => {
      const previous = await connect();
      const next = await connect();
      await previous.putEphemeral(`${base}/sup/one`, bytes('old'));
      await next.putEphemeral(`${base}/sup/one`, bytes('new'));
      await previous.close();
      expect(text((await next.get(`${base}/sup/one`))?.data)).toBe('new');
      const observer = await connect();
      await next.close();
      expect(await observer.exists(`${base}/sup/one`)).toBe(false);
    });
  });

  describe('session expiry', () => {
    test("the store renews its session, re-creates its ephemerals with their latest data, and reports 'expired' then 'reconnected'", async () => {
      const owner = await connect();
      const other = await connect();
      await owner.create(`${base}/eph/a`, bytes('a0'), { ephemeral: true });
      await owner.set(`${base}/eph/a`, bytes('a1'));
      await owner.putEphemeral(`${base}/eph/b`, bytes('b0'));
      await owner.create(`${base}/eph/gone`, new Uint8Array(0), { ephemeral: true });
      await owner.delete(`${base}/eph/gone`);
      await owner.create(`${base}/persistent`, bytes('p'));
      const deleted = recorder('other session on eph/a');
      await other.exists(`${base}/eph/a`, deleted.watcher);
      const log = connectionLog(owner);

      await harness().expire(owner);
      expect(await deleted.next()).toEqual({ type: 'deleted', path: `${base}/eph/a` });
      await log.waitFor('reconnected', 'expired');
      // ZooKeeper may report a plain disconnect/reconnect first; the twin goes straight to expiry.
      expect(log.states.slice(0, log.states.indexOf('expired')).every((s) => s === 'disconnected' || s === 'reconnected')).toBe(true);
      expect(fromExpiry(log.states)).toEqual(['expired', 'reconnected']);

      expect(await other.children(`${base}/eph`)).toEqual(['a', 'b']);
      expect(text((await other.get(`${base}/eph/a`))?.data)).toBe('a1');
      expect(text((await other.get(`${base}/eph/b`))?.data)).toBe('b0');
      // The new session owns them: they still vanish when the owner closes.
      await owner.close();
      expect(await other.children(`${base}/eph`)).toEqual([]);
      expect(await other.exists(`${base}/persistent`)).toBe(true);
    });

    test('watches armed on the expired session never fire; re-armed ones do', async () => {
      const owner = await connect();
      await owner.create(`${base}/w`, bytes('0'));
      const old = recorder('watch armed before expiry');
      await owner.get(`${base}/w`, old.watcher);
      const log = connectionLog(owner);
      await harness().expire(owner);
      await log.waitFor('reconnected', 'expired');
      const rearmed = recorder('watch armed after reconnect');
      await owner.get(`${base}/w`, rearmed.watcher);
      await owner.set(`${base}/w`, bytes('1'));
      expect(await rearmed.next()).toEqual({ type: 'dataChanged', path: `${base}/w` });
      await barrier(owner, base);
      expect(old.events).toEqual([]);
    });
  });

  describe('misuse and lifecycle', () => {
    test('bad paths fail with ERR_STATE_STORE before anything is sent', async () => {
      const s = await connect();
      for (const bad of ['relative', '/trailing/', '//double', '/a/../b', '/a/./b', '/nul\u0000']) {
        await rejectsWithCode(s.get(bad), 'ERR_STATE_STORE');
        await rejectsWithCode(s.create(bad, new Uint8Array(0)), 'ERR_STATE_STORE');
      }
    });

    test('data over the size cap fails with ERR_STATE_STORE', async () => {
      const s = await connect();
      await rejectsWithCode(s.put(`${base}/big`, new Uint8Array(1_000_001)), 'ERR_STATE_STORE');
      expect(await s.exists(`${base}/big`)).toBe(false);
    });

    test('close is idempotent; calls after it fail with ERR_CLOSED', async () => {
      const s = await connect();
      await Promise.all([s.close(), s.close()]);
      await s.close();
      await rejectsWithCode(s.get(`${base}/x`), 'ERR_CLOSED');
      await rejectsWithCode(s.create(`${base}/x`, new Uint8Array(0)), 'ERR_CLOSED');
    });

    test('a removed connection listener is not called', async () => {
      const s = await connect();
      const calls: ConnectionState[] = [];
      const remove = s.onConnectionChange((state) => calls.push(state));
      remove();
      const log = connectionLog(s);
      await harness().expire(s);
      await log.waitFor('reconnected', 'expired');
      expect(calls).toEqual([]);
    });
  });
}
