import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '../../..');
const bin = path.join(root, 'bin/squall.js');

/** Runs `squall ...` to completion (bounded), collecting output and when each stdout line came. */
function squall(args: string[], timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string; lines: Array<{ atMs: number; line: string }> }> {
  if (!fs.existsSync(path.join(root, 'dist/cli/main.js'))) throw new Error('dist/ is not built: run `node scripts/build.js` (npm test does it in pretest)');
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const lines: Array<{ atMs: number; line: string }> = [];
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      for (const line of d.toString().split('\n')) if (line) lines.push({ atMs: performance.now() - started, line });
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`squall ${args.join(' ')} did not finish within ${timeoutMs} ms; stdout: ${stdout}; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, lines });
    });
  });
}

describe('squall local', () => {
  // How soon the first results come is measured by `npm run bench` (local-startup), not here.
  it('runs word count, prints progress and a final stats table', async () => {
    const r = await squall(['local', 'examples/word-count/topology.ts', '--duration', '3']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('running "word-count" in-process (acking on) for 3s');
    const progress = r.lines.filter((l) => /^\[\s*\d+s\] sentences [\d.]+[kM]?\/s/.test(l.line));
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(r.stdout).toMatch(/top words: the=\d+/);
    const table = r.stdout.slice(r.stdout.indexOf('component'));
    for (const c of ['sentences', 'split', 'count', 'report', '__acker']) expect(table).toContain(c);
    const spout = table.split('\n').find((l) => l.startsWith('sentences'))!;
    const acked = Number(spout.trim().split(/\s+/)[6].replace(/,/g, ''));
    expect(acked).toBeGreaterThan(1000);
  });

  it('runs until Ctrl-C, then stops cleanly and prints the final table', async () => {
    const child = spawn(process.execPath, [bin, 'local', 'examples/word-count/topology.ts'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no progress line within 10 s: ${stdout}`)), 10_000);
        child.stdout.on('data', (d: Buffer) => {
          stdout += d;
          if (/\[\s*\d+s\] sentences/.test(stdout)) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      child.kill('SIGINT');
      const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running 10 s after SIGINT'), 10_000))]);
      expect(code).toBe(0);
      expect(stdout).toMatch(/"word-count" ran [\d.]+s/);
      expect(stdout).toContain('__acker');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('applies -c overrides and stops at the duration with acking off', async () => {
    const r = await squall(['local', 'examples/word-count/topology.ts', '--duration', '1', '-c', 'topology.acker.executors=0', '--name', 'wc0', '--no-progress']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('running "wc0" in-process (acking off) for 1s');
    expect(r.stdout).not.toContain('__acker');
  });

  it('fails with a coded error and exit status 1 for a bad file or bad config', async () => {
    const missing = await squall(['local', 'examples/nope.ts', '--duration', '1']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('squall: ERR_BUILD_FAILED: Cannot build bundle: no such file: examples/nope.ts');
    const bad = await squall(['local', 'examples/word-count/topology.ts', '--duration', '1', '-c', 'topology.workers=0']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('squall: ERR_CONFIG_INVALID');
    expect(bad.stderr).toContain('"topology.workers" must be an integer from 1 to 1024 (got 0)');
  });

  it('refuses unknown commands and options with usage help (exit 2)', async () => {
    const r = await squall(['lokal']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Run "squall --help" for usage.');
  });
});
