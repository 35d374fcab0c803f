/**
 * The Yahoo Streaming Benchmark example (examples/ad-campaigns) as a newcomer runs it: one
 * `squall local` command against a real redis-server, its own generator writing ad events. Every
 * window count it wrote must equal the views in the event stream for that campaign and window,
 * recounted here from the stream itself.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type Redis from 'ioredis';
import { startRedis, type RedisServer } from '../../../bench/servers/redis';
import { redisClient } from './redis-helpers';

jest.setTimeout(90_000);

const WINDOW_MS = 2000;

describe('examples/ad-campaigns', () => {
  let server: RedisServer;
  let client: Redis;

  beforeAll(async () => {
    server = await startRedis();
    client = redisClient(server.port);
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.stop();
  });

  it('runs with one command; every window it counted equals the views in the stream', async () => {
    const root = path.resolve(__dirname, '../../..');
    if (!fs.existsSync(path.join(root, 'dist/cli/main.js'))) throw new Error('dist/ is not built: run `node scripts/build.js` (npm test does)');
    const env = { ...process.env, AD_REDIS_URL: server.url, AD_RATE: '2000', AD_WINDOW_MS: String(WINDOW_MS) };
    const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
      execFile(process.execPath, [path.join(root, 'bin/squall.js'), 'local', 'examples/ad-campaigns/topology.ts', '--duration', '12', '--no-progress'], { cwd: root, env, timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      );
    });
    expect(run).toMatchObject({ code: 0 });

    // what the generator wrote, recounted: views per campaign and window
    const campaignOf = await client.hgetall('ads');
    const events = (await client.xrange('ad-events', '-', '+')) as Array<[string, string[]]>;
    expect(events.length).toBeGreaterThan(5000);
    const views = new Map<string, number>();
    let first = Infinity;
    for (const [, fields] of events) {
      const e = JSON.parse(fields[1]) as { ad_id: string; event_type: string; event_time: number };
      first = Math.min(first, e.event_time);
      if (e.event_type !== 'view') continue;
      const k = `${campaignOf[e.ad_id]}|${e.event_time - (e.event_time % WINDOW_MS)}`;
      views.set(k, (views.get(k) ?? 0) + 1);
    }

    // what the topology wrote: an entry per campaign and window on ad-windows, and a hash each
    const results = (await client.xrange('ad-windows', '-', '+')) as Array<[string, string[]]>;
    const counted = new Map<string, number>();
    for (const [, fields] of results) {
      const f: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) f[fields[i]] = fields[i + 1];
      counted.set(`${f.campaign_id}|${Number(f.window_end) - WINDOW_MS}`, Number(f.count));
    }
    // events written before the spout created its group (at '$') are not read: skip the windows
    // that could hold them
    const from = first - (first % WINDOW_MS) + 2 * WINDOW_MS;
    const checked = [...counted].filter(([k]) => Number(k.split('|')[1]) >= from);
    expect(checked.length).toBeGreaterThan(50); // 100 campaigns, several windows
    for (const [k, n] of checked) expect([k, n]).toEqual([k, views.get(k)]);
    const [campaign, start] = checked[0][0].split('|');
    expect(await client.hget(`window:${campaign}:${start}`, 'count')).toBe(String(checked[0][1]));
  });
});
