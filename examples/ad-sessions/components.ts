/**
 * Ad sessions: per-user session windows over ad views and clicks in event time. Users browse in
 * bursts; a session closes after 30 s (event time) without an event from that user. For each
 * session and ad the session bolt emits views, clicks and click-through rate; events that arrive
 * too late for their session go to a late stream, which is counted and printed.
 */
import {
  BaseBasicBolt,
  BaseRichSpout,
  BaseWindowedBolt,
  Duration,
  TupleUtils,
  type Aggregate,
  type BasicOutputCollector,
  type OutputCollector,
  type OutputFieldsDeclarer,
  type SpoutOutputCollector,
  type TopologyConfig,
  type TopologyContext,
  type Tuple,
  type WindowInfo,
} from 'squall';
import { seeded } from '../rolling-top-words/components';

export type AdEvent = [userId: string, adId: string, kind: 'view' | 'click', timestamp: number];

export interface AdEventOptions {
  seed?: number;
  users?: number;
  ads?: number;
  /** Event time between two consecutive events (ms). */
  stepMs?: number;
  /** Events are emitted up to this far (event time) out of order. */
  disorderMs?: number;
  /** Share of events whose timestamp is far behind (late: after their session closed). */
  lateShare?: number;
  /** Event time of the first event (ms since the epoch). */
  startMs?: number;
}

/**
 * The event stream, in the order it is emitted: `n` events with event time advancing `stepMs`
 * per event; each user is active for a 40 s stretch then quiet for 80 s (offset per user), views
 * and about one click in eight views, on a skewed choice of ads. Emission order shuffles events
 * within `disorderMs` (out of order, within the bolt's lag), and `lateShare` of them carry a
 * timestamp two minutes behind: late.
 */
export function adEvents(n: number, o: AdEventOptions = {}): AdEvent[] {
  const random = seeded(o.seed ?? 3);
  const users = o.users ?? 40;
  const ads = o.ads ?? 8;
  const step = o.stepMs ?? 50;
  const start = o.startMs ?? Date.UTC(2024, 0, 1);
  const disorder = o.disorderMs ?? 2000;
  const lateShare = o.lateShare ?? 0.01;
  const out: Array<{ e: AdEvent; key: number }> = [];
  for (let i = 0; i < n; i++) {
    const ts = start + i * step;
    // users active now: each is active 40 s out of every 120 s, at its own offset
    let user = Math.floor(random() * users);
    for (let tries = 0; tries < users && ((ts - start) / 1000 + user * 7) % 120 >= 40; tries++) user = (user + 1) % users;
    const ad = Math.min(ads - 1, Math.floor(Math.pow(random(), 1.6) * ads));
    const kind = random() < 1 / 9 ? 'click' : 'view';
    const late = random() < lateShare;
    out.push({ e: [`user-${user}`, `ad-${ad}`, kind, late ? ts - 120_000 : ts], key: ts + random() * disorder });
  }
  out.sort((a, b) => a.key - b.key);
  return out.map((x) => x.e);
}

export interface AdSpoutOptions extends AdEventOptions {
  /** Events to emit in all (default 200,000, then the spout is quiet). */
  limit?: number;
  /** Events per second (0: as fast as allowed). */
  rate?: number;
  /** After the events, one from user "flush" an hour later: its watermark closes every session. */
  flush?: boolean;
}

/** Emits `adEvents` as [userId, adId, kind, timestamp] with message ids, paced to `rate`. */
export class AdEventSpout extends BaseRichSpout {
  private collector!: SpoutOutputCollector;
  private events: AdEvent[] = [];
  private next = 0;
  private startMs = 0;
  constructor(private readonly options: AdSpoutOptions = {}) {
    super();
  }
  open(_c: Readonly<TopologyConfig>, _ctx: TopologyContext, collector: SpoutOutputCollector): void {
    this.collector = collector;
    this.events = adEvents(this.options.limit ?? 200_000, this.options);
    if (this.options.flush && this.events.length > 0) this.events.push(['flush', 'ad-0', 'view', Math.max(...this.events.map((e) => e[3])) + 3_600_000]);
    this.startMs = performance.now();
  }
  nextTuple(): void {
    if (this.next >= this.events.length) return;
    const rate = this.options.rate ?? 0;
    if (rate > 0 && this.next >= ((performance.now() - this.startMs) * rate) / 1000) return;
    const i = this.next++;
    this.collector.emit(this.events[i], i);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['userId', 'adId', 'kind', 'timestamp']);
  }
}

/** Views and clicks per ad within one session. */
export type AdCounts = Record<string, { views: number; clicks: number }>;

/** The session's accumulator: one entry per ad, merged when two sessions of a user merge. */
export const adCounts: Aggregate<AdCounts, AdCounts> = {
  create: () => ({}),
  add: (acc, t) => {
    const ad = t.getStringByField('adId');
    const c = (acc[ad] ??= { views: 0, clicks: 0 });
    if (t.getStringByField('kind') === 'click') c.clicks++;
    else c.views++;
    return acc;
  },
  merge: (a, b) => {
    for (const [ad, c] of Object.entries(b)) {
      const into = (a[ad] ??= { views: 0, clicks: 0 });
      into.views += c.views;
      into.clicks += c.clicks;
    }
    return a;
  },
  result: (acc) => acc,
};

/**
 * Per-user sessions (30 s gap) in event time, 5 s of lag; for each ad of a closed session emits
 * [userId, adId, views, clicks, ctr, sessionStart, sessionEnd]. Late events go to stream "late".
 */
export class AdSessionBolt extends BaseWindowedBolt {
  private collector!: OutputCollector;
  constructor(gapSecs = 30, lagSecs = 5) {
    super();
    this.withSessionWindow(Duration.seconds(gapSecs))
      .withKeyField('userId')
      .withTimestampField('timestamp')
      .withLag(Duration.seconds(lagSecs))
      .withLateTupleStream('late')
      .withAggregate(adCounts);
  }
  prepare(_c: Readonly<TopologyConfig>, _ctx: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
  }
  executeAggregate(userId: unknown, perAd: unknown, w: WindowInfo): void {
    for (const [ad, c] of Object.entries(perAd as AdCounts)) {
      const ctr = c.views > 0 ? c.clicks / c.views : 0;
      this.collector.emit([userId, ad, c.views, c.clicks, ctr, w.getStartTimestamp(), w.getEndTimestamp()]);
    }
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['userId', 'adId', 'views', 'clicks', 'ctr', 'sessionStart', 'sessionEnd']);
  }
}

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** Totals over closed sessions, printed every few seconds: sessions, and the ads by click-through rate. */
export class SessionReportBolt extends BaseBasicBolt {
  readonly perAd = new Map<string, { views: number; clicks: number }>();
  readonly sessions = new Set<string>();
  constructor(
    private readonly everySecs = 5,
    private readonly out: (line: string) => void = print,
  ) {
    super();
  }
  execute(t: Tuple, _c: BasicOutputCollector): void {
    if (TupleUtils.isTick(t)) {
      if (this.perAd.size === 0) return;
      const ads = [...this.perAd].sort((a, b) => b[1].clicks / b[1].views - a[1].clicks / a[1].views);
      const top = ads.slice(0, 4).map(([ad, c]) => `${ad} ${((100 * c.clicks) / c.views).toFixed(1)}% (${c.clicks}/${c.views})`);
      this.out(`sessions closed: ${this.sessions.size}; ads by click-through rate: ${top.join(', ')}`);
      return;
    }
    this.sessions.add(`${t.getStringByField('userId')}@${t.getIntegerByField('sessionStart')}`);
    const ad = t.getStringByField('adId');
    const c = this.perAd.get(ad) ?? { views: 0, clicks: 0 };
    c.views += t.getIntegerByField('views');
    c.clicks += t.getIntegerByField('clicks');
    this.perAd.set(ad, c);
  }
  getComponentConfiguration(): TopologyConfig {
    return { 'topology.tick.tuple.freq.secs': this.everySecs };
  }
}

/** Counts the late events and prints the count every few seconds when it changed. */
export class LateCounterBolt extends BaseBasicBolt {
  late = 0;
  private printed = 0;
  constructor(
    private readonly everySecs = 5,
    private readonly out: (line: string) => void = print,
  ) {
    super();
  }
  execute(t: Tuple, _c: BasicOutputCollector): void {
    if (!TupleUtils.isTick(t)) this.late++;
    else if (this.late !== this.printed) {
      this.printed = this.late;
      this.out(`late events (after their session closed): ${this.late}`);
    }
  }
  getComponentConfiguration(): TopologyConfig {
    return { 'topology.tick.tuple.freq.secs': this.everySecs };
  }
}
