import { MemoryStateServer, type MemoryStateStore } from '../../../common/cluster-state/memory-store';
import type { StateStore } from '../../../common/cluster-state/store';
import { bytes, connectionLog, describeStateStoreContract, recorder, rejectsWithCode, text } from '../../helpers/state-store-contract';

describe('MemoryStateStore: the StateStore contract', () => {
  let server: MemoryStateServer;
  beforeEach(() => {
    server = new MemoryStateServer();
  });
  describeStateStoreContract(() => ({
    connect: async () => server.connect(),
    expire: async (store: StateStore) => server.expireSession(store as MemoryStateStore),
  }));
});

describe('MemoryStateServer fault controls', () => {
  let server: MemoryStateServer;
  beforeEach(() => {
    server = new MemoryStateServer();
  });

  test('watch callbacks run asynchronously, after the mutating call returns', async () => {
    const s = server.connect();
    await s.create('/a', bytes('0'));
    const w = recorder();
    await s.get('/a', w.watcher);
    const pending = s.set('/a', bytes('1'));
    expect(w.events).toEqual([]);
    await pending;
    expect(await w.next()).toEqual({ type: 'dataChanged', path: '/a' });
    await s.close();
  });

  test('a watch event is delivered before a later read on the same session resolves', async () => {
    const watcherSide = server.connect();
    const writer = server.connect();
    await writer.create('/a', bytes('0'));
    const w = recorder();
    await watcherSide.get('/a', w.watcher);
    await writer.set('/a', bytes('1'));
    await watcherSide.get('/a');
    expect(w.events).toEqual([{ type: 'dataChanged', path: '/a' }]);
    await Promise.all([watcherSide.close(), writer.close()]);
  });

  test('a disconnected session fails calls fast with ERR_STATE_STORE and holds its watch events', async () => {
    const s = server.connect();
    const writer = server.connect();
    await s.create('/a', bytes('0'), { ephemeral: true });
    const w = recorder();
    await s.get('/a', w.watcher);
    const log = connectionLog(s);
    server.disconnectSession(s);
    await log.waitFor('disconnected');
    await rejectsWithCode(s.get('/a'), 'ERR_STATE_STORE');
    await rejectsWithCode(s.put('/b', bytes('x')), 'ERR_STATE_STORE');
    await writer.set('/a', bytes('1'));
    // The session is still alive: its ephemeral stays.
    expect(await writer.exists('/a')).toBe(true);
    expect(w.events).toEqual([]);
    server.reconnectSession(s);
    expect(await w.next()).toEqual({ type: 'dataChanged', path: '/a' });
    expect(log.states).toEqual(['disconnected', 'reconnected']);
    expect(text((await s.get('/a'))?.data)).toBe('1');
    await Promise.all([s.close(), writer.close()]);
  });

  test('expiry while disconnected: ephemerals go now, renewal happens on reconnect', async () => {
    const s = server.connect();
    const other = server.connect();
    await s.putEphemeral('/sup/one', bytes('me'));
    const log = connectionLog(s);
    server.disconnectSession(s);
    server.expireSession(s);
    expect(await other.exists('/sup/one')).toBe(false);
    server.reconnectSession(s);
    await log.waitFor('reconnected', 'expired');
    expect(log.states).toEqual(['disconnected', 'expired', 'reconnected']);
    expect(text((await other.get('/sup/one'))?.data)).toBe('me');
    await Promise.all([s.close(), other.close()]);
  });

  test("renewal drops an ephemeral another session took meanwhile", async () => {
    const s = server.connect();
    const other = server.connect();
    await s.putEphemeral('/nimbus', bytes('first'));
    server.disconnectSession(s);
    server.expireSession(s);
    await other.putEphemeral('/nimbus', bytes('second'));
    const log = connectionLog(s);
    server.reconnectSession(s);
    await log.waitFor('reconnected', 'expired');
    expect(text((await other.get('/nimbus'))?.data)).toBe('second');
    await s.close();
    expect(await other.exists('/nimbus')).toBe(true);
    await other.close();
  });

  test('sessionCount follows connect and close; foreign stores are refused', async () => {
    const s = server.connect();
    expect(server.sessionCount()).toBe(1);
    await s.close();
    expect(server.sessionCount()).toBe(0);
    const elsewhere = new MemoryStateServer().connect();
    expect(() => server.expireSession(elsewhere)).toThrow(expect.objectContaining({ code: 'ERR_STATE_STORE' }));
    await elsewhere.close();
  });

  test('returned data is a copy: mutating it does not change the tree', async () => {
    const s = server.connect();
    const data = bytes('abc');
    await s.create('/a', data);
    data[0] = 0;
    const read = await s.get('/a');
    (read?.data as Uint8Array)[1] = 0;
    expect(text((await s.get('/a'))?.data)).toBe('abc');
    await s.close();
  });
});
