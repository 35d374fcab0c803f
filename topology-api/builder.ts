import { BasicBoltExecutor } from './basic-bolt-executor';
import { Config, topologyConfigProblems, type TopologyConfig } from './config';
import { isBasicBolt, OutputFieldsGetter, type CustomStreamGrouping, type IBasicBolt, type IBolt, type IComponent, type ISpout } from './components';
import { DEFAULT_STREAM_ID } from './constants';
import { type ComponentDefinition, type GroupingSpec, type TopologyDefinition, topologyProblems } from './definition';
import { problemsError } from './errors';
import { Fields, toFields } from './fields';
import { cloneComponent } from './clone';
import { isWindowedBolt, isWindowedBoltHolder, WindowedBoltHolder, type IWindowedBolt } from './windowing/windowed-bolt';
import { isWindowedConfig } from './windowing/spec';
import { isStatefulComponent } from './guarantees';
import { isReplayableSpout } from './state/replayable-spout';

/** A spout instance, its class, or a function returning a fresh one. */
export type SpoutSource = ISpout | (new () => ISpout) | (() => ISpout);
/** A bolt (rich, basic or windowed) instance, its class, or a function returning a fresh one. */
export type BoltSource = IBolt | IBasicBolt | IWindowedBolt | (new () => IBolt | IBasicBolt | IWindowedBolt) | (() => IBolt | IBasicBolt | IWindowedBolt);

/** Makes one fresh component per task: user code lives here, not in the definition. */
export interface ComponentFactories {
  spouts: Record<string, () => ISpout>;
  bolts: Record<string, () => IBolt>;
  /** Custom groupings by `bolt|component|stream`. */
  groupings: Record<string, () => CustomStreamGrouping>;
}

export const TOPOLOGY_MARK = 'squall.topology';

/** What `createTopology()` returns: the plain definition plus the factories for each task. */
export interface StormTopology {
  readonly [TOPOLOGY_MARK]: true;
  readonly definition: TopologyDefinition;
  readonly factories: ComponentFactories;
  /** Topology-level defaults from `TopologyBuilder.addConfiguration`; submit-time config wins. */
  readonly config: Readonly<TopologyConfig>;
}

export function isStormTopology(value: unknown): value is StormTopology {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>)[TOPOLOGY_MARK] === true;
}

export function groupingKey(boltId: string, componentId: string, streamId: string): string {
  return `${boltId}|${componentId}|${streamId}`;
}

function isClass(fn: unknown): fn is new () => unknown {
  return typeof fn === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

/** One fresh component per call: Storm gives every task its own deserialized copy; we deep-clone. */
function toFactory<T>(source: T | (new () => T) | (() => T)): () => T {
  if (isClass(source)) return () => new source() as T;
  if (typeof source === 'function') return source as () => T;
  return () => cloneComponent(source as T);
}

interface ComponentSpec {
  kind: 'spout' | 'bolt';
  factory: () => ISpout | IBolt;
  parallelism: number;
  numTasks: number | null;
  config: TopologyConfig;
  inputs: Array<{ component: string; stream: string; grouping: GroupingSpec; custom?: () => CustomStreamGrouping }>;
}

/** Settings shared by spout and bolt declarers (Storm's `ComponentConfigurationDeclarer`). */
class ComponentDeclarer<T> {
  constructor(protected readonly spec: ComponentSpec) {}

  setNumTasks(n: number): T {
    this.spec.numTasks = n;
    return this as unknown as T;
  }
  addConfiguration(key: string, value: unknown): T {
    this.spec.config[key] = value;
    return this as unknown as T;
  }
  addConfigurations(conf: TopologyConfig): T {
    Object.assign(this.spec.config, conf);
    return this as unknown as T;
  }
  setMaxSpoutPending(n: number): T {
    return this.addConfiguration(Config.TOPOLOGY_MAX_SPOUT_PENDING, n);
  }
  setDebug(debug: boolean): T {
    return this.addConfiguration(Config.TOPOLOGY_DEBUG, debug);
  }
  /** `topology.async.timeout.secs`: how long an execute (bolt) or nextTuple (spout) promise may stay unsettled. */
  setAsyncTimeoutSecs(secs: number): T {
    return this.addConfiguration(Config.TOPOLOGY_ASYNC_TIMEOUT_SECS, secs);
  }
}

export class SpoutDeclarer extends ComponentDeclarer<SpoutDeclarer> {}

/** Storm's `BoltDeclarer`: each grouping takes an optional stream id (default stream otherwise). */
export class BoltDeclarer extends ComponentDeclarer<BoltDeclarer> {
  /** `topology.bolt.max.inflight`: unsettled execute promises per task before the task takes no more input. */
  setMaxInflight(n: number): BoltDeclarer {
    return this.addConfiguration(Config.TOPOLOGY_BOLT_MAX_INFLIGHT, n);
  }
  /** `topology.bolt.async.ordered`: each input's emits, ack and fail leave in input order (Flink's orderedWait). */
  setAsyncOrdered(ordered = true): BoltDeclarer {
    return this.addConfiguration(Config.TOPOLOGY_BOLT_ASYNC_ORDERED, ordered);
  }
  private subscribe(component: string, stream: string | undefined, grouping: GroupingSpec, custom?: () => CustomStreamGrouping): BoltDeclarer {
    this.spec.inputs.push({ component, stream: stream ?? DEFAULT_STREAM_ID, grouping, custom });
    return this;
  }
  shuffleGrouping(componentId: string, streamId?: string): BoltDeclarer {
    return this.subscribe(componentId, streamId, { type: 'shuffle' });
  }
  /** `fieldsGrouping(component, fields)` or `fieldsGrouping(component, stream, fields)`. */
  fieldsGrouping(componentId: string, streamOrFields: string | Fields | readonly string[], fields?: Fields | readonly string[]): BoltDeclarer {
    const [stream, f] = typeof streamOrFields === 'string' ? [streamOrFields, fields] : [undefined, streamOrFields];
    return this.subscribe(componentId, stream, { type: 'fields', fields: f ? toFields(f).toList() : [] });
  }
  allGrouping(componentId: string, streamId?: string): BoltDeclarer {
    return this.subscribe(componentId, streamId, { type: 'all' });
  }
  globalGrouping(componentId: string, streamId?: string): BoltDeclarer {
    return this.subscribe(componentId, streamId, { type: 'global' });
  }
  directGrouping(componentId: string, streamId?: string): BoltDeclarer {
    return this.subscribe(componentId, streamId, { type: 'direct' });
  }
  localOrShuffleGrouping(componentId: string, streamId?: string): BoltDeclarer {
    return this.subscribe(componentId, streamId, { type: 'localOrShuffle' });
  }
  noneGrouping(componentId: string, streamId?: string): BoltDeclarer {
    return this.subscribe(componentId, streamId, { type: 'none' });
  }
  /** `partialKeyGrouping(component, fields)` or `partialKeyGrouping(component, stream, fields)`. */
  partialKeyGrouping(componentId: string, streamOrFields: string | Fields | readonly string[], fields?: Fields | readonly string[]): BoltDeclarer {
    const [stream, f] = typeof streamOrFields === 'string' ? [streamOrFields, fields] : [undefined, streamOrFields];
    return this.subscribe(componentId, stream, { type: 'partialKey', fields: f ? toFields(f).toList() : [] });
  }
  /** `customGrouping(component, grouping)` or `customGrouping(component, stream, grouping)`. */
  customGrouping(
    componentId: string,
    streamOrGrouping: string | CustomStreamGrouping | (() => CustomStreamGrouping),
    grouping?: CustomStreamGrouping | (() => CustomStreamGrouping),
  ): BoltDeclarer {
    const [stream, g] = typeof streamOrGrouping === 'string' ? [streamOrGrouping, grouping!] : [undefined, streamOrGrouping];
    return this.subscribe(componentId, stream, { type: 'custom' }, toFactory(g));
  }
}

/**
 * Wires spouts and bolts into a topology (Storm's `TopologyBuilder`). Problems are collected and
 * reported all at once by `createTopology()`, with the coded error ERR_TOPOLOGY_INVALID.
 */
export class TopologyBuilder {
  private readonly components = new Map<string, ComponentSpec>();
  private readonly problems: string[] = [];
  private readonly topologyConfig: TopologyConfig = {};

  setSpout(id: string, spout: SpoutSource, parallelism: number = 1): SpoutDeclarer {
    return new SpoutDeclarer(this.add(id, 'spout', toFactory<ISpout>(spout), parallelism));
  }

  setBolt(id: string, bolt: BoltSource, parallelism: number = 1): BoltDeclarer {
    const make = toFactory<IBolt | IBasicBolt | IWindowedBolt>(bolt);
    const factory = (): IBolt => {
      const made = make();
      if (isBasicBolt(made)) return new BasicBoltExecutor(made);
      // the worker swaps the holder for its windowing executor (worker/windowing/)
      if (isWindowedBolt(made)) return new WindowedBoltHolder(made) as unknown as IBolt;
      return made as IBolt;
    };
    return new BoltDeclarer(this.add(id, 'bolt', factory, parallelism));
  }

  /** Topology-level defaults that travel with the topology (submit-time config overrides them). */
  addConfiguration(key: string, value: unknown): this {
    this.topologyConfig[key] = value;
    return this;
  }

  getConfiguration(): Readonly<TopologyConfig> {
    return { ...this.topologyConfig };
  }

  private add(id: string, kind: 'spout' | 'bolt', factory: () => ISpout | IBolt, parallelism: number): ComponentSpec {
    const spec: ComponentSpec = { kind, factory, parallelism, numTasks: null, config: {}, inputs: [] };
    if (this.components.has(id)) this.problems.push(`component id "${id}" is used twice`);
    else this.components.set(id, spec);
    return spec;
  }

  createTopology(): StormTopology {
    const problems = [...this.problems];
    const definition: TopologyDefinition = { spouts: {}, bolts: {} };
    const factories: ComponentFactories = { spouts: {}, bolts: {}, groupings: {} };
    for (const [id, spec] of this.components) {
      const component = describe(id, spec, problems);
      if (spec.kind === 'spout') {
        definition.spouts[id] = component;
        factories.spouts[id] = spec.factory as () => ISpout;
      } else {
        definition.bolts[id] = component;
        factories.bolts[id] = spec.factory as () => IBolt;
        for (const input of spec.inputs) if (input.custom) factories.groupings[groupingKey(id, input.component, input.stream)] = input.custom;
      }
    }
    problems.push(...topologyProblems(definition));
    for (const p of topologyConfigProblems(this.topologyConfig)) problems.push(`topology configuration: ${p}`);
    if (problems.length > 0) throw problemsError('ERR_TOPOLOGY_INVALID', 'topology', problems);
    return Object.freeze({ [TOPOLOGY_MARK]: true as const, definition, factories, config: Object.freeze({ ...this.topologyConfig }) });
  }
}

/** Runs one probe instance's `declareOutputFields`/`getComponentConfiguration`, as Storm does. */
function describe(id: string, spec: ComponentSpec, problems: string[]): ComponentDefinition {
  const getter = new OutputFieldsGetter();
  let ownConfig: TopologyConfig = {};
  let probe: IComponent | null = null;
  try {
    probe = spec.factory();
    probe.declareOutputFields(getter);
    ownConfig = probe.getComponentConfiguration?.() ?? {};
    if (isWindowedBoltHolder(probe) && !isWindowedConfig({ ...ownConfig, ...spec.config })) {
      problems.push(`bolt "${id}" is a windowed bolt without a window: call withWindow, withTumblingWindow or withSessionWindow`);
    }
  } catch (err) {
    problems.push(`component "${id}" threw while declaring its outputs: ${err instanceof Error ? err.message : String(err)}`);
  }
  for (const p of getter.problems) problems.push(`component "${id}": ${p}`);
  const numTasks = spec.numTasks ?? spec.parallelism;
  const definition: ComponentDefinition = {
    parallelism: spec.parallelism,
    numTasks,
    config: { ...ownConfig, ...spec.config },
    streams: getter.streams,
    inputs: spec.inputs.map(({ component, stream, grouping }) => ({ component, stream, grouping })),
  };
  // what the checkpoint runtime and submission checks need to know, as plain data
  if (spec.kind === 'bolt' && isStatefulComponent(probe)) definition.stateful = true;
  if (spec.kind === 'spout' && isReplayableSpout(probe)) definition.replayable = true;
  return definition;
}
