/**
 * The bundle probe for real: forks the built dist/nimbus/probe-main.js on small CommonJS bundles
 * written to a temp dir. Needs `node scripts/build.js` first (npm test runs it in pretest).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ClusterState } from '../../../common/cluster-state/cluster-state';
import { MemoryStateServer } from '../../../common/cluster-state/memory-store';
import { silentLogger } from '../../../common/logging';
import { ForkBundleProbe } from '../../../nimbus/bundle-probe';
import { startNimbus } from '../../../nimbus/main';

const ROOT = path.resolve(__dirname, '../../..');
const PROBE_SCRIPT = path.join(ROOT, 'dist', 'nimbus', 'probe-main.js');
const API = path.join(ROOT, 'dist', 'topology-api', 'index.js');

const TOPOLOGY = `
const { TopologyBuilder, BaseRichSpout, BaseRichBolt } = require(${JSON.stringify(API)});
class Words extends BaseRichSpout { open() {} nextTuple() {} declareOutputFields(d) { d.declare(['word']); } }
class Count extends BaseRichBolt { prepare() {} execute() {} declareOutputFields(d) { d.declare(['word', 'count']); } }
const builder = new TopologyBuilder();
builder.setSpout('words', Words, 2);
builder.setBolt('count', Count, 3).fieldsGrouping('words', ['word']);
builder.addConfiguration('topology.max.spout.pending', 50);
`;

const BUNDLES: Record<string, string> = {
  'good.js': `${TOPOLOGY}\nconsole.log('{"not": "the channel"}');\nmodule.exports = { default: builder, config: { 'topology.workers': 2 } };\n`,
  'good-fn.js': `${TOPOLOGY}\nmodule.exports = async () => builder.createTopology();\n`,
  'lingers.js': `${TOPOLOGY}\nsetInterval(() => {}, 1000);\nmodule.exports = builder;\n`,
  'syntax.js': 'module.exports = { default: ;\n',
  'throws.js': "throw new Error('cannot reach the database');\n",
  'no-export.js': 'module.exports = { something: 1 };\n',
  'fn-rejects.js': "module.exports = async () => { throw new Error('async boom'); };\n",
  'invalid.js': `${TOPOLOGY}\nbuilder.setBolt('orphan', Count).shuffleGrouping('nowhere');\nmodule.exports = builder;\n`,
  'exit0.js': 'process.exit(0);\n',
  'exit3.js': "process.stderr.write('fatal: giving up\\n');\nprocess.exit(3);\n",
  'loop.js': 'for (;;) {}\n',
  'never.js': 'module.exports = () => new Promise(() => { setInterval(() => {}, 1000); });\n',
  'stalls.js': 'module.exports = () => new Promise(() => {});\n',
  'ipc-garbage.js': `${TOPOLOGY}\nprocess.send('garbage');\nmodule.exports = builder;\n`,
  'oom.js': 'const keep = []; for (;;) keep.push(new Array(1e6).fill(Math.random()));\n',
};

describe('ForkBundleProbe (dist/nimbus/probe-main.js)', () => {
  let dir: string;
  const probes: ForkBundleProbe[] = [];
  const probe = (timeoutMs = 10_000, extra: { concurrentMax?: number; maxOldSpaceMb?: number } = {}): ForkBundleProbe => {
    const p = new ForkBundleProbe({ timeoutMs, logger: silentLogger(), scriptPath: PROBE_SCRIPT, ...extra });
    probes.push(p);
    return p;
  };
  const file = (name: string): string => path.join(dir, name);

  beforeAll(() => {
    if (!fs.existsSync(PROBE_SCRIPT) || !fs.existsSync(API)) {
      throw new Error(`${path.relative(ROOT, PROBE_SCRIPT)} or the built topology API is missing: run \`node scripts/build.js\` first (npm test does it in pretest)`);
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-probe-'));
    for (const [name, code] of Object.entries(BUNDLES)) fs.writeFileSync(file(name), code);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    for (const p of probes.splice(0)) await p.close();
  });

  async function fails(name: string, code: string, reason: RegExp, p = probe()): Promise<Error & { problems?: string[] }> {
    const err = (await p.probe(file(name)).then(
      () => null,
      (e: unknown) => e,
    )) as (Error & { code?: string; problems?: string[] }) | null;
    expect(err).not.toBeNull();
    expect(err!.code).toBe(code);
    expect(err!.message).toMatch(reason);
    return err!;
  }

  test('a good bundle: definition and config (builder config, then the module config export)', async () => {
    const result = await probe().probe(file('good.js'));
    expect(Object.keys(result.definition.spouts)).toEqual(['words']);
    expect(result.definition.bolts.count).toMatchObject({ parallelism: 3, inputs: [{ component: 'words', stream: 'default', grouping: { type: 'fields', fields: ['word'] } }] });
    expect(result.config).toEqual({ 'topology.max.spout.pending': 50, 'topology.workers': 2 });
  });

  test('an exported (async) function returning the topology', async () => {
    expect(Object.keys((await probe().probe(file('good-fn.js'))).definition.bolts)).toEqual(['count']);
  });

  test('a bundle that leaves timers running is still read (and its process ended)', async () => {
    expect(Object.keys((await probe().probe(file('lingers.js'))).definition.spouts)).toEqual(['words']);
  });

  test('not JavaScript', () => fails('syntax.js', 'ERR_BUNDLE_INVALID', /^Invalid bundle: not valid JavaScript: Unexpected token/));
  test('throws on load', () => fails('throws.js', 'ERR_BUNDLE_INVALID', /threw while loading: cannot reach the database/));
  test('lacks the topology export', () => fails('no-export.js', 'ERR_BUNDLE_INVALID', /must export \(default\) a TopologyBuilder/));
  test('its exported function rejects', () => fails('fn-rejects.js', 'ERR_BUNDLE_INVALID', /exported function threw: async boom/));
  test('calls process.exit(0) while loading', () => fails('exit0.js', 'ERR_BUNDLE_INVALID', /exited while loading without defining a topology/));
  test('crashes, with the end of its stderr in the reason', () => fails('exit3.js', 'ERR_BUNDLE_INVALID', /crashed with exit code 3: fatal: giving up/));
  test('loops forever: killed at the timeout', () => fails('loop.js', 'ERR_BUNDLE_INVALID', /took longer than 0.5s/, probe(500)));
  test('never resolves its topology: killed at the timeout', () => fails('never.js', 'ERR_BUNDLE_INVALID', /took longer than 0.5s/, probe(500)));
  test('awaits a promise that can never settle (nothing left to run)', () => fails('stalls.js', 'ERR_BUNDLE_INVALID', /exited while loading without defining a topology/));
  test('sends garbage over the IPC channel', () => fails('ipc-garbage.js', 'ERR_BUNDLE_INVALID', /something other than a probe result/));
  test('runs out of memory under the cap', () => fails('oom.js', 'ERR_BUNDLE_INVALID', /out of memory/, probe(20_000, { maxOldSpaceMb: 32 })));

  test('a builder with problems is ERR_TOPOLOGY_INVALID, every problem listed', async () => {
    const err = await fails('invalid.js', 'ERR_TOPOLOGY_INVALID', /unknown source component "nowhere"/);
    expect(err.problems).toEqual(['bolt "orphan" input nowhere:default: unknown source component "nowhere"']);
  });

  test('a missing bundle file fails like a bundle that throws', () => fails('absent.js', 'ERR_BUNDLE_INVALID', /threw while loading: Cannot find module/));

  test('bounded: probes over concurrentMax fail with ERR_BUSY; close stops the rest', async () => {
    const p = probe(10_000, { concurrentMax: 1 });
    const slow = p.probe(file('loop.js'));
    await expect(p.probe(file('good.js'))).rejects.toMatchObject({ code: 'ERR_BUSY' });
    await p.close();
    await expect(slow).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    await expect(p.probe(file('good.js'))).rejects.toMatchObject({ code: 'ERR_CLOSED' });
  });

  test('a missing probe script is ERR_INTERNAL, not the bundle\'s fault', async () => {
    const p = new ForkBundleProbe({ timeoutMs: 1000, logger: silentLogger(), scriptPath: path.join(dir, 'nope.js') });
    await expect(p.probe(file('good.js'))).rejects.toMatchObject({ code: 'ERR_INTERNAL' });
  });
});

describe('submitting real bundles through REST', () => {
  test('a good bundle is accepted and scheduled; a broken one is refused with the reason', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-submit-'));
    const server = new MemoryStateServer();
    const store = server.connect();
    const running = await startNimbus(
      { 'storm.local.dir': dir, 'nimbus.port': 0 },
      { clusterState: new ClusterState(store), logger: silentLogger(), probe: new ForkBundleProbe({ timeoutMs: 10_000, logger: silentLogger(), scriptPath: PROBE_SCRIPT }) },
    );
    try {
      const post = (name: string, code: string): Promise<Response> =>
        fetch(`${running.url}/api/v1/topologies?name=${name}&config=${encodeURIComponent('{"topology.workers":1}')}`, { method: 'POST', headers: { 'Content-Type': 'application/javascript' }, body: code });
      const ok = await post('wc', BUNDLES['good.js']);
      expect(ok.status).toBe(201);
      const { id } = (await ok.json()) as { id: string };
      expect(running.nimbus.getTopology(id)).toMatchObject({ numWorkers: 1, config: { 'topology.max.spout.pending': 50, 'topology.workers': 1, 'topology.name': 'wc' } });
      const bad = await post('bad', BUNDLES['syntax.js']);
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ code: 'ERR_BUNDLE_INVALID', error: expect.stringContaining('not valid JavaScript') });
    } finally {
      await running.close();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
