/**
 * The Yahoo benchmark's load generator and latency probe, in a process of its own (forked by the
 * ad-campaigns scenario, so it does not share the topology's event loop):
 *
 * - writes ad events at a fixed rate to the Redis stream (pipelined XADDs; every 5 ms it writes
 *   what the schedule owes, so the rate holds whatever the pipeline's latency), counting the views
 *   it wrote per campaign and 10 s window (the expected counts);
 * - reads the topology's window results (an entry per campaign and window on the results stream)
 *   with a blocking XREAD, so it sees each the moment it is written: latency = arrival − window end
 *   (event time is this process's wall clock, the same clock as the arrival's).
 *
 * It answers over IPC with the rate it achieved, the latencies, and expected vs. counted views.
 */
import type Redis from 'ioredis';
import { adCatalog, EventMaker } from '../../examples/ad-campaigns/events';
import { benchRedis } from './raw';
import { respCommand, RespWriter } from './resp-writer';

export interface GeneratorArgs {
  url: string;
  stream: string;
  resultStream: string;
  rate: number;
  durationMs: number;
  windowMs: number;
  /** How long to keep reading results after the last event (the last windows to fire). */
  drainMs: number;
}

export interface GeneratorReport {
  written: number;
  achievedRate: number;
  firstEventMs: number;
  lastEventMs: number;
  /** Window end → count in Redis, per result that arrived (ms). */
  latencies: Array<{ windowEnd: number; ms: number }>;
  /** Per `campaign|windowStart`: views written, and the count the topology wrote (last one seen). */
  expected: Record<string, number>;
  counted: Record<string, number>;
  /** Entries the consumer group had not read when generation stopped. */
  lagAtEnd: number;
}

const TICK_MS = 5;
/** Most events in one pipeline: bounds the generator's memory when Redis falls behind. */
const CHUNK_MAX = 20_000;
/** Events made up front and cycled through, each stamped with the time it is written. */
const POOL = 1 << 16;
/** Digits of an event time in ms (13 until the year 2286): the pre-encoded lengths count on it. */
const TIME_DIGITS = 13;

/**
 * The events as RESP bytes, made once: event i is `bytes[start[i], start[i + 1])`, an XADD with
 * 13 digits of event time at `timeAt[i]`, stamped when the event is written. Yahoo's generator
 * picks each event's ids from short pre-made lists as this does; making and encoding them once
 * instead of per event keeps the generator from taking the CPU the topology and Redis need (it
 * used 76% of a core at 184k events/s building each command as a string).
 */
export class EventPool {
  readonly bytes: Buffer;
  readonly start: Int32Array;
  readonly timeAt: Int32Array;
  /** The campaign index of a view event, -1 for other types (the expected counts). */
  readonly viewOf: Int32Array;
  readonly campaigns: string[];

  constructor(
    stream: string,
    readonly size = POOL,
  ) {
    const catalog = adCatalog();
    const campaignIndex = new Map(catalog.campaigns.map((c, i) => [c, i]));
    const maker = new EventMaker(catalog);
    this.campaigns = catalog.campaigns;
    this.viewOf = new Int32Array(size);
    this.start = new Int32Array(size + 1);
    this.timeAt = new Int32Array(size);
    // the command's first 7 arguments; the 8th, the event, follows per event
    const command = respCommand(['XADD', stream, 'MAXLEN', '~', '2000000', '*', 'e']).replace('*7\r\n', '*8\r\n');
    const parts: string[] = [];
    let offset = 0;
    for (let i = 0; i < size; i++) {
      const [before, after] = maker.nextParts();
      // ASCII throughout (ids, types, digits): one byte per character
      const head = `${command}$${before.length + TIME_DIGITS + after.length}\r\n${before}`;
      const event = `${head}${'0'.repeat(TIME_DIGITS)}${after}\r\n`;
      this.start[i] = offset;
      this.timeAt[i] = offset + head.length;
      offset += event.length;
      parts.push(event);
      this.viewOf[i] = maker.lastType === 'view' ? campaignIndex.get(catalog.campaignOf[maker.lastAd])! : -1;
    }
    this.start[size] = offset;
    this.bytes = Buffer.from(parts.join(''), 'latin1');
  }

  /** Stamps events [from, to) with `time` (TIME_DIGITS ASCII digits) and returns their commands. */
  stamp(from: number, to: number, time: Buffer): Buffer {
    for (let i = from; i < to; i++) time.copy(this.bytes, this.timeAt[i]);
    return this.bytes.subarray(this.start[from], this.start[to]);
  }
}

async function generate(redis: RespWriter, a: GeneratorArgs, expected: Record<string, number>): Promise<{ written: number; first: number; last: number }> {
  const pool = new EventPool(a.stream);
  const views = new Int32Array(pool.campaigns.length);
  const t0 = performance.now();
  let written = 0;
  let first = 0;
  let last = 0;
  let next = 0;
  while (performance.now() - t0 < a.durationMs) {
    // a chunk is a run of the pool (it wraps in the next chunk); the pool's bytes are stamped in
    // place, which is safe because the previous chunk's replies have all come back
    const owed = Math.min(CHUNK_MAX, pool.size - next, Math.floor(((performance.now() - t0) * a.rate) / 1000) - written);
    if (owed <= 0) {
      await new Promise((r) => setTimeout(r, TICK_MS));
      continue;
    }
    const now = Date.now();
    if (first === 0) first = now;
    last = now;
    const time = Buffer.from(String(now), 'latin1');
    if (time.length !== TIME_DIGITS) throw new Error(`event time ${now} is not ${TIME_DIGITS} digits`);
    views.fill(0);
    for (let i = next; i < next + owed; i++) {
      const v = pool.viewOf[i];
      if (v >= 0) views[v]++;
    }
    const window = now - (now % a.windowMs);
    for (let c = 0; c < views.length; c++) {
      if (views[c] === 0) continue;
      const k = `${pool.campaigns[c]}|${window}`;
      expected[k] = (expected[k] ?? 0) + views[c];
    }
    await redis.send(pool.stamp(next, next + owed, time), owed);
    next = (next + owed) % pool.size;
    written += owed;
  }
  return { written, first, last };
}

async function probe(redis: Redis, a: GeneratorArgs, until: () => boolean, out: GeneratorReport): Promise<void> {
  let id = '$';
  while (!until()) {
    const reply = (await redis.xread('COUNT', 1000, 'BLOCK', 200, 'STREAMS', a.resultStream, id)) as Array<[string, Array<[string, string[]]>]> | null;
    const arrived = Date.now();
    if (reply === null) continue;
    for (const [eid, fields] of reply[0][1]) {
      id = eid;
      const f: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) f[fields[i]] = fields[i + 1];
      const end = Number(f.window_end);
      out.latencies.push({ windowEnd: end, ms: arrived - end });
      out.counted[`${f.campaign_id}|${end - a.windowMs}`] = Number(f.count);
    }
  }
}

async function main(a: GeneratorArgs): Promise<GeneratorReport> {
  const writer = benchRedis(a.url);
  const reader = benchRedis(a.url);
  const u = new URL(a.url);
  const resp = await RespWriter.connect(Number(u.port), u.hostname);
  const report: GeneratorReport = { written: 0, achievedRate: 0, firstEventMs: 0, lastEventMs: 0, latencies: [], expected: {}, counted: {}, lagAtEnd: NaN };
  let stopAt = Infinity;
  const probing = probe(reader, a, () => Date.now() > stopAt, report);
  const t0 = performance.now();
  const g = await generate(resp, a, report.expected);
  resp.close();
  report.achievedRate = (g.written / (performance.now() - t0)) * 1000;
  report.written = g.written;
  report.firstEventMs = g.first;
  report.lastEventMs = g.last;
  const groups = (await writer.xinfo('GROUPS', a.stream).catch(() => [])) as unknown[][];
  const lag = groups[0] ? Number(groups[0][groups[0].indexOf('lag') + 1]) : NaN;
  report.lagAtEnd = lag;
  stopAt = Date.now() + a.drainMs;
  await probing;
  writer.disconnect();
  reader.disconnect();
  return report;
}

if (require.main === module) {
  const args = JSON.parse(process.argv[2]) as GeneratorArgs;
  main(args).then(
    (r) => process.send!({ ok: true, report: r }, () => process.exit(0)),
    (err: unknown) => process.send!({ ok: false, error: String(err) }, () => process.exit(1)),
  );
}
