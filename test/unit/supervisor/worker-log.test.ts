/**
 * Worker log files on disk (no sockets): rotation by size with a bounded number of files, pino
 * lines kept and other output wrapped, the bounded queue's drop rule, and reading back in pages
 * and searches that never read a file whole.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ManualClock } from '../../../common/clock';
import { silentLogger } from '../../../common/logging';
import { isLogFileName, isTopologyIdSafe, workerLogDir } from '../../../supervisor/log-files';
import { SEARCH_SCAN_BYTES_MAX, WorkerLogReader } from '../../../supervisor/log-reader';
import { WorkerLogFile } from '../../../supervisor/worker-log';

const WALL_MS = Date.UTC(2025, 0, 15, 12, 0, 0);

describe('worker log files', () => {
  let root: string;
  let dir: string;
  const clock = new ManualClock(0, WALL_MS);

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-worker-log-'));
    dir = workerLogDir(root, 'wc-1-1736942400', 6700);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const line = (i: number): string => JSON.stringify({ level: 30, time: WALL_MS + i, msg: `line ${String(i).padStart(5, '0')}` });

  test('rotates past the size into at most filesMax files, newest first, no line split or lost', async () => {
    const log = new WorkerLogFile({ dir, fileBytesMax: 4096, filesMax: 3, clock, logger: silentLogger() });
    for (let i = 0; i < 400; i++) log.line(line(i), 'stderr');
    await log.close();
    expect(fs.readdirSync(dir).sort()).toEqual(['worker.log', 'worker.log.1', 'worker.log.2']);
    const texts = ['worker.log.2', 'worker.log.1', 'worker.log'].map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
    for (const t of texts.slice(0, 2)) expect(Buffer.byteLength(t)).toBeGreaterThan(4096 - 60);
    for (const t of texts) expect(Buffer.byteLength(t)).toBeLessThanOrEqual(4096);
    const all = texts.join('').trimEnd().split('\n');
    // the oldest files were deleted: what is left is the newest lines, in order, each whole
    const numbers = all.map((l) => Number(/line (\d+)/.exec((JSON.parse(l) as { msg: string }).msg)![1]));
    expect(numbers.at(-1)).toBe(399);
    expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, k) => 400 - numbers.length + k));
    expect(numbers.length).toBeLessThan(400);
  });

  test('a restarted worker appends to the same file; plain output is wrapped in a JSON line', async () => {
    const first = new WorkerLogFile({ dir, fileBytesMax: 1 << 20, filesMax: 2, clock, logger: silentLogger() });
    first.line(line(1), 'stderr');
    first.line('console.log from user code', 'stdout');
    await first.close();
    const second = new WorkerLogFile({ dir, fileBytesMax: 1 << 20, filesMax: 2, clock, logger: silentLogger() });
    second.line('Error: boom\n', 'stderr');
    await second.close();
    const lines = fs.readFileSync(path.join(dir, 'worker.log'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      { level: 30, time: WALL_MS + 1, msg: 'line 00001' },
      { level: 30, time: WALL_MS, stream: 'stdout', msg: 'console.log from user code' },
      { level: 40, time: WALL_MS, stream: 'stderr', msg: 'Error: boom\n' },
    ]);
  });

  test('a full queue drops the newest lines and says how many once it drains', async () => {
    const log = new WorkerLogFile({ dir, fileBytesMax: 1 << 20, filesMax: 2, clock, logger: silentLogger(), pendingBytesMax: 1000 });
    for (let i = 0; i < 100; i++) log.line(line(i), 'stderr'); // ~50 bytes each, all at once
    await log.flushed();
    log.line(line(100), 'stderr');
    await log.close();
    const lines = fs.readFileSync(path.join(dir, 'worker.log'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { msg: string });
    const dropped = lines.find((l) => l.msg.includes('log lines dropped'));
    expect(dropped).toBeDefined();
    const kept = lines.filter((l) => l.msg.startsWith('line ')).length;
    expect(kept + Number(/(\d+) log lines dropped/.exec(dropped!.msg)![1])).toBe(101);
    expect(lines.at(-1)!.msg).toBe('line 00100');
  });

  test('pages: the tail, whole lines only, older and newer pages that meet exactly', async () => {
    const log = new WorkerLogFile({ dir, fileBytesMax: 1 << 30, filesMax: 2, clock, logger: silentLogger() });
    for (let i = 0; i < 1000; i++) log.line(line(i), 'stderr');
    await log.close();
    const reader = new WorkerLogReader(root, dir, 2);
    const size = fs.statSync(path.join(dir, 'worker.log')).size;
    const tail = await reader.page(null, null, 1000);
    expect(tail.end).toBe(size);
    expect(tail.text.endsWith('line 00999"}\n')).toBe(true);
    expect(tail.text.startsWith('{')).toBe(true);
    expect(tail.end - tail.start).toBeLessThanOrEqual(1000);
    // walk the whole file forwards in small pages: every line exactly once
    const seen: string[] = [];
    for (let start = 0; start < size; ) {
      const p = await reader.page('worker.log', start, 777);
      expect(p.start).toBe(start);
      seen.push(...p.text.trimEnd().split('\n'));
      start = p.end;
    }
    expect(seen).toEqual(Array.from({ length: 1000 }, (_, i) => line(i)));
    // a start in the middle of a line begins at the next line
    const mid = await reader.page(null, 10, 200);
    expect(mid.start).toBe(Buffer.byteLength(line(0)) + 1);
    // past the end: empty, at the end
    expect(await reader.page(null, size + 100, 100)).toMatchObject({ start: size, end: size, text: '' });
    expect((await reader.files()).map((f) => f.name)).toEqual(['worker.log']);
  });

  test('search: matching lines with offsets, bounded scans that say where to go on', async () => {
    const log = new WorkerLogFile({ dir, fileBytesMax: 1 << 30, filesMax: 2, clock, logger: silentLogger() });
    for (let i = 0; i < 3000; i++) log.line(line(i), 'stderr');
    await log.close();
    const reader = new WorkerLogReader(root, dir, 2);
    const found = await reader.search(null, 'line 0012', 0, 5, false);
    expect(found.matches.map((m) => JSON.parse(m.line).msg)).toEqual(['line 00120', 'line 00121', 'line 00122', 'line 00123', 'line 00124']);
    const text = fs.readFileSync(path.join(dir, 'worker.log'));
    for (const m of found.matches) expect(text.subarray(m.offset, m.offset + m.line.length).toString()).toBe(m.line);
    const rest = await reader.search(null, 'line 0012', found.nextStart!, 100, false);
    expect(rest.matches.map((m) => JSON.parse(m.line).msg)).toEqual(['line 00125', 'line 00126', 'line 00127', 'line 00128', 'line 00129']);
    expect(rest.nextStart).toBeNull();
    expect((await reader.search(null, 'LINE 02999', 0, 10, true)).matches).toHaveLength(1);
    expect((await reader.search(null, 'LINE 02999', 0, 10, false)).matches).toHaveLength(0);
    expect(SEARCH_SCAN_BYTES_MAX).toBeGreaterThan(text.length);
  });

  test('only its own files: names, ids and links that lead elsewhere are refused', async () => {
    const log = new WorkerLogFile({ dir, fileBytesMax: 1 << 20, filesMax: 3, clock, logger: silentLogger() });
    log.line(line(0), 'stderr');
    await log.close();
    for (const id of ['..', '.', 'a/b', 'a\\b', '../etc', 'x\u0000y', '', 'a'.repeat(300), 'wc.1']) expect(isTopologyIdSafe(id)).toBe(false);
    expect(isTopologyIdSafe('word count-12-1736942400')).toBe(true);
    for (const name of ['worker.log.3', 'worker.log.0', '../worker.log', 'worker.log/..', 'x', 'worker.log.01', '.worker.log']) expect(isLogFileName(name, 3)).toBe(false);
    const reader = new WorkerLogReader(root, dir, 3);
    await expect(reader.page('../../../../etc/passwd', 0, 100)).rejects.toMatchObject({ code: 'ERR_LOG_NOT_FOUND' });
    expect(() => workerLogDir(root, '../..', 6700)).toThrow(expect.objectContaining({ code: 'ERR_LOG_NOT_FOUND' }));
    // a rotated name that is a link to another file is not followed
    const secret = path.join(root, 'secret.txt');
    fs.writeFileSync(secret, 'secret\n');
    fs.symlinkSync(secret, path.join(dir, 'worker.log.1'));
    await expect(reader.page('worker.log.1', 0, 100)).rejects.toMatchObject({ code: 'ERR_LOG_NOT_FOUND' });
    expect((await reader.files()).map((f) => f.name)).toEqual(['worker.log']);
    // a worker directory that is a link out of the logs root is not read at all
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-outside-'));
    try {
      fs.writeFileSync(path.join(outside, 'worker.log'), 'outside\n');
      fs.mkdirSync(path.join(root, 'evil-1-1'), { recursive: true });
      fs.symlinkSync(outside, path.join(root, 'evil-1-1', '6701'));
      const evil = new WorkerLogReader(root, workerLogDir(root, 'evil-1-1', 6701), 3);
      await expect(evil.page(null, 0, 100)).rejects.toMatchObject({ code: 'ERR_LOG_NOT_FOUND' });
      await expect(evil.files()).rejects.toMatchObject({ code: 'ERR_LOG_NOT_FOUND' });
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });
});
