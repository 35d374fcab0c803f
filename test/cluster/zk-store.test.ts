/**
 * ZkStateStore against a real ZooKeeper (one throwaway server for the file, tickTime 500 ms,
 * 2 s sessions): the shared StateStore contract, then the faults only a real server has.
 * Needs scripts/ensure-packages.sh to have run.
 */
import { ZkStateStore, type ZkStateStoreOptions } from '../../common/cluster-state/zk-store';
import { createLogger } from '../../common/logging';
import type { StateStore } from '../../common/cluster-state/store';
import { bytes, connectionLog, describeStateStoreContract, recorder, rejectsWithCode, text, within } from '../helpers/state-store-contract';
import { expireZkSession, freePort, startZooKeeper, zookeeperAvailable, type ZooKeeperServer } from '../helpers/zookeeper';

if (!zookeeperAvailable()) {
  test('ZooKeeper is installed', () => {
    throw new Error('ZooKeeper (or java) is missing: run scripts/ensure-packages.sh');
  });
} else {
  describe('ZkStateStore', () => {
    let zk: ZooKeeperServer;
    const extra: StateStore[] = [];

    beforeAll(async () => {
      zk = await startZooKeeper();
    });

    afterEach(async () => {
      await Promise.all(extra.splice(0).map((s) => s.close()));
    });

    afterAll(async () => {
      await zk?.stop();
    });

    const options = (overrides: Partial<ZkStateStoreOptions> = {}): ZkStateStoreOptions => ({
      connectString: zk.connectString,
      sessionTimeoutMs: 2_000,
      connectTimeoutMs: 5_000,
      operationTimeoutMs: 3_000,
      spinDelayMs: 100,
      reconnectBackoffInitialMs: 50,
      reconnectBackoffMaxMs: 500,
      // Silent under jest unless LOG_LEVEL is set.
      logger: createLogger({ name: 'zk-store-test' }),
      ...overrides,
    });

    const open = async (overrides: Partial<ZkStateStoreOptions> = {}): Promise<ZkStateStore> => {
      const store = await ZkStateStore.connect(options(overrides));
      extra.push(store);
      return store;
    };

    const expire = async (store: StateStore): Promise<void> => {
      const session = (store as ZkStateStore).sessionInfo();
      if (!session) throw new Error('cannot expire a store that is not connected');
      await expireZkSession(zk.connectString, session);
    };

    describe('the StateStore contract', () => {
      describeStateStoreContract(() => ({ connect: () => ZkStateStore.connect(options()), expire }));
    });

    describe('connection', () => {
      test('the negotiated session timeout is the one asked for', async () => {
        const store = await open();
        expect(store.sessionInfo()?.timeoutMs).toBe(2_000);
      });

      test('no server: connect fails with ERR_STATE_STORE within connectTimeoutMs', async () => {
        const port = await freePort();
        const started = Date.now();
        const err = await rejectsWithCode(ZkStateStore.connect(options({ connectString: `127.0.0.1:${port}`, connectTimeoutMs: 300 })), 'ERR_STATE_STORE');
        expect(err.message).toContain(`127.0.0.1:${port}`);
        expect(Date.now() - started).toBeLessThan(2_000);
      });

      test('bad options are all listed in one ERR_CONFIG_INVALID', async () => {
        const err = await rejectsWithCode(
          ZkStateStore.connect({ connectString: '127.0.0.1:2181/chroot', sessionTimeoutMs: 0, operationTimeoutMs: 1.5 }),
          'ERR_CONFIG_INVALID',
        );
        expect((err as Error & { problems: string[] }).problems).toHaveLength(3);
      });

      test('error codes the library does not know (ZooKeeper 3.5+) become errors instead of a throw in its socket handler', () => {
        // Loaded by zk-store.ts already (same module instance), which made it tolerant.
        const { Exception } = require('node-zookeeper-client') as { Exception: { create(code: number, path?: string): Error & { code: number } } };
        for (const code of [-12, -118, -127]) {
          const err = Exception.create(code, '/p');
          expect(err.code).toBe(code);
          expect(err.message).toContain(String(code));
        }
        expect(Exception.create(-101).name).toBe('NO_NODE');
      });

      test('expiry opens a new session (new id), and calls work again after reconnected', async () => {
        const store = await open();
        const before = store.sessionInfo()?.id.toString('hex');
        const log = connectionLog(store);
        await expire(store);
        await log.waitFor('reconnected', 'expired');
        expect(store.sessionInfo()?.id.toString('hex')).not.toBe(before);
        await store.put('/zk-only/after-expiry', bytes('ok'));
        expect(text((await store.get('/zk-only/after-expiry'))?.data)).toBe('ok');
      });
    });

    describe('server faults', () => {
      test('server restart: calls fail fast while down; the same session comes back with its ephemerals and watches', async () => {
        const store = await open();
        const observer = await open();
        await store.create('/zk-restart/eph', bytes('mine'), { ephemeral: true });
        await store.put('/zk-restart/data', bytes('0'));
        const watch = recorder('watch armed before the restart');
        await store.get('/zk-restart/data', watch.watcher);
        const session = store.sessionInfo()?.id.toString('hex');
        const log = connectionLog(store);
        const observerLog = connectionLog(observer);

        const restarting = zk.restart();
        await log.waitFor('disconnected');
        // The new JVM cannot be up before the old one has exited: we are disconnected now.
        await rejectsWithCode(store.get('/zk-restart/data'), 'ERR_STATE_STORE');
        await restarting;
        await log.waitFor('reconnected');
        expect(log.states).toEqual(['disconnected', 'reconnected']);
        expect(store.sessionInfo()?.id.toString('hex')).toBe(session);

        await observerLog.waitFor('reconnected');
        expect(text((await observer.get('/zk-restart/eph'))?.data)).toBe('mine');
        await observer.set('/zk-restart/data', bytes('1'));
        expect(await watch.next()).toEqual({ type: 'dataChanged', path: '/zk-restart/data' });
      });

      test('a hung server: a call fails with ERR_STATE_STORE after operationTimeoutMs, then the store works again', async () => {
        const store = await open({ operationTimeoutMs: 300 });
        await store.put('/zk-hung/a', bytes('0'));
        await zk.pause();
        const started = Date.now();
        try {
          const err = await rejectsWithCode(store.get('/zk-hung/a'), 'ERR_STATE_STORE');
          expect(err.message).toContain('within 300 ms');
        } finally {
          zk.resume();
        }
        // it failed by its own timeout (a hang would end in the test's), not before it
        expect(Date.now() - started).toBeGreaterThanOrEqual(290);
        expect(text((await store.get('/zk-hung/a'))?.data)).toBe('0');
      });

      test('a server silent for 2/3 of the session timeout is reported disconnected; the store comes back when it thaws', async () => {
        const store = await open({ sessionTimeoutMs: 1_000 });
        await store.put('/zk-silent/a', bytes('0'));
        const log = connectionLog(store);
        await zk.pause();
        try {
          // A 1 s session: no bytes for 667 ms means the connection is dropped.
          await log.waitFor('disconnected');
          await rejectsWithCode(store.get('/zk-silent/a'), 'ERR_STATE_STORE');
        } finally {
          zk.resume();
        }
        // Usually the same session; if the server expired it meanwhile, after a renewal.
        await log.waitFor('reconnected', 'disconnected');
        expect(text((await store.get('/zk-silent/a'))?.data)).toBe('0');
      });

      test('close() while the server is dead returns within closeTimeoutMs', async () => {
        const store = await open({ closeTimeoutMs: 500 });
        const log = connectionLog(store);
        await zk.kill9();
        try {
          await log.waitFor('disconnected');
          const started = Date.now();
          await within(store.close(), 'close() with the server dead', 2_000);
          expect(Date.now() - started).toBeLessThan(1_000);
          await rejectsWithCode(store.get('/x'), 'ERR_CLOSED');
        } finally {
          await zk.restart();
        }
      });
    });
  });
}
