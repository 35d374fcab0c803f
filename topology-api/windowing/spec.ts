import { Config, type TopologyConfig } from '../config';

/** Defaults of the windowing keys left unset (the spec's defaults are null: "not set"). */
export const WINDOW_DEFAULTS = Object.freeze({
  lagMs: 0,
  watermarkIntervalMs: 1000,
  idleTimeoutMs: 10_000,
  allowedLatenessMs: 0,
  maxBufferedTuples: 1_000_000,
});

/** A windowed bolt's settings, read from its component configuration (plain data). */
export interface WindowSpec {
  /** Sliding (tumbling when the slide equals the length) or session. */
  kind: 'sliding' | 'session';
  lengthCount: number | null;
  lengthMs: number | null;
  slideCount: number | null;
  slideMs: number | null;
  gapMs: number | null;
  eventTime: boolean;
  timestampField: string | null;
  lagMs: number;
  watermarkIntervalMs: number;
  /** Infinity: an input never counts as idle. */
  idleTimeoutMs: number;
  lateStream: string | null;
  allowedLatenessMs: number;
  keyField: string | null;
  maxBufferedTuples: number;
}

const num = (conf: TopologyConfig, key: string): number | null => (typeof conf[key] === 'number' ? (conf[key] as number) : null);
const str = (conf: TopologyConfig, key: string): string | null => (typeof conf[key] === 'string' ? (conf[key] as string) : null);

/** Whether a component configuration describes a windowed bolt. */
export function isWindowedConfig(conf: TopologyConfig): boolean {
  return (
    num(conf, Config.TOPOLOGY_BOLTS_WINDOW_LENGTH_COUNT) !== null ||
    num(conf, Config.TOPOLOGY_BOLTS_WINDOW_LENGTH_DURATION_MS) !== null ||
    num(conf, Config.TOPOLOGY_BOLTS_WINDOW_SESSION_GAP_MS) !== null
  );
}

/** Reads a windowed bolt's settings; call `windowSpecProblems` first (this assumes them valid). */
export function windowSpec(conf: TopologyConfig): WindowSpec {
  const gapMs = num(conf, Config.TOPOLOGY_BOLTS_WINDOW_SESSION_GAP_MS);
  const lengthCount = num(conf, Config.TOPOLOGY_BOLTS_WINDOW_LENGTH_COUNT);
  const lengthMs = num(conf, Config.TOPOLOGY_BOLTS_WINDOW_LENGTH_DURATION_MS);
  let slideCount = num(conf, Config.TOPOLOGY_BOLTS_SLIDING_INTERVAL_COUNT);
  const slideMs = num(conf, Config.TOPOLOGY_BOLTS_SLIDING_INTERVAL_DURATION_MS);
  const session = gapMs !== null && lengthCount === null && lengthMs === null;
  if (!session && slideCount === null && slideMs === null) slideCount = 1; // Storm: slides on every tuple
  const timestampField = str(conf, Config.TOPOLOGY_BOLTS_TUPLE_TIMESTAMP_FIELD_NAME);
  const idle = num(conf, Config.TOPOLOGY_BOLTS_WATERMARK_IDLE_TIMEOUT_MS) ?? WINDOW_DEFAULTS.idleTimeoutMs;
  return {
    kind: session ? 'session' : 'sliding',
    lengthCount: session ? null : lengthCount,
    lengthMs: session ? null : lengthMs,
    slideCount: session ? null : slideCount,
    slideMs: session ? null : slideMs,
    gapMs: session ? gapMs : null,
    eventTime: timestampField !== null || conf[Config.TOPOLOGY_BOLTS_TUPLE_TIMESTAMP_EXTRACTOR] === true,
    timestampField,
    lagMs: num(conf, Config.TOPOLOGY_BOLTS_TUPLE_TIMESTAMP_MAX_LAG_MS) ?? WINDOW_DEFAULTS.lagMs,
    watermarkIntervalMs: num(conf, Config.TOPOLOGY_BOLTS_WATERMARK_EVENT_INTERVAL_MS) ?? WINDOW_DEFAULTS.watermarkIntervalMs,
    idleTimeoutMs: idle === 0 ? Infinity : idle,
    lateStream: str(conf, Config.TOPOLOGY_BOLTS_LATE_TUPLE_STREAM),
    allowedLatenessMs: num(conf, Config.TOPOLOGY_BOLTS_WINDOW_ALLOWED_LATENESS_MS) ?? WINDOW_DEFAULTS.allowedLatenessMs,
    keyField: str(conf, Config.TOPOLOGY_BOLTS_WINDOW_KEY_FIELD),
    maxBufferedTuples: num(conf, Config.TOPOLOGY_BOLTS_WINDOW_MAX_BUFFERED_TUPLES) ?? WINDOW_DEFAULTS.maxBufferedTuples,
  };
}

/**
 * Combinations the value checks of TOPOLOGY_CONFIG_SPEC cannot see: two lengths, a slide without a
 * length, a slide longer than its window, lateness without event time. Empty when valid or when
 * the component is not windowed.
 */
export function windowSpecProblems(conf: TopologyConfig): string[] {
  const problems: string[] = [];
  const lengthCount = num(conf, Config.TOPOLOGY_BOLTS_WINDOW_LENGTH_COUNT);
  const lengthMs = num(conf, Config.TOPOLOGY_BOLTS_WINDOW_LENGTH_DURATION_MS);
  const slideCount = num(conf, Config.TOPOLOGY_BOLTS_SLIDING_INTERVAL_COUNT);
  const slideMs = num(conf, Config.TOPOLOGY_BOLTS_SLIDING_INTERVAL_DURATION_MS);
  const gapMs = num(conf, Config.TOPOLOGY_BOLTS_WINDOW_SESSION_GAP_MS);
  const windowed = lengthCount !== null || lengthMs !== null || gapMs !== null;
  if (!windowed) {
    if (slideCount !== null || slideMs !== null) problems.push('a sliding interval is set without a window length');
    return problems;
  }
  if (lengthCount !== null && lengthMs !== null) problems.push('the window length is set both as a count and as a duration');
  if (slideCount !== null && slideMs !== null) problems.push('the sliding interval is set both as a count and as a duration');
  if (gapMs !== null && (lengthCount !== null || lengthMs !== null)) problems.push('a session window has no window length (set one or the other)');
  if (lengthCount !== null && slideCount !== null && slideCount > lengthCount) problems.push(`the sliding interval (${slideCount} tuples) is longer than the window (${lengthCount})`);
  if (lengthMs !== null && slideMs !== null && slideMs > lengthMs) problems.push(`the sliding interval (${slideMs} ms) is longer than the window (${lengthMs} ms)`);
  const spec = windowSpec(conf);
  if (!spec.eventTime) {
    if (spec.allowedLatenessMs > 0) problems.push('allowed lateness needs event time (withTimestampField or withTimestampExtractor)');
    if (spec.lateStream !== null) problems.push('a late tuple stream needs event time (withTimestampField or withTimestampExtractor)');
  }
  if (spec.allowedLatenessMs > 0 && spec.kind === 'sliding' && (lengthCount !== null || slideCount !== null)) {
    problems.push('allowed lateness needs windows measured in time (a Duration length and slide) or sessions');
  }
  return problems;
}
