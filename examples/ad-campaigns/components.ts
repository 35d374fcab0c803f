/**
 * The stages of the Yahoo Streaming Benchmark as Squall components: deserialize (the spout's
 * scheme), filter views, project, join each ad to its campaign (a lookup table in Redis, cached),
 * count per campaign in 10 s event-time tumbling windows, write the counts to Redis. And a
 * generator, so the example runs with one command.
 */
import Redis from 'ioredis';
import {
  Aggregates,
  BaseBasicBolt,
  BaseRichBolt,
  BaseRichSpout,
  BaseWindowedBolt,
  Duration,
  type BasicOutputCollector,
  type OutputCollector,
  type OutputFieldsDeclarer,
  type SpoutOutputCollector,
  type TopologyConfig,
  type TopologyContext,
  type Tuple,
  type WindowInfo,
} from 'squall';
import type { Scheme } from 'squall/connectors/redis';
import { adCatalog, EVENT_FIELDS, EventMaker } from './events';

/** The Redis hash of ad id → campaign id. */
export const ADS_KEY = 'ads';

/** Deserialize: an entry's JSON into the event's seven fields (undecodable JSON is dead-lettered by the spout). */
export function adEventScheme(): Scheme {
  return {
    fields: [...EVENT_FIELDS],
    decode(payload: unknown): unknown[] {
      const e = JSON.parse(payload as string) as Record<string, unknown>;
      return [e.user_id, e.page_id, e.ad_id, e.ad_type, e.event_type, e.event_time, e.ip_address];
    },
  };
}

/** Keeps views (Yahoo's EventFilterBolt). */
export class ViewFilter extends BaseBasicBolt {
  private eventType = -1;
  execute(input: Tuple, collector: BasicOutputCollector): void {
    if (this.eventType < 0) this.eventType = input.fieldIndex('event_type');
    if (input.getValue(this.eventType) === 'view') collector.emit(input.getValues() as unknown[]);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare([...EVENT_FIELDS]);
  }
}

/** Keeps ad id and event time (Yahoo's EventProjectionBolt). */
export class Projection extends BaseBasicBolt {
  execute(input: Tuple, collector: BasicOutputCollector): void {
    collector.emit([input.getValueByField('ad_id'), input.getValueByField('event_time')]);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['ad_id', 'event_time']);
  }
}

/**
 * Joins an ad to its campaign (Yahoo's RedisJoinBolt) through a local cache of the Redis hash:
 * a hit is answered synchronously; a miss is an async lookup (the only time execute returns a
 * promise), after which the ad is cached for good (ads do not change campaigns).
 */
export class CampaignJoin extends BaseRichBolt {
  private collector!: OutputCollector;
  private redis: Redis | null = null;
  private readonly cache = new Map<string, string>();

  constructor(private readonly url: string) {
    super();
  }

  prepare(_conf: Readonly<TopologyConfig>, _ctx: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
    this.redis = new Redis(this.url, { lazyConnect: false, maxRetriesPerRequest: 2 });
    this.redis.on('error', () => undefined);
  }

  execute(input: Tuple): void | Promise<void> {
    const ad = input.getString(0);
    const campaign = this.cache.get(ad);
    if (campaign !== undefined) {
      this.collector.emit([campaign, ad, input.getValue(1)], input);
      this.collector.ack(input);
      return;
    }
    return this.lookup(ad, input);
  }

  private async lookup(ad: string, input: Tuple): Promise<void> {
    const campaign = await this.redis!.hget(ADS_KEY, ad);
    if (campaign === null) {
      this.collector.ack(input); // an ad of no campaign: dropped, as in Yahoo's benchmark
      return;
    }
    this.cache.set(ad, campaign);
    this.collector.emit([campaign, ad, input.getValue(1)], input);
    this.collector.ack(input);
  }

  cleanup(): void {
    this.redis?.disconnect();
  }

  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['campaign_id', 'ad_id', 'event_time']);
  }
}

/** Counts views per campaign in event-time tumbling windows (Yahoo's CampaignProcessor). */
export class CampaignWindowCount extends BaseWindowedBolt {
  private collector!: OutputCollector;
  prepare(_conf: Readonly<TopologyConfig>, _ctx: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
  }
  executeAggregate(campaign: unknown, count: unknown, window: WindowInfo): void {
    this.collector.emit([campaign, window.getStartTimestamp(), window.getEndTimestamp(), count]);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['campaign_id', 'window_start', 'window_end', 'count']);
  }
}

export function windowCount(windowMs: number, lagMs: number, watermarkMs: number): CampaignWindowCount {
  return new CampaignWindowCount()
    .withTumblingWindow(Duration.of(windowMs))
    .withTimestampField('event_time')
    .withLag(Duration.of(lagMs))
    .withWatermarkInterval(Duration.of(watermarkMs))
    .withKeyField('campaign_id')
    .withAggregate(Aggregates.count());
}

/**
 * Writes `rate` ad events per second to the stream (pipelined XADDs every 10 ms) and the ad →
 * campaign table, so `squall local` needs nothing but a Redis. Emits no tuples. The benchmark runs
 * its generator as a separate process instead.
 */
export class AdEventGenerator extends BaseRichSpout {
  private redis: Redis | null = null;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private carry = 0;
  private last = 0;

  constructor(
    private readonly url: string,
    private readonly stream: string,
    private readonly rate: number,
    private readonly maxLen = 1_000_000,
  ) {
    super();
  }

  open(_conf: Readonly<TopologyConfig>, _ctx: TopologyContext, _collector: SpoutOutputCollector): void {
    const catalog = adCatalog();
    const maker = new EventMaker(catalog, 11 + _ctx.getThisTaskIndex());
    const redis = new Redis(this.url, { maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    this.redis = redis;
    void redis.hset(ADS_KEY, catalog.campaignOf).catch(() => undefined);
    this.last = performance.now();
    this.timer = setInterval(() => {
      if (this.busy) return; // Redis is behind: skip a tick rather than pile up commands
      const now = performance.now();
      this.carry += ((now - this.last) * this.rate) / 1000;
      this.last = now;
      const n = Math.floor(this.carry);
      if (n === 0) return;
      this.carry -= n;
      const p = redis.pipeline();
      const t = Date.now();
      for (let i = 0; i < n; i++) p.xadd(this.stream, 'MAXLEN', '~', this.maxLen, '*', 'e', maker.next(t));
      this.busy = true;
      p.exec()
        .catch(() => undefined)
        .finally(() => (this.busy = false));
    }, 10);
  }

  nextTuple(): void {}

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.redis?.disconnect();
  }

  declareOutputFields(_d: OutputFieldsDeclarer): void {}
}
