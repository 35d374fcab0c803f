/**
 * Worker logs over HTTP (127.0.0.1, port 0): a supervisor's log server on real files, and Nimbus
 * reading them through it (in-memory cluster state, manual clock, fake bundle probe). Hostile
 * inputs never reach another file; a huge log is served in capped pages; the token is required
 * wherever Nimbus has one.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ManualClock } from '../../../common/clock';
import { ClusterState } from '../../../common/cluster-state/cluster-state';
import { MemoryStateServer, type MemoryStateStore } from '../../../common/cluster-state/memory-store';
import { resolveDaemonConfig } from '../../../common/config';
import { silentLogger } from '../../../common/logging';
import type { LogPage, LogSearchResult } from '../../../common/protocol/rest';
import { startNimbus, type RunningNimbus } from '../../../nimbus/main';
import { logsRootOf, workerLogDir } from '../../../supervisor/log-files';
import { PAGE_BYTES_MAX } from '../../../supervisor/log-reader';
import { startLogviewer, type RunningLogviewer } from '../../../supervisor/logviewer';
import { FakeProbe, fakeBundle, WALL_ORIGIN_MS } from '../../unit/nimbus/harness';

const TOKEN = 'logs-token';
const auth = { Authorization: `Bearer ${TOKEN}` };
const TOPOLOGY = 'wc-1-1700000000';

interface Body {
  code?: string;
  error?: string;
}

async function get<T = Body>(url: string, headers: Record<string, string> = auth): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: (await res.json()) as T };
}

describe('worker logs over HTTP', () => {
  let dir: string;
  let logviewer: RunningLogviewer;
  let lv: string;
  const lines = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ level: i % 100 === 0 ? 50 : 30, time: WALL_ORIGIN_MS + i, msg: `event ${i}` }));

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-logviewer-'));
    const local = path.join(dir, 'sup');
    const logDir = workerLogDir(logsRootOf(local), TOPOLOGY, 6700);
    fs.mkdirSync(logDir, { recursive: true });
    fs.writeFileSync(path.join(logDir, 'worker.log'), lines.join('\n') + '\n');
    fs.writeFileSync(path.join(logDir, 'worker.log.1'), 'older\n');
    // a huge file: 3 MiB of lines (pages are capped at 1 MiB)
    const hugeDir = workerLogDir(logsRootOf(local), TOPOLOGY, 6701);
    fs.mkdirSync(hugeDir, { recursive: true });
    fs.writeFileSync(path.join(hugeDir, 'worker.log'), `${'x'.repeat(1023)}\n`.repeat(3 * 1024));
    fs.writeFileSync(path.join(dir, 'secret.txt'), 'do not read me\n');
    fs.writeFileSync(path.join(logsRootOf(local), 'stray.log'), 'not a worker log\n');
    // links out of the logs root: a log file linked to the secret, a port directory linked outside
    const linkedFileDir = workerLogDir(logsRootOf(local), TOPOLOGY, 6702);
    fs.mkdirSync(linkedFileDir, { recursive: true });
    fs.symlinkSync(path.join(dir, 'secret.txt'), path.join(linkedFileDir, 'worker.log'));
    fs.symlinkSync(path.join(dir, 'secret.txt'), path.join(linkedFileDir, 'worker.log.1'));
    const outside = path.join(dir, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'worker.log'), 'do not read me either\n');
    fs.symlinkSync(outside, workerLogDir(logsRootOf(local), TOPOLOGY, 6703));
    logviewer = await startLogviewer(resolveDaemonConfig({ 'storm.local.dir': local, 'nimbus.auth.token': TOKEN, 'worker.log.max.files': 3 }), silentLogger());
    lv = `http://127.0.0.1:${logviewer.port}/api/v1/logs`;
  });

  afterAll(async () => {
    await logviewer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the log server: files, the tail, pages, search', async () => {
    const files = await get<{ files: Array<{ name: string }> }>(`${lv}/${TOPOLOGY}/6700`);
    expect(files.body.files.map((f) => f.name)).toEqual(['worker.log', 'worker.log.1']);
    const tail = await get<LogPage>(`${lv}/${TOPOLOGY}/6700/page?length=200`);
    expect(tail.status).toBe(200);
    expect(tail.body.text.trimEnd().split('\n').at(-1)).toBe(lines[1999]);
    const first = await get<LogPage>(`${lv}/${TOPOLOGY}/6700/page?start=0&length=100`);
    expect(first.body.text).toBe(`${lines[0]}\n${lines[1]}\n`);
    const older = await get<LogPage>(`${lv}/${TOPOLOGY}/6700/page?file=worker.log.1&start=0`);
    expect(older.body.text).toBe('older\n');
    const found = await get<LogSearchResult>(`${lv}/${TOPOLOGY}/6700/search?q=%22level%22%3A50&limit=3`);
    expect(found.body.matches.map((m) => m.line)).toEqual([lines[0], lines[100], lines[200]]);
    expect(found.body.nextStart).toBe(found.body.matches[2].offset + Buffer.byteLength(lines[200]) + 1);
  });

  test('a huge log is served in capped pages', async () => {
    const size = 3 * 1024 * 1024;
    const page = await get<LogPage>(`${lv}/${TOPOLOGY}/6701/page?start=0&length=1000000000`);
    expect(page.status).toBe(200);
    expect(page.body.size).toBe(size);
    expect(page.body.end - page.body.start).toBeLessThanOrEqual(PAGE_BYTES_MAX);
    expect(page.body.end).toBe(PAGE_BYTES_MAX);
    const tail = await get<LogPage>(`${lv}/${TOPOLOGY}/6701/page`);
    expect(tail.body.end).toBe(size);
    expect(tail.body.end - tail.body.start).toBeLessThanOrEqual(64 * 1024);
  });

  test('hostile paths, names and parameters never reach another file', async () => {
    const refused = [
      `${lv}/..%2f..%2f..%2fsecret.txt/6700`,
      `${lv}/%2e%2e/6700/page`,
      `${lv}/..%2F..%2F/6700/page?file=secret.txt`,
      `${lv}/${TOPOLOGY}/6700/page?file=..%2F..%2F..%2F..%2Fsecret.txt`,
      `${lv}/${TOPOLOGY}/6700/page?file=%2Fetc%2Fpasswd`,
      `${lv}/${TOPOLOGY}/6700/page?file=worker.log.3`,
      `${lv}/${TOPOLOGY}/6700/page?file=worker.log%00`,
      `${lv}/${TOPOLOGY}/6700/page?file=stray.log`,
      `${lv}/${TOPOLOGY}/6700/search?q=do&file=..%2F..%2F..%2Fsecret.txt`,
      `${lv}/${encodeURIComponent('../..')}/6700/page`,
      `${lv}/${encodeURIComponent('wc-1-1700000000/../..')}/6700/page`,
      `${lv}/${TOPOLOGY}/6702/page`,
      `${lv}/${TOPOLOGY}/6702/page?file=worker.log.1`,
      `${lv}/${TOPOLOGY}/6702/search?q=do`,
      `${lv}/${TOPOLOGY}/6703/page`,
      `${lv}/${TOPOLOGY}/6703/search?q=do`,
      `${lv}/${TOPOLOGY}/99999/page`,
      `${lv}/${TOPOLOGY}/6799/page`,
    ];
    for (const url of refused) {
      const res = await get(url);
      expect([url, res.status, res.body.code]).toEqual([url, 404, expect.stringMatching(/^ERR_(LOG|ROUTE)_NOT_FOUND$/)]);
      expect(JSON.stringify(res.body)).not.toContain('do not read me');
      expect(JSON.stringify(res.body)).not.toContain(dir);
    }
    // URL-level dot segments are resolved by the URL itself: they cannot climb out of /api/v1/logs
    expect((await get(`${lv}/${TOPOLOGY}/6700/../../../../secret.txt`)).status).toBe(404);
    for (const q of ['start=-1', 'start=1e3', 'length=abc', 'limit=0x10', 'q=', `q=${'a'.repeat(300)}`]) {
      const what = q.startsWith('q') ? 'search?' : q.startsWith('limit') ? 'search?q=x&' : 'page?';
      const res = await get(`${lv}/${TOPOLOGY}/6700/${what}${q}`);
      expect([q, res.status, res.body.code]).toEqual([q, 400, 'ERR_BODY_INVALID']);
    }
  });

  test('the log server needs the token and only answers GET', async () => {
    expect((await get(`${lv}/${TOPOLOGY}/6700`, {})).body.code).toBe('ERR_UNAUTHORIZED');
    expect((await get(`${lv}/${TOPOLOGY}/6700`, { Authorization: 'Bearer nope' })).status).toBe(401);
    const post = await fetch(`${lv}/${TOPOLOGY}/6700/page`, { method: 'POST', headers: auth });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET']);
  });

  test('the log server refuses to listen beyond loopback without a token', async () => {
    await expect(startLogviewer(resolveDaemonConfig({ 'logviewer.bind.host': '0.0.0.0' }), silentLogger())).rejects.toMatchObject({ code: 'ERR_INSECURE_LISTEN' });
  });

  describe('through Nimbus', () => {
    let nimbus: RunningNimbus;
    let sessions: MemoryStateStore[];
    let url: string;

    beforeAll(async () => {
      const server = new MemoryStateServer();
      sessions = [server.connect(), server.connect(), server.connect()];
      const clock = new ManualClock(0, WALL_ORIGIN_MS);
      const sup = new ClusterState(sessions[1]);
      await sup.registerSupervisor({ v: 1, id: 's1', host: '127.0.0.1', ports: [6700, 6701], usedPorts: [], startTimeMs: WALL_ORIGIN_MS, timeMs: WALL_ORIGIN_MS, version: '0.1.0', logviewerPort: logviewer.port });
      await new ClusterState(sessions[2]).registerSupervisor({ v: 1, id: 's2', host: '10.9.9.9', ports: [6700], usedPorts: [], startTimeMs: WALL_ORIGIN_MS, timeMs: WALL_ORIGIN_MS, version: '0.1.0' });
      nimbus = await startNimbus(
        { 'storm.local.dir': path.join(dir, 'nimbus'), 'nimbus.port': 0, 'nimbus.auth.token': TOKEN },
        { clusterState: new ClusterState(sessions[0]), clock, probe: new FakeProbe(), logger: silentLogger() },
      );
      url = `${nimbus.url}/api/v1`;
      // ids are <name>-<counter>-<launch secs>: on this manual clock, the one the files are under
      const res = await fetch(`${url}/topologies?name=wc`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/javascript' }, body: fakeBundle() });
      expect(((await res.json()) as { id: string }).id).toBe(TOPOLOGY);
    });

    afterAll(async () => {
      await nimbus.close();
      for (const s of sessions) await s.close();
    });

    test('pages and searches by topology name and host:port, with the token', async () => {
      const page = await get<LogPage>(`${url}/topology/wc/log/127.0.0.1/6700?start=0&length=100`);
      expect(page.status).toBe(200);
      expect(page.body).toMatchObject({ topologyId: TOPOLOGY, host: '127.0.0.1', port: 6700, file: 'worker.log', start: 0, text: `${lines[0]}\n${lines[1]}\n` });
      const found = await get<LogSearchResult>(`${url}/topology/${TOPOLOGY}/log/127.0.0.1/6700/search?q=EVENT%201999&ignoreCase=true`);
      expect(found.body.matches.map((m) => m.line)).toEqual([lines[1999]]);
      expect((await get(`${url}/topology/wc/log/127.0.0.1/6700`, {})).body.code).toBe('ERR_UNAUTHORIZED');
    });

    test('unknown slots, topologies, files and supervisors without a log server are coded errors', async () => {
      expect(await get(`${url}/topology/wc/log/127.0.0.1/6799`)).toMatchObject({ status: 404, body: { code: 'ERR_LOG_NOT_FOUND' } });
      expect(await get(`${url}/topology/wc/log/127.0.0.1/0`)).toMatchObject({ status: 404, body: { code: 'ERR_LOG_NOT_FOUND' } });
      expect(await get(`${url}/topology/nope/log/127.0.0.1/6700`)).toMatchObject({ status: 404, body: { code: 'ERR_TOPOLOGY_NOT_FOUND' } });
      const bad = await get(`${url}/topology/wc/log/127.0.0.1/6700?file=..%2F..%2Fsecret.txt`);
      expect(bad).toMatchObject({ status: 404, body: { code: 'ERR_LOG_NOT_FOUND' } });
      expect(bad.body.error).not.toMatch(/Worker log not found: Worker log not found/);
      expect(await get(`${url}/topology/wc/log/10.9.9.9/6700`)).toMatchObject({ status: 503, body: { code: 'ERR_LOG_UNAVAILABLE' } });
      expect(await get(`${url}/topology/wc/log/127.0.0.1/6700/search?q=`)).toMatchObject({ status: 400, body: { code: 'ERR_BODY_INVALID' } });
    });
  });
});
