import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { ManualClock } from '../../../common/clock';
import { BundleCache } from '../../../supervisor/bundle-cache';
import type { SlotState } from '../../../supervisor/slot';
import type { Supervisor } from '../../../supervisor/supervisor';
import { alive, HASH, SupervisorHarness, waitUntil } from './harness';

jest.setTimeout(30_000);

const slot = (s: Supervisor, port: number): SlotState => s.slotStates().find((x) => x.port === port) as SlotState;
const running = (s: Supervisor, port: number, launches?: number): SlotState | false => {
  const st = slot(s, port);
  return st.kind === 'RUNNING' && (launches === undefined || st.launches === launches) && st;
};
const pidOf = (st: SlotState): number => ('worker' in st && st.worker.pid) || 0;

describe('Supervisor with real worker processes (fake worker)', () => {
  let h: SupervisorHarness;

  beforeEach(() => {
    h = new SupervisorHarness();
  });

  afterEach(async () => {
    expect(await h.cleanup()).toEqual([]); // no worker outlived its supervisor
  });

  test('registers its node, and removes it on close', async () => {
    const sup = await h.start();
    expect(sup.id).toBe('sup-1');
    expect(await h.nimbus.getSupervisor('sup-1')).toMatchObject({ v: 1, id: 'sup-1', host: '127.0.0.1', ports: [6700, 6701], usedPorts: [] });
    await sup.close();
    expect(await h.nimbus.getSupervisor('sup-1')).toBeNull();
    await sup.close(); // idempotent
  });

  test('an assignment launches a worker that reports ready; its heartbeats land in /workerbeats', async () => {
    const sup = await h.start();
    await h.assign(h.record('wc-1'), [[1, 2, 6700]]);
    const st = await waitUntil('worker RUNNING on 6700', () => running(sup.supervisor, 6700));
    const pid = pidOf(st);
    expect(alive(pid)).toBe(true);
    expect(h.launcher.pids).toEqual([pid]);
    const beat = await waitUntil('a heartbeat in cluster state', async () => (await h.nimbus.getWorkerBeats('wc-1'))[0]);
    expect(beat).toMatchObject({ v: 1, topologyId: 'wc-1', node: 'sup-1', port: 6700, pid });
    const spec = h.launcher.specs[0];
    expect(spec).toMatchObject({ topologyId: 'wc-1', supervisorId: 'sup-1', host: '127.0.0.1', port: 6700, bundlePath: h.bundlePath, bundleHash: HASH, active: true, heartbeatMs: 50, logLevel: 'silent' });
    expect(h.messages().filter((m) => m.type === 'start')).toEqual([expect.objectContaining({ pid, port: 6700, topologyId: 'wc-1', seq: 1, active: true, execArgv: [] })]);
    await waitUntil('usedPorts updated', async () => (await h.nimbus.getSupervisor('sup-1'))?.usedPorts.join() === '6700');
    expect(slot(sup.supervisor, 6701).kind).toBe('EMPTY');
  });

  test('a worker killed with SIGKILL is reported and restarted', async () => {
    const sup = await h.start();
    await h.assign(h.record('wc-1'), [[1, 2, 6700]]);
    const first = pidOf(await waitUntil('first worker', () => running(sup.supervisor, 6700, 1)));
    process.kill(first, 'SIGKILL');
    const second = pidOf(await waitUntil('restarted worker', () => running(sup.supervisor, 6700, 2)));
    expect(second).not.toBe(first);
    expect(alive(first)).toBe(false);
    expect(await h.workerErrors('wc-1')).toEqual([
      expect.objectContaining({ error: 'ERR_WORKER_CRASHED: worker was killed by SIGKILL', host: '127.0.0.1', port: 6700 }),
    ]);
    await waitUntil('a heartbeat from the new worker', async () => (await h.nimbus.getWorkerBeats('wc-1'))[0]?.pid === second);
  });

  test('removing the assignment stops the worker gracefully', async () => {
    const sup = await h.start();
    await h.assign(h.record('wc-1'), [[1, 2, 6700]]);
    const pid = pidOf(await waitUntil('worker', () => running(sup.supervisor, 6700)));
    await h.nimbus.removeAssignment('wc-1');
    await waitUntil('slot EMPTY', () => slot(sup.supervisor, 6700).kind === 'EMPTY');
    expect(alive(pid)).toBe(false);
    // The shutdown message and SIGTERM race inside the worker: whichever it handles first stops it.
    const [start, ...stops] = h.messages().map((m) => m.type);
    expect(start).toBe('start');
    expect(stops.length).toBeGreaterThan(0);
    expect(stops.every((t) => t === 'shutdown' || t === 'SIGTERM')).toBe(true);
    expect(await h.workerErrors('wc-1')).toEqual([]);
    await waitUntil('usedPorts cleared', async () => (await h.nimbus.getSupervisor('sup-1'))?.usedPorts.length === 0);
  });

  test('peers moving and status changes are forwarded; a change of its own executors restarts the worker', async () => {
    const sup = await h.start();
    const record = h.record('wc-1');
    await h.assign(record, [[1, 2, 6700]]);
    const pid = pidOf(await waitUntil('worker', () => running(sup.supervisor, 6700)));
    await h.assign(record, [[1, 2, 6700]], 2, [{ start: 3, end: 3, node: 'sup-2', port: 6700 }]);
    await waitUntil('assignment forwarded', () => h.messages().some((m) => m.type === 'assignment' && m.seq === 2));
    await h.assign({ ...record, status: 'INACTIVE' }, [[1, 2, 6700]], 2, [{ start: 3, end: 3, node: 'sup-2', port: 6700 }]);
    await waitUntil('status forwarded', () => h.messages().some((m) => m.type === 'status' && m.status === 'INACTIVE'));
    expect(slot(sup.supervisor, 6700)).toMatchObject({ kind: 'RUNNING', launches: 1 });
    expect(alive(pid)).toBe(true);
    await h.assign({ ...record, status: 'INACTIVE' }, [[1, 3, 6700]], 3);
    const next = pidOf(await waitUntil('restarted for new executors', () => running(sup.supervisor, 6700, 2)));
    expect(next).not.toBe(pid);
    expect(alive(pid)).toBe(false);
    const seen = h.messages().map((m) => `${m.type}${m.pid === pid ? '' : '*'}`);
    expect(seen.filter((t) => t !== 'shutdown' && t !== 'SIGTERM')).toEqual(['start', 'assignment', 'status', 'start*']);
    expect(seen.some((t) => t === 'shutdown' || t === 'SIGTERM')).toBe(true);
    expect(h.launcher.specs[1]).toMatchObject({ active: false, assignment: { seq: 3 } });
    expect(await h.workerErrors('wc-1')).toEqual([]); // a planned restart is no failure
  });

  test('a worker crashing at start backs off exponentially (manual clock), errors under __worker', async () => {
    const clock = new ManualClock();
    const sup = await h.start({ 'supervisor.worker.restart.backoff.max.secs': 8 }, { clock });
    await h.assign(h.record('bad-1', { config: { 'fake.worker.mode': 'crash-at-start' } }), [[1, 1, 6700]]);
    const delays: number[] = [];
    for (let launch = 1; launch <= 6; launch++) {
      const st = await waitUntil(`backoff after launch ${launch}`, () => {
        const s = slot(sup.supervisor, 6700);
        return s.kind === 'BACKOFF' && s.launches === launch && s;
      });
      if (st.kind !== 'BACKOFF') throw new Error('unreachable');
      delays.push(st.untilMs - clock.now());
      expect(h.launcher.pids).toHaveLength(launch); // nothing relaunches until the clock says so
      clock.advance(st.untilMs - clock.now());
    }
    // base 1 s doubling to the 8 s cap, each with up to 50% jitter below the full value
    const full = [1_000, 2_000, 4_000, 8_000, 8_000, 8_000];
    delays.forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual(full[i] / 2);
      expect(d).toBeLessThanOrEqual(full[i]);
    });
    const errors = await waitUntil('six start failures recorded', async () => {
      const e = await h.workerErrors('bad-1');
      return e.length >= 6 && e;
    });
    expect(errors.slice(0, 6).map((e) => e.error)).toEqual(Array(6).fill('ERR_WORKER_START_FAILED: worker exited with code 3 before reporting ready'));
    expect(errors[0]).toMatchObject({ host: '127.0.0.1', port: 6700, errorTimeMs: expect.any(Number) });
  });

  test('a fatal message at start is reported with the worker code', async () => {
    const sup = await h.start();
    await h.assign(h.record('bad-1', { config: { 'fake.worker.mode': 'fatal-at-start' } }), [[1, 1, 6700]]);
    const errors = await waitUntil('fatal reported', async () => {
      const e = await h.workerErrors('bad-1');
      return e.length > 0 && e;
    });
    expect(errors[0].error).toBe('ERR_WORKER_START_FAILED: worker reported ERR_TOPOLOGY_LOAD: fake bundle failed to load');
    await waitUntil('backing off', () => ['BACKOFF', 'WAITING_FOR_BUNDLE', 'STARTING'].includes(slot(sup.supervisor, 6700).kind));
  });

  test('a hung worker is reported, killed and restarted (manual clock)', async () => {
    const clock = new ManualClock();
    const sup = await h.start({ 'supervisor.worker.timeout.secs': 5 }, { clock });
    await h.assign(h.record('hang-1', { config: { 'fake.worker.mode': 'hang' } }), [[1, 1, 6700]]);
    const first = pidOf(await waitUntil('hanging worker ready', () => running(sup.supervisor, 6700, 1)));
    await waitUntil('its one heartbeat', async () => (await h.nimbus.getWorkerBeats('hang-1')).length === 1);
    clock.advance(4_999);
    expect(slot(sup.supervisor, 6700).kind).toBe('RUNNING');
    clock.advance(1);
    expect(slot(sup.supervisor, 6700)).toMatchObject({ kind: 'KILLING', reason: 'hung' });
    const backoff = await waitUntil('hung worker gone', () => {
      const s = slot(sup.supervisor, 6700);
      return s.kind === 'BACKOFF' && s;
    });
    expect(alive(first)).toBe(false);
    if (backoff.kind === 'BACKOFF') clock.advance(backoff.untilMs - clock.now());
    const second = pidOf(await waitUntil('restarted', () => running(sup.supervisor, 6700, 2)));
    expect(second).not.toBe(first);
    const errors = await waitUntil('hung reported', async () => {
      const e = await h.workerErrors('hang-1');
      return e.length > 0 && e;
    });
    expect(errors[0].error).toBe('ERR_WORKER_HUNG: no heartbeat for 5 s (timeout 5 s)');
  });

  test('a worker that ignores SIGTERM is SIGKILLed after the shutdown sleep (manual clock)', async () => {
    const clock = new ManualClock();
    const sup = await h.start({ 'supervisor.worker.shutdown.sleep.secs': 3 }, { clock });
    await h.assign(h.record('stubborn-1', { config: { 'fake.worker.mode': 'ignore-sigterm' } }), [[1, 1, 6700]]);
    const pid = pidOf(await waitUntil('worker', () => running(sup.supervisor, 6700)));
    await h.nimbus.removeAssignment('stubborn-1');
    await waitUntil('SIGTERM delivered', () => h.messages().some((m) => m.type === 'SIGTERM'));
    clock.advance(2_999);
    expect(alive(pid)).toBe(true);
    expect(slot(sup.supervisor, 6700)).toMatchObject({ kind: 'KILLING', forced: false });
    clock.advance(1);
    expect(slot(sup.supervisor, 6700)).toMatchObject({ kind: 'KILLING', forced: true });
    await waitUntil('slot EMPTY after SIGKILL', () => slot(sup.supervisor, 6700).kind === 'EMPTY');
    expect(alive(pid)).toBe(false);
  });

  test('a busy slot port is the worker failure, reported; the supervisor carries on', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const sup = await h.start({ 'supervisor.slots.ports': [port] });
      await h.assign(h.record('bind-1', { config: { 'fake.worker.bind': true } }), [[1, 1, port]]);
      const errors = await waitUntil('port failure reported', async () => {
        const e = await h.workerErrors('bind-1');
        return e.length > 0 && e;
      });
      expect(errors[0].error).toMatch(/^ERR_WORKER_START_FAILED: worker reported ERR_WORKER_START_FAILED: cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE$/);
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
      await waitUntil('worker up once the port is free', () => running(sup.supervisor, port));
    } finally {
      if (blocker.listening) blocker.close();
    }
  });

  test('worker-reported errors go to /errors/<topology>/<component>; childopts reach node', async () => {
    const sup = await h.start();
    await h.assign(h.record('err-1', { config: { 'fake.worker.error': 'split', 'topology.worker.childopts': "--max-old-space-size=128 --title='squall worker'" } }), [[1, 1, 6701]]);
    await waitUntil('worker', () => running(sup.supervisor, 6701));
    const errors = await waitUntil('component error', async () => {
      const e = await h.workerErrors('err-1', 'split');
      return e.length > 0 && e;
    });
    expect(errors).toEqual([expect.objectContaining({ error: 'fake failure', host: '127.0.0.1', port: 6701 })]);
    expect(h.messages()[0]).toMatchObject({ type: 'start', execArgv: ['--max-old-space-size=128', '--title=squall worker'] });
  });

  test('close() stops every worker and leaves no child process', async () => {
    const sup = await h.start();
    await h.assign(h.record('wc-1'), [[1, 1, 6700]]);
    await h.assign(h.record('wc-2', { config: { 'fake.worker.mode': 'ignore-sigterm' } }), [[1, 1, 6701]]);
    const pids = [pidOf(await waitUntil('a', () => running(sup.supervisor, 6700))), pidOf(await waitUntil('b', () => running(sup.supervisor, 6701)))];
    await sup.close();
    expect(pids.filter(alive)).toEqual([]);
    expect(sup.supervisor.workerPids()).toEqual([]);
    expect(await h.nimbus.getSupervisor('sup-1')).toBeNull();
  });

  test('after a session expiry it is registered again and re-arms its watches', async () => {
    // A manual clock: no monitor tick can stand in for the watches.
    const sup = await h.start({}, { clock: new ManualClock() });
    h.server.expireSession(h.store as never);
    await waitUntil('re-registered', async () => (await h.nimbus.getSupervisor('sup-1')) !== null);
    await sup.supervisor.settled();
    await h.assign(h.record('wc-1'), [[1, 1, 6700]]);
    await waitUntil('worker after expiry', () => running(sup.supervisor, 6700));
    await h.nimbus.removeAssignment('wc-1');
    await waitUntil('stopped after expiry', () => slot(sup.supervisor, 6700).kind === 'EMPTY');
  });

  test('a bundle whose hash does not match is never run; the failure is reported', async () => {
    const server = http.createServer((_req, res) => res.end('tampered bundle'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const good = createHash('sha256').update('the real bundle').digest('hex');
    try {
      const bundles = new BundleCache({ dir: path.join(h.dir, 'bundles'), nimbusUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: null, maxBytes: 1 << 20 });
      const sup = await h.start({}, { bundles });
      await h.assign(h.record('wc-1', { bundleHash: good }), [[1, 1, 6700]]);
      const errors = await waitUntil('mismatch reported', async () => {
        const e = await h.workerErrors('wc-1');
        return e.length > 0 && e;
      });
      expect(errors[0].error).toMatch(/^ERR_BUNDLE_HASH_MISMATCH: bundle [0-9a-f]{64}: Bundle hash mismatch: expected sha256/);
      expect(h.launcher.pids).toEqual([]);
      expect(slot(sup.supervisor, 6700).kind).not.toBe('STARTING');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
