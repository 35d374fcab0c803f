import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { WorkerStartSpec, WorkerToSupervisor } from '../../../common/protocol/ipc';
import { ProcessLauncher, type WorkerHandle } from '../../../supervisor/launcher';
import { LINE_CHARS_MAX } from '../../../supervisor/line-forwarder';
import { alive, FAKE_WORKER } from './harness';

const NOISY = path.resolve(__dirname, '../../fixtures/supervisor/noisy-worker.js');

function spec(config: Record<string, unknown> = {}): WorkerStartSpec {
  return {
    topologyId: 'noisy-1',
    supervisorId: 's',
    host: '127.0.0.1',
    port: 6700,
    bundlePath: '/nope.js',
    bundleHash: 'ab'.repeat(32),
    definition: { spouts: {}, bolts: {} },
    config,
    componentExecutors: {},
    linkSecret: 'ff',
    assignment: { v: 1, topologyId: 'noisy-1', executors: [], nodeHost: {}, workerStartMs: {}, seq: 1 },
    active: true,
    logLevel: 'silent',
    heartbeatMs: 50,
    frameMaxBytes: 1 << 20,
  };
}

/** Launches and collects every event until the exit. */
function runWorker(launcher: ProcessLauncher, s: WorkerStartSpec): { handle: WorkerHandle; done: Promise<{ messages: WorkerToSupervisor[]; exits: Array<[number | null, string | null]> }> } {
  const messages: WorkerToSupervisor[] = [];
  const exits: Array<[number | null, string | null]> = [];
  let handle!: WorkerHandle;
  const done = new Promise<{ messages: WorkerToSupervisor[]; exits: typeof exits }>((resolve) => {
    handle = launcher.launch(s, {
      onMessage: (m) => messages.push(m),
      onExit: (code, signal) => {
        exits.push([code, signal]);
        // one more turn: a second onExit would show up here
        setImmediate(() => resolve({ messages, exits }));
      },
    });
  });
  return { handle, done };
}

describe('ProcessLauncher', () => {
  const pids: number[] = [];
  afterEach(() => {
    for (const pid of pids.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });

  test('sends start first, keeps messages sent just before exit, drops malformed ones, forwards output lines', async () => {
    const lines: Array<{ stream: string; msg: string }> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as { stream: string; msg: string });
        cb();
      },
    });
    const launcher = new ProcessLauncher({ workerMainPath: NOISY, output: 'log', logger: pino({ level: 'info' }, sink) });
    const { handle, done } = runWorker(launcher, spec());
    pids.push(handle.pid as number);
    const { messages, exits } = await done;
    expect(messages).toEqual([
      { type: 'ready', pid: handle.pid },
      { type: 'fatal', code: 'ERR_TEST', message: 'about to exit' },
    ]);
    expect(exits).toEqual([[7, null]]);
    const out = lines.filter((l) => l.stream);
    expect(out.map((l) => [l.stream, l.msg.slice(0, 40)])).toEqual(
      expect.arrayContaining([
        ['stdout', 'first message: start for noisy-1'],
        ['stderr', 'a warning on stderr'],
        ['stdout', 'unterminated last line'],
      ]),
    );
    const long = out.filter((l) => l.msg.startsWith('xxx'));
    expect(long.map((l) => l.msg)).toEqual([`${'x'.repeat(LINE_CHARS_MAX)}… (line cut)`]); // the head only, once
    expect(lines.some((l) => !l.stream && /malformed/.test(l.msg))).toBe(true);
    // a worker that is gone: both are no-ops
    handle.send({ type: 'shutdown' });
    handle.kill('SIGKILL');
  });

  test("'file' output: every line the worker printed, to its log file, JSON lines as they are and the rest wrapped", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-launcher-logs-'));
    try {
      const launcher = new ProcessLauncher({ workerMainPath: NOISY, output: 'file', logs: { root, fileBytesMax: 1 << 20, filesMax: 2 }, logger: pino({ level: 'silent' }) });
      const { handle, done } = runWorker(launcher, spec());
      pids.push(handle.pid as number);
      expect((await done).exits).toEqual([[7, null]]);
      const file = path.join(root, 'noisy-1', '6700', 'worker.log');
      // the last, unterminated line is written once the pipes have ended (bounded)
      const deadline = performance.now() + 5000;
      while (!(fs.existsSync(file) && fs.readFileSync(file, 'utf8').includes('unterminated last line')) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { stream: string; msg: string; level: number });
      expect(lines.map((l) => [l.stream, l.level, l.msg.slice(0, 40)])).toEqual(
        expect.arrayContaining([
          ['stdout', 30, 'first message: start for noisy-1'],
          ['stderr', 40, 'a warning on stderr'],
          ['stdout', 30, 'unterminated last line'],
        ]),
      );
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('SIGTERM stops a worker; exit is reported once with the signal or code', async () => {
    const launcher = new ProcessLauncher({ workerMainPath: FAKE_WORKER });
    const { handle, done } = runWorker(launcher, spec({ 'fake.worker.mode': 'no-ready' }));
    pids.push(handle.pid as number);
    handle.kill('SIGTERM');
    const { exits } = await done;
    expect(exits).toHaveLength(1);
    expect(alive(handle.pid as number)).toBe(false);
  });

  test('SIGKILL ends a worker that ignores SIGTERM', async () => {
    const launcher = new ProcessLauncher({ workerMainPath: FAKE_WORKER });
    const { handle, done } = runWorker(launcher, spec({ 'fake.worker.mode': 'ignore-sigterm' }));
    pids.push(handle.pid as number);
    handle.kill('SIGKILL');
    expect((await done).exits).toEqual([[null, 'SIGKILL']]);
  });

  test('a missing worker entry point exits with code 1 before any message', async () => {
    const launcher = new ProcessLauncher({ workerMainPath: path.join(__dirname, 'no-such-worker.js'), output: 'log', logger: pino({ level: 'silent' }) });
    const { handle, done } = runWorker(launcher, spec());
    pids.push(handle.pid as number);
    expect(await done).toEqual({ messages: [], exits: [[1, null]] });
  });

  test('bad childopts fail the launch synchronously with a coded error', () => {
    const launcher = new ProcessLauncher({ workerMainPath: FAKE_WORKER });
    expect(() => launcher.launch(spec({ 'topology.worker.childopts': "--title 'open" }), { onMessage: () => undefined, onExit: () => undefined })).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
    );
  });
});
