/**
 * Worker log files and `squall logs` on a running `squall dev` cluster (real worker processes, a
 * Nimbus token, logs rotated every 4 KiB): the tail of every worker or of a component's workers,
 * search across rotated files, `--follow` across rotations without losing or repeating a line,
 * and coded errors.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LogPage } from '../../../common/protocol/rest';
import { runSquall, waitFor } from '../../helpers/cluster-harness';
import { DevClusterProcess } from '../../helpers/dev-cluster';

const TOKEN = 'logs-cli-token';
const FIXTURES = path.resolve(__dirname, '../../fixtures/ui');

function ticks(stdout: string): number[] {
  return [...stdout.matchAll(/tick (\d+) \./g)].map((m) => Number(m[1]));
}

describe('squall logs on a dev cluster', () => {
  let dev: DevClusterProcess;
  let words = '';
  let ticker = '';

  beforeAll(async () => {
    dev = await DevClusterProcess.start({ name: 'logs', supervisors: 1, slots: 3, config: { 'nimbus.auth.token': TOKEN, 'worker.log.max.bytes': 4096, 'worker.log.max.files': 3 } });
    try {
      words = await dev.submit(path.join(FIXTURES, 'word-count.ts'), 'words', { 'topology.workers': 2, 'test.input.count': 50, 'test.output.dir': path.join(dev.dir, 'out') });
      ticker = await dev.submit(path.join(FIXTURES, 'ticker.ts'), 'ticker', { 'topology.workers': 1 });
      await dev.waitForWorkersRunning(words, 2);
      await dev.waitForWorkersRunning(ticker, 1);
    } catch (err) {
      dev.markFailed();
      throw new Error(`${(err as Error).message}\n${dev.logTail()}`);
    }
  }, 120_000);

  afterAll(async () => {
    await dev?.stop();
  }, 60_000);

  test('each worker writes its log file under the supervisor; the tail of every worker, or of one component', async () => {
    await dev.run(async () => {
      const page = await dev.topology(words);
      for (const w of page.workers) {
        const file = path.join(dev.dir, 'data', 'supervisor-1', 'logs', words, String(w.port), 'worker.log');
        await waitFor(`${file} to hold the worker's start`, () => fs.existsSync(file) && fs.readFileSync(file, 'utf8').includes('worker started'), 10_000);
      }
      const all = await dev.cliOk(['logs', 'words', '-n', '1000']);
      for (const w of page.workers) expect(all).toContain(`[${w.host}:${w.port}] `);
      expect(all).toMatch(/^\[[^\]]+\] \d\d:\d\d:\d\d\.\d{3} INFO {2}worker started/m);
      const lengthsWorker = page.workers.filter((w) => (w.componentNumTasks.lengths ?? 0) > 0);
      expect(lengthsWorker).toHaveLength(1);
      const one = await dev.cliOk(['logs', 'words', '--component', 'lengths', '-n', '3']);
      const lines = one.trimEnd().split('\n');
      expect(lines).toHaveLength(3);
      for (const l of lines) expect(l.startsWith('[')).toBe(false);
    });
  });

  test('--search finds lines in the current and rotated files, oldest first; --json prints them as they are', async () => {
    await dev.run(async () => {
      const out = await dev.cliOk(['logs', 'words', '--search', 'PREPARED', '--json']);
      const records = out
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l.replace(/^\[[^\]]+\] /, '')) as { msg: string; stream: string });
      // split has 4 tasks, count 3: each prints once when prepared
      expect(records.map((r) => r.msg.replace(/\d+/, 'N')).sort()).toEqual([...Array(3).fill('count task N prepared'), ...Array(4).fill('split task N prepared')]);
      expect(records.every((r) => r.stream === 'stdout')).toBe(true);
    });
  });

  test('--follow prints every new line once, across rotations', async () => {
    await dev.run(async () => {
      const worker = (await dev.topology(ticker)).workers[0];
      const before = await dev.get<LogPage>(`/topology/ticker/log/${worker.host}/${worker.port}`);
      const res = await dev.cli(['logs', 'ticker', '--follow', '-n', '2', '-i', '0.3', '--duration', '9']);
      expect(res.code).toBe(0);
      const seen = ticks(res.stdout);
      expect(seen.length).toBeGreaterThanOrEqual(6);
      expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => seen[0] + i));
      const after = await dev.get<LogPage>(`/topology/ticker/log/${worker.host}/${worker.port}`);
      // ~1 KiB a tick in 4 KiB files: the log rotated while it was followed
      expect(after.fileId).not.toBe(before.fileId);
      expect(after.files.map((f) => f.name)).toEqual(['worker.log', 'worker.log.1', 'worker.log.2']);
      for (const f of after.files) expect(f.bytes).toBeLessThanOrEqual(4096);
    });
  });

  test('coded errors: unknown topology or component, no token', async () => {
    await dev.run(async () => {
      const nope = await dev.cli(['logs', 'nope']);
      expect([nope.code, nope.stderr]).toEqual([1, expect.stringMatching(/^squall: ERR_TOPOLOGY_NOT_FOUND: /)]);
      const comp = await dev.cli(['logs', 'words', '--component', 'nope']);
      expect([comp.code, comp.stderr]).toEqual([1, expect.stringMatching(/^squall: ERR_COMPONENT_NOT_FOUND: /)]);
      const noToken = await runSquall(['logs', 'words', '--nimbus', dev.address], path.join(dev.dir, 'cli.log'));
      expect([noToken.code, noToken.stderr]).toEqual([1, expect.stringMatching(/^squall: ERR_UNAUTHORIZED: /)]);
    });
  });
});
