/**
 * The Redis state backend against a real redis-server (bench/servers): the provider contract,
 * and outages — Redis killed (-9) and restarted, and Redis frozen — in the middle of a run:
 * checkpoints fail with ERR_STATE_BACKEND while it is gone and succeed once it is back, and no
 * committed state or change is lost.
 */
import { errorCode } from '../../../topology-api';
import { startRedis, type RedisServer } from '../../../bench/servers/redis';
import { RedisBackend } from '../../../worker/state/redis-backend';
import { BackendStateProvider } from '../../../worker/state/provider';
import { contents, describeStateBackendContract, rejectsWithCode } from '../../helpers/state-backend-contract';
import { backstopMs } from '../../helpers/cluster-harness';

/** How long Redis may take to be reachable again after a restart (the client's backoff is capped at 2 s). */
const BACK_BOUND_MS = 20_000;
/** redis-server's readiness wait (bench/servers) after a start or restart. */
const REDIS_READY_MS = 15_000;
// a backstop behind a test's named waits: a restart and the backend back, twice
jest.setTimeout(backstopMs(2 * REDIS_READY_MS, 2 * BACK_BOUND_MS));

let redis: RedisServer;

beforeAll(async () => {
  // AOF with fsync on every write: what Redis acknowledged survives its kill -9
  redis = await startRedis({ persistent: true });
});

afterAll(async () => {
  await redis?.stop();
});

describeStateBackendContract('redis', () => ({ backend: () => new RedisBackend({ url: redis.url, keyPrefix: 'contract:' }) }));

describe('redis outages', () => {
  const providers: BackendStateProvider[] = [];
  const provider = (commandTimeoutMs = 1000): BackendStateProvider => {
    const p = new BackendStateProvider('redis', () => new RedisBackend({ url: redis.url, keyPrefix: 'outage:', commandTimeoutMs, connectTimeoutMs: 1000 }), 8);
    providers.push(p);
    return p;
  };
  afterEach(async () => {
    await Promise.all(providers.splice(0).map((p) => p.close()));
    if (!redis.running()) await redis.restart();
    redis.resume();
  });

  /**
   * Retries `attempt` until it stops failing with ERR_STATE_BACKEND (the client reconnects with
   * backoff capped at 2 s); bounded.
   */
  async function untilBackendIsBack<T>(what: string, attempt: () => Promise<T>, boundMs = BACK_BOUND_MS): Promise<{ value: T; failures: number }> {
    const deadline = performance.now() + boundMs;
    for (let failures = 0; ; failures++) {
      try {
        return { value: await attempt(), failures };
      } catch (err) {
        if (errorCode(err) !== 'ERR_STATE_BACKEND') throw err;
        if (performance.now() > deadline) throw new Error(`${what}: Redis still unreachable after ${boundMs} ms`, { cause: err });
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  it('Redis killed and restarted mid-run: checkpoints fail with ERR_STATE_BACKEND, then the next one saves every change', async () => {
    const ns = `kill-${Date.now()}`;
    const s = await provider().newState<string, number>(ns);
    for (let i = 0; i < 500; i++) s.put(`k${i}`, i);
    await s.prepareCommit(1);
    await s.commit(1);

    await redis.kill9();
    // the data plane goes on: the state is in memory
    for (let i = 0; i < 500; i++) s.put(`k${i}`, s.get(`k${i}`, 0) + 1000);
    s.delete('k0');
    await rejectsWithCode(s.prepareCommit(2), 'ERR_STATE_BACKEND');
    s.put('during', 1);
    await rejectsWithCode(s.prepareCommit(3), 'ERR_STATE_BACKEND');
    // opening a state fails the same way while Redis is gone
    await rejectsWithCode(provider().newState(`${ns}-other`), 'ERR_STATE_BACKEND');

    await redis.restart();
    // the first checkpoint after the outage stages every change since the last commit
    let txid = 3;
    const { failures } = await untilBackendIsBack('prepare after restart', () => s.prepareCommit(++txid));
    await s.commit(txid);
    expect(failures).toBeGreaterThanOrEqual(0);

    const reopened = await provider().newState<string, number>(ns);
    expect(reopened.checkpointStats().committedTxid).toBe(txid);
    expect(reopened.size).toBe(500);
    expect(reopened.get('k0')).toBeUndefined();
    expect(reopened.get('k1')).toBe(1001);
    expect(reopened.get('k499')).toBe(1499);
    expect(reopened.get('during')).toBe(1);
  });

  it('a commit decided before an outage is kept, cannot be rolled back, and completes once Redis is back', async () => {
    const ns = `decided-${Date.now()}`;
    const s = await provider().newState<string, string>(ns);
    s.put('a', 'committed');
    await s.prepareCommit(1);
    await s.commit(1);
    s.put('a', 'prepared');
    await s.prepareCommit(2);

    await redis.kill9();
    await rejectsWithCode(s.commit(2), 'ERR_STATE_BACKEND');
    await rejectsWithCode(s.rollback(), 'ERR_STATE_TXID');
    s.put('b', 'after');
    // a later checkpoint first completes the decided commit, which needs Redis
    await rejectsWithCode(s.prepareCommit(3), 'ERR_STATE_BACKEND');

    await redis.restart();
    await untilBackendIsBack('retried commit', () => s.commit(2));
    expect(s.checkpointStats().committedTxid).toBe(2);
    const r = await provider().newState<string, string>(ns);
    expect(contents(r)).toEqual([['a', 'prepared']]);
    await s.prepareCommit(4);
    await s.commit(4);
    expect(contents(await provider().newState<string, string>(ns))).toEqual([
      ['a', 'prepared'],
      ['b', 'after'],
    ]);
  });

  it('a frozen Redis fails a checkpoint within the command timeout, and the state lives on', async () => {
    const ns = `frozen-${Date.now()}`;
    const s = await provider(300).newState<string, number>(ns);
    s.put('a', 1);
    await s.prepareCommit(1);
    await s.commit(1);
    redis.pause();
    s.put('a', 2);
    await rejectsWithCode(s.prepareCommit(2), 'ERR_STATE_BACKEND');
    await s.rollback(); // a failed checkpoint may be rolled back: memory only, no Redis needed
    expect(s.get('a')).toBe(1);
    redis.resume();
    s.put('a', 3);
    await untilBackendIsBack('prepare after resume', () => s.prepareCommit(3));
    await s.commit(3);
    expect((await provider().newState<string, number>(ns)).get('a')).toBe(3);
  });
});
