import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '../../..');
const bin = path.join(root, 'bin/squall.js');

/** Runs `squall local <example> --duration <secs>` to completion (bounded), with its output. */
function runLocal(example: string, secs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  if (!fs.existsSync(path.join(root, 'dist/cli/main.js'))) throw new Error('dist/ is not built: run `node scripts/build.js` (npm test does it in pretest)');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'local', `examples/${example}/topology.ts`, '--duration', String(secs)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`squall local ${example} did not finish within ${secs + 20} s; stdout: ${stdout}; stderr: ${stderr}`));
    }, (secs + 20) * 1000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('windowing examples under squall local', () => {
  it('rolling-top-words prints total rankings of its sliding window, and window stats', async () => {
    const r = await runLocal('rolling-top-words', 12);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^top words, 5 of the 9 s window ending \d\d:\d\d:\d\d: storm=\d+ stream=\d+/m);
    expect(r.stdout).toMatch(/counter [\d.]+k?\/s \[\d+ open, [\d,]+ buffered\]/);
    expect(r.stdout).toMatch(/windowed bolt\s+open windows\s+buffered\s+watermark\s+late\s+late dropped\n[- ]+\ncounter\s+\d+\s+\d+\s+-\s+0\s+0/);
  });

  it('ad-sessions prints closed sessions by click-through rate and the late events', async () => {
    const r = await runLocal('ad-sessions', 7);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^sessions closed: \d+; ads by click-through rate: ad-\d+ \d+\.\d% \(\d+\/\d+\)/m);
    expect(r.stdout).toMatch(/^late events \(after their session closed\): \d+$/m);
    expect(r.stdout).toMatch(/sessions [\d.]+k?\/s \[\d+ open, [\d,]+ buffered, watermark 2024-01-01 /);
  });
});
