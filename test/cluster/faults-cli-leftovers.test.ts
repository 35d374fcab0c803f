/**
 * What the CLI leaves behind. Every `squall submit` and `squall local` builds the topology into a
 * bundle; the fault suite submits dozens of topologies per run, and afterwards /tmp held one
 * `squall-bundle-*` directory (~180 KB) per submission: 521 on the test machine after a day of
 * runs. Each test runs the CLI with TMPDIR pointing at an empty directory, which must be empty
 * again when the command has finished.
 *
 * Needs the built CLI (node scripts/build.js); no ZooKeeper.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, SQUALL_BIN } from '../helpers/cluster-harness';
import { freePort } from '../helpers/zookeeper';

const TEST_TIMEOUT_MS = 30_000;

/** Runs `node bin/squall.js <args>` with its own empty TMPDIR; returns its exit code, output and what is left in TMPDIR. */
function squallWithTmpdir(args: string[]): Promise<{ code: number | null; out: string; left: string[] }> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-leftovers-'));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SQUALL_BIN, ...args], { cwd: ROOT, env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), TEST_TIMEOUT_MS - 5_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      const left = fs.readdirSync(tmp);
      fs.rmSync(tmp, { recursive: true, force: true });
      resolve({ code, out, left });
    });
  });
}

describe('the CLI leaves nothing in the temporary directory', () => {
  // buildBundle writes each bundle to a new temporary directory; `squall submit` only uploads the
  // bytes, so it removes the directory at once (it once left one per submission).
  it(
    'squall submit (here to an unreachable Nimbus) leaves no bundle behind',
    async () => {
      const nowhere = await freePort();
      const res = await squallWithTmpdir(['submit', path.join(ROOT, 'examples', 'word-count', 'topology.ts'), '--nimbus', `127.0.0.1:${nowhere}`]);
      expect(res.out).toContain('ERR_NIMBUS_UNREACHABLE');
      expect(res.code).toBe(1);
      expect(res.left).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  // `squall local` removes it as soon as the module is loaded.
  it(
    'squall local leaves no bundle behind',
    async () => {
      const res = await squallWithTmpdir(['local', path.join(ROOT, 'examples', 'word-count', 'topology.ts'), '--duration', '1', '--no-progress']);
      expect(res.code).toBe(0);
      expect(res.left).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});
