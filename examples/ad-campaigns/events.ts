/**
 * The Yahoo Streaming Benchmark's data: ad events as JSON (user id, page id, ad id, ad type, event
 * type, event time, IP), 100 campaigns of 10 ads each, 100 users and 100 pages, as in
 * yahoo/streaming-benchmarks' data generator. Deterministic from a seed.
 */

export const EVENT_TYPES = ['view', 'click', 'purchase'] as const;
export const AD_TYPES = ['banner', 'modal', 'sponsored-search', 'mail', 'mobile'] as const;
export const EVENT_FIELDS = ['user_id', 'page_id', 'ad_id', 'ad_type', 'event_type', 'event_time', 'ip_address'] as const;

export interface AdEvent {
  user_id: string;
  page_id: string;
  ad_id: string;
  ad_type: string;
  event_type: string;
  event_time: number;
  ip_address: string;
}

/** A small seeded generator (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uuid(r: () => number): string {
  const hex = (n: number): string => Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join('');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${hex(4)}-${hex(12)}`;
}

export interface AdCatalog {
  campaigns: string[];
  ads: string[];
  /** ad id → campaign id: the lookup table the topology joins against (a Redis hash). */
  campaignOf: Record<string, string>;
}

export function adCatalog(campaigns = 100, adsPerCampaign = 10, seed = 7): AdCatalog {
  const r = rng(seed);
  const out: AdCatalog = { campaigns: [], ads: [], campaignOf: {} };
  for (let c = 0; c < campaigns; c++) {
    const campaign = uuid(r);
    out.campaigns.push(campaign);
    for (let a = 0; a < adsPerCampaign; a++) {
      const ad = uuid(r);
      out.ads.push(ad);
      out.campaignOf[ad] = campaign;
    }
  }
  return out;
}

/** Makes event JSON: one string per event, with the given event time. */
export class EventMaker {
  private readonly r: () => number;
  private readonly users: string[];
  private readonly pages: string[];

  constructor(
    private readonly catalog: AdCatalog,
    seed = 11,
  ) {
    this.r = rng(seed);
    this.users = Array.from({ length: 100 }, () => uuid(this.r));
    this.pages = Array.from({ length: 100 }, () => uuid(this.r));
  }

  /** The ad and event type of the last event made (the benchmark counts the views it wrote). */
  lastAd = '';
  lastType = '';

  next(eventTimeMs: number): string {
    const [before, after] = this.nextParts();
    return before + eventTimeMs + after;
  }

  /** The next event's JSON in two parts, to be joined around an event time (`before + time + after`). */
  nextParts(): [string, string] {
    const r = this.r;
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    const ip = `${1 + Math.floor(r() * 254)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${1 + Math.floor(r() * 254)}`;
    this.lastAd = pick(this.catalog.ads);
    this.lastType = pick(EVENT_TYPES);
    return [`{"user_id":"${pick(this.users)}","page_id":"${pick(this.pages)}","ad_id":"${this.lastAd}","ad_type":"${pick(AD_TYPES)}","event_type":"${this.lastType}","event_time":`, `,"ip_address":"${ip}"}`];
  }
}
