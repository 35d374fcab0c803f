/**
 * Nimbus's REST API over a real socket (127.0.0.1, port 0) with fetch; cluster state in memory,
 * time on a manual clock, bundles checked by a fake probe.
 */
import * as fs from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { ManualClock } from '../../../common/clock';
import { ClusterState } from '../../../common/cluster-state/cluster-state';
import { MemoryStateServer, type MemoryStateStore } from '../../../common/cluster-state/memory-store';
import { resolveDaemonConfig } from '../../../common/config';
import { createLogger, silentLogger } from '../../../common/logging';
import { startNimbus, type RunningNimbus } from '../../../nimbus/main';
import { buildNimbusApp, type NimbusApi } from '../../../nimbus/rest';
import { FakeProbe, fakeBundle, WALL_ORIGIN_MS } from '../../unit/nimbus/harness';
import { parseExposition, sumOf } from '../../helpers/prometheus-parser';
import { signReport } from '../../../common/protocol/heartbeats';
import { HttpHeartbeatSink } from '../../../supervisor/heartbeat-sink';

const TOKEN = 'test-token-123';
const REQUEST_MAX = 1024;
const BUNDLE_MAX = 4096;

interface Cluster {
  nimbus: RunningNimbus;
  url: string;
  clock: ManualClock;
  peer: ClusterState;
  close(): Promise<void>;
}

async function startCluster(config: Record<string, unknown> = {}): Promise<Cluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-rest-'));
  const server = new MemoryStateServer();
  const sessions: MemoryStateStore[] = [server.connect(), server.connect(), server.connect()];
  const [nimbusStore, peerStore, supervisorStore] = sessions;
  const clock = new ManualClock(0, WALL_ORIGIN_MS);
  await new ClusterState(supervisorStore).registerSupervisor({ v: 1, id: 's1', host: 's1.example', ports: [6700, 6701], usedPorts: [], startTimeMs: WALL_ORIGIN_MS, timeMs: WALL_ORIGIN_MS + 5000, version: '0.1.0' });
  const nimbus = await startNimbus(
    { 'storm.local.dir': dir, 'nimbus.port': 0, 'nimbus.request.max.bytes': REQUEST_MAX, 'nimbus.bundle.max.bytes': BUNDLE_MAX, ...config },
    { clusterState: new ClusterState(nimbusStore), clock, probe: new FakeProbe(), logger: silentLogger() },
  );
  return {
    nimbus,
    url: `${nimbus.url}/api/v1`,
    clock,
    peer: new ClusterState(peerStore),
    async close() {
      await nimbus.close();
      for (const s of sessions) await s.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function json(res: Response): Promise<Record<string, unknown>> {
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  return (await res.json()) as Record<string, unknown>;
}

async function expectError(res: Response | Promise<Response>, status: number, code: string): Promise<Record<string, unknown>> {
  const r = await res;
  const body = await json(r);
  expect({ status: r.status, code: body.code }).toEqual({ status, code });
  expect(typeof body.error).toBe('string');
  return body;
}

function submit(c: Cluster, name: string, bundle: Uint8Array = fakeBundle(), opts: { config?: unknown; token?: string; type?: string } = {}): Promise<Response> {
  const q = new URLSearchParams({ name });
  if (opts.config !== undefined) q.set('config', typeof opts.config === 'string' ? opts.config : JSON.stringify(opts.config));
  const headers: Record<string, string> = { 'Content-Type': opts.type ?? 'application/javascript' };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  return fetch(`${c.url}/topologies?${q}`, { method: 'POST', headers, body: bundle });
}

function post(url: string, body?: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers }, body });
}

/** A raw request, for bodies fetch will not send (chunked past the cap). */
function rawRequest(url: string, method: string, headers: Record<string, string>, chunks: Buffer[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

describe('Nimbus REST API', () => {
  let c: Cluster;
  afterEach(async () => {
    await c.close();
  });

  describe('without a token', () => {
    beforeEach(async () => {
      c = await startCluster();
    });

    test('GET cluster/summary, supervisor/summary, nimbus/summary', async () => {
      await submit(c, 'wc');
      const summary = await json(await fetch(`${c.url}/cluster/summary`));
      expect(summary).toEqual({
        squallVersion: expect.any(String),
        nimbusUptime: '0s',
        nimbusUptimeSeconds: 0,
        supervisors: 1,
        topologies: 1,
        slotsTotal: 2,
        slotsUsed: 1,
        slotsFree: 1,
        executorsTotal: 5,
        tasksTotal: 7,
      });
      expect(await json(await fetch(`${c.url}/supervisor/summary`))).toEqual({
        supervisors: [{ id: 's1', host: 's1.example', uptime: '5s', uptimeSeconds: 5, slotsTotal: 2, slotsUsed: 1, slotsFree: 1, usedPorts: [6700], version: '0.1.0' }],
      });
      expect(await json(await fetch(`${c.url}/nimbus/summary`))).toEqual({
        nimbuses: [{ host: '127.0.0.1', port: c.nimbus.port, status: 'Leader', nimbusUpTime: '0s', nimbusUpTimeSeconds: 0, version: expect.any(String) }],
      });
    });

    test('GET cluster/configuration', async () => {
      const conf = await json(await fetch(`${c.url}/cluster/configuration`));
      expect(conf).toMatchObject({ 'nimbus.port': 0, 'nimbus.auth.token': null, 'nimbus.request.max.bytes': REQUEST_MAX });
    });

    test('POST topologies → 201, then the topology pages', async () => {
      const res = await submit(c, 'wc', fakeBundle(), { config: { 'topology.workers': 2 } });
      expect(res.status).toBe(201);
      const result = await json(res);
      expect(result).toEqual({ id: `wc-1-${WALL_ORIGIN_MS / 1000}`, name: 'wc', status: 'ACTIVE', bundleHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
      const id = result.id as string;

      const list = await json(await fetch(`${c.url}/topology/summary`));
      expect(list).toEqual({
        topologies: [
          {
            id,
            encodedId: id,
            name: 'wc',
            status: 'ACTIVE',
            uptime: '0s',
            uptimeSeconds: 0,
            tasksTotal: 8,
            workersTotal: 2,
            executorsTotal: 6,
            owner: 'anonymous',
            schedulerDisplayResource: 'workers not heartbeating: 2 of 2',
          },
        ],
      });
      const page = await json(await fetch(`${c.url}/topology/${encodeURIComponent(id)}`));
      expect(page).toMatchObject({ id, name: 'wc', status: 'ACTIVE', workersTotal: 2, msgTimeout: 30, bundleHash: result.bundleHash, workerErrors: [] });
      expect((page.spouts as unknown[]).length).toBe(1);
      expect((page.bolts as Array<{ boltId: string }>).map((b) => b.boltId)).toEqual(['count']);
      expect(((await json(await fetch(`${c.url}/topology/wc?sys=true`))).bolts as Array<{ boltId: string }>).map((b) => b.boltId)).toEqual(['count', '__acker']);
      const comp = await json(await fetch(`${c.url}/topology/wc/component/words`));
      expect(comp).toMatchObject({ id: 'words', componentType: 'spout', executors: 2, tasks: 2, topologyId: id });
      expect((comp.executorStats as Array<{ id: string; host: string }>).map((e) => [e.id, e.host])).toEqual([
        ['[7-7]', 's1.example'],
        ['[8-8]', 's1.example'],
      ]);
      expect(await json(await fetch(`${c.url}/topology/wc/visualization`))).toEqual({
        rateWindowSecs: 0,
        components: {
          words: { type: 'spout', parallelism: 2, inputs: [], emittedPerSec: 0, streams: { default: 0 }, capacity: '0.000', latency: '0.000' },
          count: {
            type: 'bolt',
            parallelism: 2,
            inputs: [{ component: 'words', stream: 'default', grouping: 'fields', tuplesPerSec: 0 }],
            emittedPerSec: 0,
            streams: { default: 0 },
            capacity: '0.000',
            latency: '0.000',
          },
        },
      });
      expect(await json(await fetch(`${c.url}/topology/wc?window=600`))).toMatchObject({ window: '600', windowPretty: '10m 0s' });
      expect(await json(await fetch(`${c.url}/topology/wc/component/count?window=86400`))).toMatchObject({ window: '86400', windowPretty: '1d 0h 0m 0s', boltStats: expect.any(Array) });
      await expectError(fetch(`${c.url}/topology/wc?window=60`), 400, 'ERR_BODY_INVALID');
      const metrics = await fetch(`${c.nimbus.url}/metrics`);
      expect([metrics.status, metrics.headers.get('content-type')]).toEqual([200, 'text/plain; version=0.0.4; charset=utf-8']);
      expect(sumOf(parseExposition(await metrics.text()), 'squall_topologies')).toBe(1);
      await expectError(fetch(`${c.nimbus.url}/metrics`, { method: 'POST' }), 405, 'ERR_METHOD_NOT_ALLOWED');
    });

    test('POST activate, deactivate, rebalance/:wait, kill/:wait', async () => {
      const { id } = (await json(await submit(c, 'wc'))) as { id: string };
      expect(await json(await post(`${c.url}/topology/${id}/deactivate`))).toEqual({ topologyOperation: 'deactivate', topologyId: id, status: 'success' });
      expect(await json(await post(`${c.url}/topology/wc/activate`))).toEqual({ topologyOperation: 'activate', topologyId: id, status: 'success' });
      const rebalance = await post(`${c.url}/topology/wc/rebalance/5`, JSON.stringify({ rebalanceOptions: { numWorkers: 2, executors: { count: 4 } } }));
      expect(await json(rebalance)).toEqual({ topologyOperation: 'rebalance', topologyId: id, status: 'success' });
      expect((await c.peer.getTopology(id))!.pending).toMatchObject({ action: 'rebalance', numWorkers: 2, componentExecutors: { count: 4 } });
      await expectError(post(`${c.url}/topology/wc/activate`), 409, 'ERR_INVALID_TRANSITION');
      c.clock.advance(5000);
      await c.nimbus.nimbus.idle();
      expect((await c.peer.getTopology(id))!.numWorkers).toBe(2);
      expect(await json(await post(`${c.url}/topology/wc/kill/0`))).toEqual({ topologyOperation: 'kill', topologyId: id, status: 'success' });
      expect(await c.peer.getTopology(id)).toBeNull();
      await expectError(fetch(`${c.url}/topology/${id}`), 404, 'ERR_TOPOLOGY_NOT_FOUND');
    });

    test('rebalance without a body, and with an empty JSON object', async () => {
      await submit(c, 'wc');
      expect((await post(`${c.url}/topology/wc/rebalance/0`)).status).toBe(200);
      expect((await post(`${c.url}/topology/wc/rebalance/0`, '{}')).status).toBe(200);
    });

    test('GET bundles/:hash streams the bundle (open without a token)', async () => {
      const { bundleHash } = (await json(await submit(c, 'wc'))) as { bundleHash: string };
      const res = await fetch(`${c.url}/bundles/${bundleHash}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/javascript; charset=utf-8');
      expect(res.headers.get('content-length')).toBe(String(fakeBundle().length));
      expect(Buffer.from(await res.arrayBuffer())).toEqual(fakeBundle());
      await expectError(fetch(`${c.url}/bundles/${'0'.repeat(64)}`), 404, 'ERR_BUNDLE_NOT_FOUND');
      await expectError(fetch(`${c.url}/bundles/..%2F..%2Fetc`), 404, 'ERR_BUNDLE_NOT_FOUND');
    });

    test('unknown ids, components and routes', async () => {
      await submit(c, 'wc');
      await expectError(fetch(`${c.url}/topology/nope`), 404, 'ERR_TOPOLOGY_NOT_FOUND');
      await expectError(post(`${c.url}/topology/nope/kill/0`), 404, 'ERR_TOPOLOGY_NOT_FOUND');
      await expectError(fetch(`${c.url}/topology/wc/component/nope`), 404, 'ERR_COMPONENT_NOT_FOUND');
      await expectError(fetch(`${c.url}/nope`), 404, 'ERR_ROUTE_NOT_FOUND');
      await expectError(fetch(`${c.url}/cluster/summary/`), 404, 'ERR_ROUTE_NOT_FOUND');
      await expectError(fetch(`${c.nimbus.url}/index.htm`), 404, 'ERR_ROUTE_NOT_FOUND');
      await expectError(fetch(`${c.nimbus.url}/assets/nope.js`), 404, 'ERR_ROUTE_NOT_FOUND');
      await expectError(fetch(`${c.nimbus.url}/api/v2/cluster/summary`), 404, 'ERR_ROUTE_NOT_FOUND');
      await expectError(fetch(`${c.url}/topology/%E0%A4%A`), 404, 'ERR_ROUTE_NOT_FOUND');
    });

    test('wrong methods are 405 with Allow', async () => {
      const del = await fetch(`${c.url}/cluster/summary`, { method: 'DELETE' });
      await expectError(del, 405, 'ERR_METHOD_NOT_ALLOWED');
      expect(del.headers.get('allow')).toBe('GET');
      const get = await fetch(`${c.url}/topology/wc/kill/3`);
      await expectError(get, 405, 'ERR_METHOD_NOT_ALLOWED');
      expect(get.headers.get('allow')).toBe('POST');
      await expectError(post(`${c.url}/cluster/summary`, '{}'), 405, 'ERR_METHOD_NOT_ALLOWED');
    });

    test('malformed and oversized JSON bodies, wrong content types, bad waits', async () => {
      await submit(c, 'wc');
      await expectError(post(`${c.url}/topology/wc/rebalance/1`, '{"rebalanceOptions": '), 400, 'ERR_BODY_INVALID');
      await expectError(post(`${c.url}/topology/wc/rebalance/1`, '[1]'), 400, 'ERR_BODY_INVALID');
      await expectError(post(`${c.url}/topology/wc/rebalance/1`, '{"rebalanceOptions": {"numWorkers": "2"}}'), 400, 'ERR_BODY_INVALID');
      await expectError(post(`${c.url}/topology/wc/rebalance/1`, '{"rebalanceOptions": {"executors": {"count": "x"}}}'), 400, 'ERR_BODY_INVALID');
      await expectError(post(`${c.url}/topology/wc/rebalance/1`, '{"rebalanceOptions": {"executors": {"nope": 1}}}'), 404, 'ERR_COMPONENT_NOT_FOUND');
      const bad = await expectError(post(`${c.url}/topology/wc/rebalance/1`, '{"rebalanceOptions": {"numWorkers": 0, "executors": {"count": 9}}}'), 400, 'ERR_CONFIG_INVALID');
      expect(bad.problems).toHaveLength(2);
      await expectError(post(`${c.url}/topology/wc/rebalance/1`, '{}', { 'Content-Type': 'text/plain' }), 415, 'ERR_UNSUPPORTED_MEDIA_TYPE');
      await expectError(post(`${c.url}/topology/wc/rebalance/1`, JSON.stringify({ pad: 'x'.repeat(REQUEST_MAX) })), 413, 'ERR_BODY_TOO_LARGE');
      await expectError(post(`${c.url}/topology/wc/kill/soon`), 400, 'ERR_BODY_INVALID');
      await expectError(post(`${c.url}/topology/wc/kill/-1`), 400, 'ERR_BODY_INVALID');
      await expectError(post(`${c.url}/topology/wc/kill/99999999999`), 400, 'ERR_BODY_INVALID');
      // Nothing above changed the topology.
      expect((await json(await fetch(`${c.url}/topology/wc`))).status).toBe('ACTIVE');
    });

    test('a JSON body growing past the cap without Content-Length is cut off with 413', async () => {
      await submit(c, 'wc');
      const res = await rawRequest(`${c.url}/topology/wc/rebalance/1`, 'POST', { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }, [Buffer.alloc(600, 32), Buffer.alloc(600, 32)]);
      expect(res.status).toBe(413);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'ERR_BODY_TOO_LARGE' });
    });

    test('submission errors', async () => {
      await expectError(submit(c, 'wc', fakeBundle(), { type: 'application/json' }), 415, 'ERR_UNSUPPORTED_MEDIA_TYPE');
      await expectError(fetch(`${c.url}/topologies?name=wc`, { method: 'POST', body: fakeBundle() }), 415, 'ERR_UNSUPPORTED_MEDIA_TYPE');
      await expectError(fetch(`${c.url}/topologies`, { method: 'POST', headers: { 'Content-Type': 'application/javascript' }, body: fakeBundle() }), 400, 'ERR_BODY_INVALID');
      await expectError(submit(c, 'wc', fakeBundle(), { config: '{"topology.workers":' }), 400, 'ERR_CONFIG_INVALID');
      await expectError(submit(c, 'wc', fakeBundle(), { config: '[1]' }), 400, 'ERR_CONFIG_INVALID');
      const conf = await expectError(submit(c, 'wc', fakeBundle(), { config: { 'topology.workers': 0, 'topology.acker.executors': 'x' } }), 400, 'ERR_CONFIG_INVALID');
      expect(conf.problems).toHaveLength(2);
      await expectError(submit(c, 'a/b'), 400, 'ERR_TOPOLOGY_INVALID');
      await expectError(submit(c, 'wc', new Uint8Array(0)), 400, 'ERR_BUNDLE_INVALID');
      await expectError(submit(c, 'wc', Buffer.alloc(BUNDLE_MAX + 1, 32)), 413, 'ERR_BUNDLE_TOO_LARGE');
      // Far over the cap: answered from the declared length, the body is never read.
      await expectError(submit(c, 'wc', Buffer.alloc(8 << 20, 32)), 413, 'ERR_BUNDLE_TOO_LARGE');
      const invalid = await expectError(submit(c, 'wc', fakeBundle({ fail: { code: 'ERR_BUNDLE_INVALID', reason: 'threw while loading: boom' } })), 400, 'ERR_BUNDLE_INVALID');
      expect(invalid.error).toBe('Invalid bundle: threw while loading: boom');
      expect((await submit(c, 'wc', fakeBundle(), { type: 'application/octet-stream' })).status).toBe(201);
      await expectError(submit(c, 'wc'), 409, 'ERR_TOPOLOGY_EXISTS');
    });

    test('a bundle streaming past the cap without Content-Length is cut off with 413', async () => {
      const res = await rawRequest(`${c.url}/topologies?name=big`, 'POST', { 'Content-Type': 'application/javascript', 'Transfer-Encoding': 'chunked' }, [Buffer.alloc(3000, 32), Buffer.alloc(3000, 32)]);
      expect(res.status).toBe(413);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'ERR_BUNDLE_TOO_LARGE' });
      expect((await json(await fetch(`${c.url}/topology/summary`))).topologies).toEqual([]);
    });

    test('garbage requests get answers, never a crash', async () => {
      const garbage = await new Promise<string>((resolve, reject) => {
        const sock = connect(c.nimbus.port, '127.0.0.1', () => sock.write('NOT HTTP AT ALL\r\n\r\n'));
        let out = '';
        sock.on('data', (d) => (out += d.toString()));
        sock.on('end', () => resolve(out));
        sock.on('error', reject);
      });
      expect(garbage).toMatch(/^HTTP\/1\.1 400/);
      expect((await fetch(`${c.url}/cluster/summary`)).status).toBe(200);
    });
  });

  describe('with nimbus.auth.token', () => {
    beforeEach(async () => {
      c = await startCluster({ 'nimbus.auth.token': TOKEN });
    });

    test('POSTs need the token; summaries stay open; configuration redacts it', async () => {
      const missing = await submit(c, 'wc');
      await expectError(missing, 401, 'ERR_UNAUTHORIZED');
      expect(missing.headers.get('www-authenticate')).toBe('Bearer');
      await expectError(submit(c, 'wc', fakeBundle(), { token: 'wrong' }), 401, 'ERR_UNAUTHORIZED');
      await expectError(submit(c, 'wc', fakeBundle(), { token: `${TOKEN}x` }), 401, 'ERR_UNAUTHORIZED');
      const ok = await submit(c, 'wc', fakeBundle(), { token: TOKEN });
      expect(ok.status).toBe(201);
      await expectError(post(`${c.url}/topology/wc/kill/0`), 401, 'ERR_UNAUTHORIZED');
      await expectError(post(`${c.url}/topology/wc/kill/0`, undefined, { Authorization: 'Basic abc' }), 401, 'ERR_UNAUTHORIZED');
      expect((await fetch(`${c.url}/topology/summary`)).status).toBe(200);
      expect((await fetch(`${c.url}/topology/wc`)).status).toBe(200);
      expect((await json(await fetch(`${c.url}/cluster/configuration`)))['nimbus.auth.token']).toBe('<redacted>');
      expect((await post(`${c.url}/topology/wc/kill/0`, undefined, { Authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    });

    test('bundle downloads need the token', async () => {
      const { bundleHash } = (await json(await submit(c, 'wc', fakeBundle(), { token: TOKEN }))) as { bundleHash: string };
      await expectError(fetch(`${c.url}/bundles/${bundleHash}`), 401, 'ERR_UNAUTHORIZED');
      const res = await fetch(`${c.url}/bundles/${bundleHash}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer())).toEqual(fakeBundle());
    });

    test('heartbeats need the token and a report signed with the topology secret', async () => {
      const { id } = (await json(await submit(c, 'wc', fakeBundle(), { token: TOKEN }))) as { id: string };
      const report = { topologyId: id, node: 's1', port: 6700, pid: 7, incarnation: 'run-1', timeMs: 1, uptimeSecs: 1, rssBytes: 1, executors: [] };
      const batch = (secret: string, node = 's1') => ({ v: 1 as const, supervisorId: 's1', reports: [signReport({ ...report, node }, secret)] });
      const good = new HttpHeartbeatSink(c.nimbus.url, TOKEN);
      await expect(new HttpHeartbeatSink(c.nimbus.url, null).send(batch('ab'.repeat(32)))).rejects.toMatchObject({ code: 'ERR_UNAUTHORIZED' });
      // The fake Nimbus of these tests draws real link secrets: a guessed one does not verify.
      expect(await good.send(batch('ab'.repeat(32)))).toEqual({ accepted: 0, rejected: 1 });
      const secret = c.nimbus.nimbus.getTopology(id).linkSecret;
      expect(await good.send(batch(secret))).toEqual({ accepted: 1, rejected: 0 });
      expect(await good.send(batch(secret, 's2'))).toEqual({ accepted: 0, rejected: 1 });
      await expectError(post(`${c.url}/supervisors/s1/heartbeats`, JSON.stringify({ v: 1, supervisorId: 's2', reports: [] }), { Authorization: `Bearer ${TOKEN}` }), 400, 'ERR_BODY_INVALID');
    });

    test('an unauthorized upload is refused before its body is read', async () => {
      const res = await rawRequest(`${c.url}/topologies?name=wc`, 'POST', { 'Content-Type': 'application/javascript', 'Transfer-Encoding': 'chunked' }, [Buffer.alloc(100, 32)]);
      expect(res.status).toBe(401);
    });
  });
});

describe('buildNimbusApp', () => {
  let server: Server | null = null;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = null;
  });

  test('an unexpected exception is a logged 500 ERR_INTERNAL, with no detail leaked', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'error', destination: new Writable({ write: (chunk, _e, cb) => (lines.push(String(chunk)), cb()) }) });
    const nimbus = {
      clusterSummary: async () => {
        throw new Error('secret internals');
      },
    } as unknown as NimbusApi;
    server = createServer(buildNimbusApp({ nimbus, config: resolveDaemonConfig({}), logger, clock: new ManualClock() }));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/cluster/summary`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'Internal error', code: 'ERR_INTERNAL' });
    expect(lines.join('')).toContain('secret internals');
  });
});

describe('startNimbus', () => {
  test('refuses to listen beyond loopback without a token', async () => {
    await expect(startNimbus({ 'nimbus.bind.host': '0.0.0.0', 'nimbus.port': 0 }, { logger: silentLogger() })).rejects.toMatchObject({ code: 'ERR_INSECURE_LISTEN' });
  });

  test('refuses to start without ZooKeeper unless given cluster state', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-rest-'));
    try {
      await expect(startNimbus({ 'nimbus.port': 0, 'storm.local.dir': dir }, { logger: silentLogger() })).rejects.toMatchObject({ code: 'ERR_CONFIG_INVALID' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('refuses an invalid daemon config, listing every problem', async () => {
    await expect(startNimbus({ 'nimbus.port': -1, 'nimbus.bogus': 1 }, { logger: silentLogger() })).rejects.toMatchObject({ code: 'ERR_CONFIG_INVALID', problems: expect.arrayContaining([expect.stringContaining('nimbus.port')]) });
  });

  test('close is idempotent and frees the port', async () => {
    const c = await startCluster();
    const port = c.nimbus.port;
    await c.close();
    await c.nimbus.close();
    await expect(fetch(`http://127.0.0.1:${port}/api/v1/cluster/summary`)).rejects.toThrow();
  });
});
