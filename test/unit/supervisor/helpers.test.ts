import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Assignment, TopologyRecord } from '../../../common/cluster-state/types';
import { resolveDaemonConfig } from '../../../common/config';
import { Random } from '../../../common/random';
import { splitChildopts } from '../../../supervisor/childopts';
import { resolveSupervisorId, supervisorIdFile, uuid } from '../../../supervisor/supervisor-id';
import { buildStartSpec, slotTargets, topologiesOnNode } from '../../../supervisor/targets';
import { parseWorkerMessage } from '../../../supervisor/worker-messages';

describe('splitChildopts', () => {
  test.each<[string | null, string[]]>([
    [null, []],
    ['', []],
    ['  --max-old-space-size=512   --trace-warnings ', ['--max-old-space-size=512', '--trace-warnings']],
    [`--title 'my worker' --x="a b"`, ['--title', 'my worker', '--x=a b']],
    [`"say \\"hi\\"" it\\ s '$HOME'`, ['say "hi"', 'it s', '$HOME']],
    [`''`, ['']],
  ])('%p', (input, expected) => {
    expect(splitChildopts(input)).toEqual(expected);
  });

  test('refuses unbalanced quotes and a trailing backslash', () => {
    for (const bad of [`--a 'b`, `"x`, 'x\\']) {
      expect(() => splitChildopts(bad)).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }));
    }
  });
});

describe('parseWorkerMessage', () => {
  test('accepts the protocol messages', () => {
    const beat = { incarnation: 'run-1', timeMs: 1, uptimeSecs: 2, rssBytes: 3, executors: [{ component: 'x' }] };
    expect(parseWorkerMessage({ type: 'ready', pid: 7 })).toEqual({ type: 'ready', pid: 7 });
    expect(parseWorkerMessage({ type: 'heartbeat', beat })).toEqual({ type: 'heartbeat', beat });
    expect(parseWorkerMessage({ type: 'fatal', code: 'ERR_X', message: 'm' })).toEqual({ type: 'fatal', code: 'ERR_X', message: 'm' });
    expect(parseWorkerMessage({ type: 'error', component: 'split', error: { error: 'e', errorTimeMs: 5, host: 'h', port: 1, task: 3 } })).toEqual({
      type: 'error',
      component: 'split',
      error: { error: 'e', errorTimeMs: 5, host: 'h', port: 1, task: 3 },
    });
  });

  test('drops anything malformed', () => {
    for (const bad of [null, 'ready', [], { type: 'ready' }, { type: 'heartbeat', beat: { timeMs: 'x' } }, { type: 'error', component: '', error: { error: 'e' } }, { type: 'nope' }, { type: 'fatal', code: 1 }]) {
      expect(parseWorkerMessage(bad)).toBeNull();
    }
  });

  test('cuts huge error texts', () => {
    const msg = parseWorkerMessage({ type: 'fatal', code: 'ERR_X', message: 'x'.repeat(100_000) });
    expect(msg?.type === 'fatal' && msg.message.length).toBeLessThan(9_000);
  });
});

describe('slot targets', () => {
  const assignment = (topologyId: string, executors: Array<[number, number, string, number]>): Assignment => ({
    v: 1,
    topologyId,
    executors: executors.map(([start, end, node, port]) => ({ start, end, node, port })),
    nodeHost: {},
    workerStartMs: {},
    seq: 3,
  });
  const record = (id: string): TopologyRecord => ({ id, bundleHash: `hash-${id}`, status: 'ACTIVE', config: {}, definition: { spouts: {}, bolts: {} }, componentExecutors: { a: 1 }, linkSecret: 's' }) as unknown as TopologyRecord;

  test("picks this node's executors per port, sorted; other ports are null", () => {
    const a = assignment('t1', [[5, 5, 'me', 6701], [1, 2, 'me', 6701], [3, 4, 'other', 6700]]);
    const { targets, problems } = slotTargets('me', [6700, 6701], new Map([['t1', a]]), new Map([['t1', record('t1')]]));
    expect(problems).toEqual([]);
    expect(targets.get(6700)).toBeNull();
    expect(targets.get(6701)).toMatchObject({ topologyId: 't1', bundleHash: 'hash-t1', executors: [{ start: 1, end: 2 }, { start: 5, end: 5 }], status: 'ACTIVE' });
  });

  test('a missing record leaves the port unknown; foreign ports and double bookings are problems', () => {
    const assignments = new Map([
      ['t1', assignment('t1', [[1, 1, 'me', 6700], [2, 2, 'me', 9999]])],
      ['t2', assignment('t2', [[1, 1, 'me', 6700], [2, 2, 'me', 6701]])],
    ]);
    const { targets, problems } = slotTargets('me', [6700, 6701], assignments, new Map([['t1', record('t1')]]));
    expect(targets.get(6700)).toMatchObject({ topologyId: 't1' });
    expect(targets.get(6701)).toBe('unknown');
    expect(problems).toHaveLength(2);
    expect(topologiesOnNode('me', assignments.values())).toEqual(['t1', 't2']);
    expect(topologiesOnNode('nobody', assignments.values())).toEqual([]);
  });

  test('the start spec comes from the record, the assignment and the daemon settings', () => {
    const a = assignment('t1', [[1, 1, 'me', 6700]]);
    const { targets } = slotTargets('me', [6700], new Map([['t1', a]]), new Map([['t1', { ...record('t1'), status: 'INACTIVE' }]]));
    const target = targets.get(6700);
    if (!target || target === 'unknown') throw new Error('no target');
    const spec = buildStartSpec(target, { supervisorId: 'me', host: 'h', port: 6700, bundlePath: '/b.js', logLevel: 'warn', heartbeatMs: 1000, frameMaxBytes: 2048, stateDir: '/data/state' });
    expect(spec).toEqual({
      topologyId: 't1',
      supervisorId: 'me',
      host: 'h',
      port: 6700,
      bundlePath: '/b.js',
      bundleHash: 'hash-t1',
      definition: { spouts: {}, bolts: {} },
      config: {},
      componentExecutors: { a: 1 },
      linkSecret: 's',
      assignment: a,
      active: false,
      logLevel: 'warn',
      heartbeatMs: 1000,
      frameMaxBytes: 2048,
      stateDir: '/data/state',
    });
  });
});

describe('supervisor id', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-sup-id-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('configured ids win; otherwise one is generated once and kept', async () => {
    expect(await resolveSupervisorId(resolveDaemonConfig({ 'supervisor.id': 'sup-a', 'storm.local.dir': dir }), new Random(1))).toBe('sup-a');
    const config = resolveDaemonConfig({ 'storm.local.dir': dir });
    const first = await resolveSupervisorId(config, new Random(1));
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(await resolveSupervisorId(config, new Random(2))).toBe(first);
    expect(fs.readFileSync(supervisorIdFile(config), 'utf8').trim()).toBe(first);
  });

  test('a corrupt id file is an error, not silently replaced', async () => {
    const config = resolveDaemonConfig({ 'storm.local.dir': dir });
    fs.mkdirSync(path.dirname(supervisorIdFile(config)), { recursive: true });
    fs.writeFileSync(supervisorIdFile(config), 'not/a valid id');
    await expect(resolveSupervisorId(config, new Random(1))).rejects.toMatchObject({ code: 'ERR_CONFIG_INVALID' });
  });

  test('uuids differ per seed', () => {
    expect(uuid(new Random(1))).not.toBe(uuid(new Random(2)));
  });
});
