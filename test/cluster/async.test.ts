/**
 * Async bolts over real worker processes: an async BaseBasicBolt doing HTTP lookups (fetch) in
 * two worker processes against a service in this process that answers after a few milliseconds and
 * refuses some numbers the first time. Every number must reach the sink with its answer (the
 * refused ones failed at once and replayed by the spout), the service must never see more
 * requests at once than the bolt's in-flight limit allows, and REST must show the in-flight counts.
 *
 * Needs the built CLI (node scripts/build.js) and ZooKeeper (scripts/ensure-packages.sh).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { backstopMs, Cluster, CLUSTER_START_BOUND_MS, CLUSTER_STOP_BOUND_MS, SUBMIT_BOUND_MS, waitFor } from '../helpers/cluster-harness';
import { sinkRecords, spoutAcked, spoutEvents, type SinkRecord } from '../helpers/cluster-output';
import { zookeeperAvailable } from '../helpers/zookeeper';

const ACKED_BOUND_MS = 60_000;
const REST_BOUND_MS = 30_000;
const MESSAGES = 600;
const LIMIT = 8;
const TASKS = 2;
/** Numbers the service refuses (503) the first time it is asked. */
const refusedOnce = (n: number): boolean => n % 50 === 7;

/** The lookup service: n → n², after `delayMs`; counts requests in flight. */
class Service {
  inflight = 0;
  maxInflight = 0;
  requests = 0;
  private readonly refused = new Set<number>();
  private readonly server: http.Server;
  constructor(private readonly delayMs: number) {
    this.server = http.createServer((req, res) => this.handle(req, res));
  }
  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.requests++;
    this.inflight++;
    this.maxInflight = Math.max(this.maxInflight, this.inflight);
    const n = Number(req.url!.slice(req.url!.lastIndexOf('/') + 1));
    setTimeout(() => {
      this.inflight--;
      if (refusedOnce(n) && !this.refused.has(n)) {
        this.refused.add(n);
        res.writeHead(503).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ square: n * n }));
    }, this.delayMs);
  }
  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/square/`;
  }
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

if (!zookeeperAvailable()) {
  test('ZooKeeper is installed', () => {
    throw new Error('ZooKeeper (or java) is missing: run scripts/ensure-packages.sh');
  });
} else {
  describe('async bolts across worker processes', () => {
    let cluster: Cluster;
    const service = new Service(3);

    beforeAll(async () => {
      cluster = await Cluster.start({ name: 'async', supervisors: 1, slotsPerSupervisor: 2 });
    }, backstopMs(CLUSTER_START_BOUND_MS));

    afterAll(async () => {
      await cluster?.stop();
      await service.close();
    }, backstopMs(CLUSTER_STOP_BOUND_MS));

    it(
      'replays what failed after an await, bounds the requests in flight, and shows them in REST',
      () =>
        cluster.run(async () => {
          const url = await service.listen();
          const id = await cluster.submit('async.ts', 'lookup', { 'topology.workers': 2, 'topology.bolt.max.inflight': LIMIT }, { 'test.input.count': MESSAGES, 'test.lookup.url': url });
          await cluster.waitForWorkersRunning(id, 2);
          const out = cluster.outputDirOf('lookup');
          await waitFor(`all ${MESSAGES} numbers acked`, () => new Set(spoutAcked(out, 'numbers')).size === MESSAGES, ACKED_BOUND_MS);

          // every number reached the sink with its answer; the refused ones were failed and replayed
          const records = sinkRecords<SinkRecord & { values: [number, number] }>(out, 'sink');
          const seen = new Map(records.map((r) => [r.values[0], r.values[1]]));
          expect(seen.size).toBe(MESSAGES);
          for (const [n, square] of seen) expect(square).toBe(n * n);
          const failed = [...spoutEvents(out, 'numbers').values()].flat().filter((e) => e.event === 'fail').map((e) => e.id as number);
          const refused = Array.from({ length: MESSAGES }, (_, n) => n).filter(refusedOnce);
          expect(new Set(failed)).toEqual(new Set(refused));
          expect(service.requests).toBe(MESSAGES + refused.length);
          // the service never saw more than the two tasks' limits at once, and did see concurrency
          expect(service.maxInflight).toBeLessThanOrEqual(LIMIT * TASKS);
          expect(service.maxInflight).toBeGreaterThan(1);

          // REST: everything settled, nothing timed out, the failures reported with the component.
          // Each worker's stats arrive by their own push, so wait until the lookup tasks' figures
          // include every number they acked too (the spout's worker may report before theirs does:
          // seen once on a busy machine, lookup still at failed 0 from an early push)
          const rest = await waitFor('REST to show every number acked by the spout and the lookup, and nothing in flight', async () => {
            const p = await cluster.topology('lookup');
            const lookup = p.bolts.find((b) => b.boltId === 'lookup')!;
            return p.spouts[0].acked === MESSAGES && lookup.acked === MESSAGES && lookup.inflight === 0 ? p : false;
          }, REST_BOUND_MS);
          expect(rest.bolts.find((b) => b.boltId === 'lookup')).toMatchObject({ asyncTimedOut: 0, failed: refused.length });
          expect(rest.bolts.find((b) => b.boltId === 'lookup')!.lastError).toMatch(/lookup of \d+ answered 503/);
        }),
      backstopMs(SUBMIT_BOUND_MS, ACKED_BOUND_MS, REST_BOUND_MS),
    );
  });
}
