import { problemsError } from './errors';
import { DEFAULT_STATE_PROVIDER, STATE_PROVIDERS, isStateProviderName, parseStateProviderConfig, stateProviderConfigProblems } from './state/provider-config';

/** A topology's configuration: Storm's key names, plain JSON values. */
export type TopologyConfig = Record<string, unknown>;

/** Storm's configuration keys that Squall understands, as constants (like Storm's `Config`). */
export const Config = {
  TOPOLOGY_NAME: 'topology.name',
  TOPOLOGY_WORKERS: 'topology.workers',
  TOPOLOGY_ACKER_EXECUTORS: 'topology.acker.executors',
  TOPOLOGY_MESSAGE_TIMEOUT_SECS: 'topology.message.timeout.secs',
  TOPOLOGY_ENABLE_MESSAGE_TIMEOUTS: 'topology.enable.message.timeouts',
  TOPOLOGY_MAX_SPOUT_PENDING: 'topology.max.spout.pending',
  TOPOLOGY_TICK_TUPLE_FREQ_SECS: 'topology.tick.tuple.freq.secs',
  TOPOLOGY_DEBUG: 'topology.debug',
  TOPOLOGY_EXECUTOR_RECEIVE_BUFFER_SIZE: 'topology.executor.receive.buffer.size',
  TOPOLOGY_TRANSFER_BATCH_SIZE: 'topology.transfer.batch.size',
  TOPOLOGY_TRANSFER_BUFFER_BYTES: 'topology.transfer.buffer.bytes',
  TOPOLOGY_WORKER_CHILDOPTS: 'topology.worker.childopts',
  TOPOLOGY_RANDOM_SEED: 'topology.random.seed',
  TOPOLOGY_MAX_TASK_PARALLELISM: 'topology.max.task.parallelism',
  TOPOLOGY_ERROR_HISTORY_SIZE: 'topology.error.history.size',
  TOPOLOGY_STATE_PROVIDER: 'topology.state.provider',
  TOPOLOGY_STATE_PROVIDER_CONFIG: 'topology.state.provider.config',
  TOPOLOGY_STATE_CHECKPOINT_INTERVAL: 'topology.state.checkpoint.interval.ms',
  TOPOLOGY_STATE_MAX_KEY_GROUPS: 'topology.state.max.key.groups',
  // Windowed bolts (Storm's keys; set by BaseWindowedBolt's builders in its component configuration)
  TOPOLOGY_BOLTS_WINDOW_LENGTH_COUNT: 'topology.bolts.window.length.count',
  TOPOLOGY_BOLTS_WINDOW_LENGTH_DURATION_MS: 'topology.bolts.window.length.duration.ms',
  TOPOLOGY_BOLTS_SLIDING_INTERVAL_COUNT: 'topology.bolts.window.sliding.interval.count',
  TOPOLOGY_BOLTS_SLIDING_INTERVAL_DURATION_MS: 'topology.bolts.window.sliding.interval.duration.ms',
  TOPOLOGY_BOLTS_TUPLE_TIMESTAMP_FIELD_NAME: 'topology.bolts.tuple.timestamp.field.name',
  TOPOLOGY_BOLTS_TUPLE_TIMESTAMP_MAX_LAG_MS: 'topology.bolts.tuple.timestamp.max.lag.ms',
  TOPOLOGY_BOLTS_WATERMARK_EVENT_INTERVAL_MS: 'topology.bolts.watermark.event.interval.ms',
  TOPOLOGY_BOLTS_LATE_TUPLE_STREAM: 'topology.bolts.late.tuple.stream',
  // Windowed bolts, beyond Storm (docs/windowing.md)
  TOPOLOGY_BOLTS_TUPLE_TIMESTAMP_EXTRACTOR: 'topology.bolts.tuple.timestamp.extractor',
  TOPOLOGY_BOLTS_WATERMARK_IDLE_TIMEOUT_MS: 'topology.bolts.watermark.idle.timeout.ms',
  TOPOLOGY_BOLTS_WINDOW_SESSION_GAP_MS: 'topology.bolts.window.session.gap.ms',
  TOPOLOGY_BOLTS_WINDOW_ALLOWED_LATENESS_MS: 'topology.bolts.window.allowed.lateness.ms',
  TOPOLOGY_BOLTS_WINDOW_KEY_FIELD: 'topology.bolts.window.key.field',
  TOPOLOGY_BOLTS_WINDOW_MAX_BUFFERED_TUPLES: 'topology.bolts.window.max.buffered.tuples',
  TOPOLOGY_BOLT_MAX_INFLIGHT: 'topology.bolt.max.inflight',
  TOPOLOGY_ASYNC_TIMEOUT_SECS: 'topology.async.timeout.secs',
  TOPOLOGY_BOLT_ASYNC_ORDERED: 'topology.bolt.async.ordered',
  TOPOLOGY_PROCESSING_GUARANTEE: 'topology.processing.guarantee',
  TOPOLOGY_STATE_CHECKPOINT_TIMEOUT_MS: 'topology.state.checkpoint.timeout.ms',
  TOPOLOGY_STATE_CHECKPOINT_ALIGNMENT_MAX_TUPLES: 'topology.state.checkpoint.alignment.max.tuples',
} as const;

/** `topology.processing.guarantee`: what a topology promises about each input (docs/state.md). */
export type ProcessingGuarantee = 'at-most-once' | 'at-least-once' | 'exactly-once';
export const PROCESSING_GUARANTEES: readonly ProcessingGuarantee[] = ['at-most-once', 'at-least-once', 'exactly-once'];

type Check = (value: unknown) => string | undefined;

export interface ConfigKeySpec {
  default: unknown;
  check: Check;
  /** May a component override it with `addConfiguration`? */
  component: boolean;
  doc: string;
}

const isInt = (min: number, max = Number.MAX_SAFE_INTEGER): Check => (v) =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? undefined : `must be an integer from ${min} to ${max}`;
const isPositiveNumber: Check = (v) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? undefined : 'must be a number > 0');
const isBool: Check = (v) => (typeof v === 'boolean' ? undefined : 'must be true or false');
const isString: Check = (v) => (typeof v === 'string' ? undefined : 'must be a string');
const oneOf = (values: readonly string[]): Check => (v) => (typeof v === 'string' && values.includes(v) ? undefined : `must be one of ${values.map((x) => `"${x}"`).join(', ')}`);
const nullable = (check: Check): Check => (v) => (v === null ? undefined : check(v));

/** Every `topology.*` key Squall knows, its default and its check. */
export const TOPOLOGY_CONFIG_SPEC: Readonly<Record<string, ConfigKeySpec>> = {
  [Config.TOPOLOGY_NAME]: { default: null, check: nullable(isString), component: false, doc: 'Set by submit' },
  [Config.TOPOLOGY_WORKERS]: { default: 1, check: isInt(1, 1024), component: false, doc: 'Worker processes for the topology' },
  [Config.TOPOLOGY_ACKER_EXECUTORS]: {
    default: null,
    check: nullable(isInt(0, 4096)),
    component: false,
    doc: 'Acker tasks; null means one per worker; 0 disables tracking (tuples are acked at once)',
  },
  [Config.TOPOLOGY_MESSAGE_TIMEOUT_SECS]: { default: 30, check: isPositiveNumber, component: false, doc: 'Seconds before an un-acked spout tuple fails' },
  [Config.TOPOLOGY_ENABLE_MESSAGE_TIMEOUTS]: { default: true, check: isBool, component: false, doc: 'Whether spout tuples time out at all' },
  [Config.TOPOLOGY_MAX_SPOUT_PENDING]: {
    default: null,
    check: nullable(isInt(1)),
    component: true,
    doc: 'Un-acked tuples allowed per spout task; null is unlimited',
  },
  [Config.TOPOLOGY_TICK_TUPLE_FREQ_SECS]: { default: null, check: nullable(isPositiveNumber), component: true, doc: 'Seconds between tick tuples; null is none' },
  [Config.TOPOLOGY_DEBUG]: { default: false, check: isBool, component: true, doc: 'Log every emitted tuple' },
  [Config.TOPOLOGY_EXECUTOR_RECEIVE_BUFFER_SIZE]: {
    default: 1024,
    check: isInt(2, 1 << 20),
    component: true,
    doc: 'Capacity of each executor inbox, in tuples',
  },
  [Config.TOPOLOGY_TRANSFER_BATCH_SIZE]: { default: 1024, check: isInt(1, 1 << 16), component: false, doc: 'Most tuples in one frame to another worker' },
  [Config.TOPOLOGY_TRANSFER_BUFFER_BYTES]: {
    default: 4 << 20,
    check: isInt(64 << 10, 256 << 20),
    component: false,
    doc: 'Unsent bytes per destination worker before emitters are parked',
  },
  [Config.TOPOLOGY_WORKER_CHILDOPTS]: { default: null, check: nullable(isString), component: false, doc: 'Extra node options for worker processes' },
  [Config.TOPOLOGY_RANDOM_SEED]: { default: null, check: nullable(isInt(0)), component: false, doc: 'Seed for shuffle and ids (tests); null is random' },
  [Config.TOPOLOGY_MAX_TASK_PARALLELISM]: { default: null, check: nullable(isInt(1)), component: false, doc: 'Caps every component parallelism' },
  [Config.TOPOLOGY_ERROR_HISTORY_SIZE]: { default: 10, check: isInt(1, 1000), component: false, doc: 'Errors kept per component' },
  [Config.TOPOLOGY_STATE_PROVIDER]: {
    default: DEFAULT_STATE_PROVIDER,
    check: (v) => (isStateProviderName(v) ? undefined : `must be one of ${STATE_PROVIDERS.join(', ')}`),
    component: false,
    doc: 'Backend of checkpointed state: memory, sqlite (embedded, durable, one machine) or redis (shared)',
  },
  [Config.TOPOLOGY_STATE_PROVIDER_CONFIG]: {
    default: null,
    check: (v) => {
      try {
        parseStateProviderConfig(v);
        return undefined;
      } catch {
        return 'must be an object or a JSON string of one';
      }
    },
    component: false,
    doc: "The provider's settings (object or JSON string); see docs/state.md",
  },
  [Config.TOPOLOGY_STATE_CHECKPOINT_INTERVAL]: { default: 1000, check: isInt(1, 86_400_000), component: false, doc: 'Milliseconds between checkpoints of stateful bolts' },
  [Config.TOPOLOGY_STATE_MAX_KEY_GROUPS]: {
    default: 128,
    check: isInt(1, 32768),
    component: false,
    doc: "Key groups keyed state is split into (Flink's maximum parallelism): the most tasks a stateful bolt can be rescaled to",
  },
  // Windowed bolts (docs/windowing.md). Set by BaseWindowedBolt's builders; null is "not set".
  [Config.TOPOLOGY_BOLTS_WINDOW_LENGTH_COUNT]: { default: null, check: nullable(isInt(1, 1 << 30)), component: true, doc: 'Window length in tuples' },
  [Config.TOPOLOGY_BOLTS_WINDOW_LENGTH_DURATION_MS]: { default: null, check: nullable(isInt(1)), component: true, doc: 'Window length in ms' },
  [Config.TOPOLOGY_BOLTS_SLIDING_INTERVAL_COUNT]: { default: null, check: nullable(isInt(1, 1 << 30)), component: true, doc: 'Slide in tuples (1 when neither slide is set)' },
  [Config.TOPOLOGY_BOLTS_SLIDING_INTERVAL_DURATION_MS]: { default: null, check: nullable(isInt(1)), component: true, doc: 'Slide in ms' },
  [Config.TOPOLOGY_BOLTS_TUPLE_TIMESTAMP_FIELD_NAME]: { default: null, check: nullable(isString), component: true, doc: 'Event time: the field holding each tuple\'s timestamp (ms)' },
  [Config.TOPOLOGY_BOLTS_TUPLE_TIMESTAMP_MAX_LAG_MS]: { default: null, check: nullable(isInt(0)), component: true, doc: 'Event time: how far out of order tuples may arrive (0 when not set)' },
  [Config.TOPOLOGY_BOLTS_WATERMARK_EVENT_INTERVAL_MS]: { default: null, check: nullable(isInt(1)), component: true, doc: 'Event time: period of progress markers from upstream tasks (1000 when not set)' },
  [Config.TOPOLOGY_BOLTS_LATE_TUPLE_STREAM]: { default: null, check: nullable(isString), component: true, doc: 'Stream that late tuples go to (field late_tuple); dropped and counted when not set' },
  [Config.TOPOLOGY_BOLTS_TUPLE_TIMESTAMP_EXTRACTOR]: { default: null, check: nullable(isBool), component: true, doc: 'Event time: the bolt has a timestamp extractor (set by withTimestampExtractor)' },
  [Config.TOPOLOGY_BOLTS_WATERMARK_IDLE_TIMEOUT_MS]: {
    default: null,
    check: nullable(isInt(0)),
    component: true,
    doc: 'Event time: an input with no data this long stops holding the watermark back (10000 when not set; 0 never)',
  },
  [Config.TOPOLOGY_BOLTS_WINDOW_SESSION_GAP_MS]: { default: null, check: nullable(isInt(1)), component: true, doc: 'Session windows: the gap of inactivity that closes a session' },
  [Config.TOPOLOGY_BOLTS_WINDOW_ALLOWED_LATENESS_MS]: { default: null, check: nullable(isInt(0)), component: true, doc: 'Event time: how long a fired window still accepts late tuples (0 when not set)' },
  [Config.TOPOLOGY_BOLTS_WINDOW_KEY_FIELD]: { default: null, check: nullable(isString), component: true, doc: 'Windows per key of this field' },
  [Config.TOPOLOGY_BOLTS_WINDOW_MAX_BUFFERED_TUPLES]: {
    default: null,
    check: nullable(isInt(1)),
    component: true,
    doc: 'Tuples a windowed task holds at most; past it new tuples are failed (1000000 when not set)',
  },
  [Config.TOPOLOGY_BOLT_MAX_INFLIGHT]: {
    default: 100,
    check: isInt(1, 1 << 20),
    component: true,
    doc: 'Unsettled execute promises per bolt task; at the limit the task takes no input (like a full inbox)',
  },
  [Config.TOPOLOGY_ASYNC_TIMEOUT_SECS]: {
    default: null,
    check: nullable(isPositiveNumber),
    component: true,
    doc: 'Seconds an execute (or nextTuple) promise may stay unsettled before its input fails; null is the message timeout',
  },
  [Config.TOPOLOGY_BOLT_ASYNC_ORDERED]: {
    default: false,
    check: isBool,
    component: true,
    doc: "Emit each input's output, ack and fail in input order (Flink's orderedWait), not as promises settle",
  },
  [Config.TOPOLOGY_PROCESSING_GUARANTEE]: {
    default: 'at-least-once',
    check: oneOf(PROCESSING_GUARANTEES),
    component: false,
    doc: 'at-most-once (no tracking), at-least-once (the acker) or exactly-once (checkpoint barriers + replayable spouts)',
  },
  [Config.TOPOLOGY_STATE_CHECKPOINT_TIMEOUT_MS]: {
    default: 30_000,
    check: isInt(100, 86_400_000),
    component: false,
    doc: 'A checkpoint not prepared by every task within this is aborted and the topology rolls back',
  },
  [Config.TOPOLOGY_STATE_CHECKPOINT_ALIGNMENT_MAX_TUPLES]: {
    default: 50_000,
    check: isInt(1, 1 << 24),
    component: true,
    doc: 'Tuples a task holds while aligning a checkpoint barrier; past this the checkpoint is aborted',
  },
};

function nearest(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const d = editDistance(key, c);
    if (d < bestScore) {
      bestScore = d;
      best = c;
    }
  }
  return bestScore <= 3 ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

/**
 * Lists every problem in a topology (or component) configuration. Keys outside `topology.*` are
 * the user's own and pass through, as in Storm; an unknown `topology.*` key is most likely a typo
 * and is refused.
 */
export function topologyConfigProblems(conf: TopologyConfig, scope: 'topology' | 'component' = 'topology'): string[] {
  const problems: string[] = [];
  if (typeof conf !== 'object' || conf === null || Array.isArray(conf)) return ['configuration must be an object'];
  const known = Object.keys(TOPOLOGY_CONFIG_SPEC);
  for (const [key, value] of Object.entries(conf)) {
    const spec = TOPOLOGY_CONFIG_SPEC[key];
    if (!spec) {
      if (key.startsWith('topology.')) {
        const hint = nearest(key, known);
        problems.push(`unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
      }
      continue;
    }
    if (scope === 'component' && !spec.component) {
      problems.push(`"${key}" cannot be set per component`);
      continue;
    }
    const why = spec.check(value);
    if (why) problems.push(`"${key}" ${why} (got ${JSON.stringify(value)})`);
  }
  if (scope === 'topology' && Config.TOPOLOGY_STATE_PROVIDER_CONFIG in conf) {
    const provider = conf[Config.TOPOLOGY_STATE_PROVIDER] ?? DEFAULT_STATE_PROVIDER;
    problems.push(...stateProviderConfigProblems(provider, conf[Config.TOPOLOGY_STATE_PROVIDER_CONFIG]));
  }
  return problems;
}

/** Validates once and returns a frozen copy with every default filled in. */
export function resolveTopologyConfig(...layers: TopologyConfig[]): Readonly<TopologyConfig> {
  const merged: TopologyConfig = {};
  for (const layer of layers) Object.assign(merged, layer);
  const problems = topologyConfigProblems(merged);
  if (problems.length > 0) throw problemsError('ERR_CONFIG_INVALID', 'topology configuration', problems);
  const out: TopologyConfig = {};
  for (const [key, spec] of Object.entries(TOPOLOGY_CONFIG_SPEC)) out[key] = spec.default;
  Object.assign(out, merged);
  return Object.freeze(out);
}
