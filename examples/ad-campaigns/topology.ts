/**
 * The Yahoo Streaming Benchmark pipeline on Squall: ad events from a Redis stream (Redis Streams
 * spout, one consumer group) → keep views → project (ad id, event time) → join each ad to its
 * campaign (a Redis hash, cached) → count per campaign in 10 s event-time tumbling windows →
 * write each window's count to Redis (a hash per window, and an entry on the `ad-windows` stream).
 *
 * Needs a Redis (AD_REDIS_URL, default redis://127.0.0.1:6379); a generator component writes
 * AD_RATE events/s (default 1000; 0: none, e.g. when `npm run bench` runs its own); windows are
 * AD_WINDOW_MS long (default 10000):
 *
 *   redis-server --port 6379 --save '' &
 *   npx squall local examples/ad-campaigns/topology.ts
 *   redis-cli hgetall "window:<campaign id>:<window start>"     # or: redis-cli xrange ad-windows - +
 */
import { TopologyBuilder, type Tuple } from 'squall';
import { RedisSinkBolt, RedisStreamSpout } from 'squall/connectors/redis';
import { AdEventGenerator, adEventScheme, CampaignJoin, Projection, ViewFilter, windowCount } from './components';

export interface AdCampaignOptions {
  url: string;
  stream: string;
  /** Events/s of the built-in generator; 0 for none. */
  rate: number;
  spouts?: number;
  /** Parallelism of filter, projection and join. */
  workers?: number;
  windowMs?: number;
  lagMs?: number;
  watermarkMs?: number;
  /** Where window results are appended (one entry per campaign and window). */
  resultStream?: string;
}

export function buildAdCampaigns(o: AdCampaignOptions): TopologyBuilder {
  const b = new TopologyBuilder();
  const n = o.workers ?? 1;
  if (o.rate > 0) b.setSpout('generator', () => new AdEventGenerator(o.url, o.stream, o.rate), 1);
  // pollLingerMs: a read that came back short waits 2 ms before the next, so a steady stream is
  // read ~300 entries at a time instead of ~75 (at 300k events/s: a quarter of the XREADGROUPs,
  // ~12% of a core less in this process and ~7% less in Redis); nothing next to 10 s windows
  b.setSpout('events', () => new RedisStreamSpout({ url: o.url, stream: o.stream, group: 'ad-campaigns', start: '$', payloadField: 'e', scheme: adEventScheme(), pollBatch: 500, pollLingerMs: 2 }), o.spouts ?? 1);
  b.setBolt('filter', ViewFilter, n).localOrShuffleGrouping('events');
  b.setBolt('project', Projection, n).localOrShuffleGrouping('filter');
  b.setBolt('join', () => new CampaignJoin(o.url), n).localOrShuffleGrouping('project');
  b.setBolt('window', () => windowCount(o.windowMs ?? 10_000, o.lagMs ?? 100, o.watermarkMs ?? 100), 1).fieldsGrouping('join', ['campaign_id']);
  b.setBolt('store', () => new RedisSinkBolt({ url: o.url, write: { command: 'hset', key: (t: Tuple) => `window:${t.getStringByField('campaign_id')}:${t.getValueByField('window_start')}`, fields: ['count', 'window_end'] }, batchSize: 100, flushIntervalMs: 5 }), 1).shuffleGrouping('window');
  b.setBolt('results', () => new RedisSinkBolt({ url: o.url, write: { command: 'xadd', stream: o.resultStream ?? 'ad-windows', fields: ['campaign_id', 'window_end', 'count'], maxLen: 100_000 }, batchSize: 100, flushIntervalMs: 5 }), 1).shuffleGrouping('window');
  return b;
}

export const config = {
  'topology.max.spout.pending': 5000,
  // windows hold their tuples' trees until they fire: longer than a window plus its lag
  'topology.message.timeout.secs': 30,
};

export default function adCampaigns(): TopologyBuilder {
  const env = process.env;
  return buildAdCampaigns({
    url: env.AD_REDIS_URL ?? 'redis://127.0.0.1:6379',
    stream: env.AD_STREAM ?? 'ad-events',
    rate: env.AD_RATE !== undefined ? Number(env.AD_RATE) : 1000,
    windowMs: env.AD_WINDOW_MS !== undefined ? Number(env.AD_WINDOW_MS) : 10_000,
  });
}
