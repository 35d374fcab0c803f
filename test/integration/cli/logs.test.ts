/**
 * Worker log files and `squall logs` on a running `squall dev` cluster (real worker processes, a
 * Nimbus token, logs rotated every 4 KiB): the tail of every worker or of a component's workers,
 * search across rotated files, `--follow` across rotations without losing or repeating a line,
 * and coded errors.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LogPage } from '../../../common/protocol/rest';
import { ROOT, SQUALL_BIN, backstopMs, runSquall, waitFor } from '../../helpers/cluster-harness';
import { DEV_CLI_BOUND_MS, DEV_GET_BOUND_MS, DEV_START_BOUND_MS, DEV_STOP_BOUND_MS, DEV_SUBMIT_BOUND_MS, DevClusterProcess } from '../../helpers/dev-cluster';

const TOKEN = 'logs-cli-token';
const FIXTURES = path.resolve(__dirname, '../../fixtures/ui');
const LOG_FILE_WAIT_MS = 10_000;
/** The ticker prints a line a second: 10 ticks take ~10 s; generous for a loaded machine. */
const TICKS_WAIT_MS = 60_000;
const FOLLOW_EXIT_WAIT_MS = 15_000;

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
  }, backstopMs(DEV_START_BOUND_MS, 2 * DEV_SUBMIT_BOUND_MS));

  afterAll(async () => {
    await dev?.stop();
  }, backstopMs(DEV_STOP_BOUND_MS));

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
   }, backstopMs(DEV_GET_BOUND_MS, 2 * LOG_FILE_WAIT_MS, 2 * DEV_CLI_BOUND_MS));

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
   }, backstopMs(DEV_CLI_BOUND_MS));

  test('--follow prints every new line once, across rotations, until Ctrl-C', async () => {
    await dev.run(async () => {
      const worker = (await dev.topology(ticker)).workers[0];
      const route = `/topology/ticker/log/${worker.host}/${worker.port}`;
      const child = spawn(process.execPath, [SQUALL_BIN, 'logs', 'ticker', '--follow', '-n', '2', '-i', '0.3', '--nimbus', dev.address, '--token', TOKEN], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let exit: { code: number | null } | null = null;
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      child.once('close', (code) => (exit = { code }));
      try {
        // ~1 KiB a tick in 4 KiB files: 8 ticks followed after the 2 of the tail span two rotations
        await waitFor('squall logs --follow to print 10 ticks', () => {
          if (exit) throw new Error(`squall logs --follow exited ${exit.code}: ${stderr}`);
          return ticks(stdout).length >= 10;
        }, TICKS_WAIT_MS);
        child.kill('SIGINT');
        await waitFor('squall logs --follow to exit after Ctrl-C', () => exit ?? false, FOLLOW_EXIT_WAIT_MS);
      } finally {
        if (!exit && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      }
      expect([exit!.code, stderr]).toEqual([0, '']);
      const seen = ticks(stdout);
      expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => seen[0] + i));
      const after = await dev.get<LogPage>(route);
      expect(after.files.map((f) => f.name)).toEqual(['worker.log', 'worker.log.1', 'worker.log.2']);
      for (const f of after.files) expect(f.bytes).toBeLessThanOrEqual(4096);
    });
  }, backstopMs(2 * DEV_GET_BOUND_MS, TICKS_WAIT_MS, FOLLOW_EXIT_WAIT_MS));

  test('coded errors: unknown topology or component, no token', async () => {
    await dev.run(async () => {
      const nope = await dev.cli(['logs', 'nope']);
      expect([nope.code, nope.stderr]).toEqual([1, expect.stringMatching(/^squall: ERR_TOPOLOGY_NOT_FOUND: /)]);
      const comp = await dev.cli(['logs', 'words', '--component', 'nope']);
      expect([comp.code, comp.stderr]).toEqual([1, expect.stringMatching(/^squall: ERR_COMPONENT_NOT_FOUND: /)]);
      const noToken = await runSquall(['logs', 'words', '--nimbus', dev.address], path.join(dev.dir, 'cli.log'));
      expect([noToken.code, noToken.stderr]).toEqual([1, expect.stringMatching(/^squall: ERR_UNAUTHORIZED: /)]);
    });
   }, backstopMs(3 * DEV_CLI_BOUND_MS));
});
