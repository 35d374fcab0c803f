import { Fields, squallError, type TopologyConfig, type TopologyContext, type TopologyDefinition, DEFAULT_STREAM_ID, getComponent } from '../topology-api';
import type { TopologyLayout } from '../common/topology-layout';
import type { Counter, Gauge, Meter, MetricHistogram, MetricRegistrar } from '../topology-api/metrics';

/** Storm's TopologyContext for one task, answered from the topology's layout. */
export class TaskContext implements TopologyContext {
  constructor(
    private readonly topologyId: string,
    private readonly definition: TopologyDefinition,
    private readonly layout: TopologyLayout,
    private readonly component: string,
    private readonly taskId: number,
    private readonly workerPort: number,
    private readonly workerTasks: readonly number[],
    private readonly componentConfig: Readonly<TopologyConfig>,
    /** User metrics of this task (absent for contexts handed to custom groupings). */
    private readonly metrics?: MetricRegistrar,
  ) {}

  private registrar(): MetricRegistrar {
    if (!this.metrics) throw squallError('ERR_METRIC_INVALID', 'metrics are registered from the context given to a spout or bolt');
    return this.metrics;
  }
  registerCounter(name: string): Counter {
    return this.registrar().registerCounter(name);
  }
  registerMeter(name: string): Meter {
    return this.registrar().registerMeter(name);
  }
  registerHistogram(name: string): MetricHistogram {
    return this.registrar().registerHistogram(name);
  }
  registerGauge(name: string, fn: () => number): Gauge {
    return this.registrar().registerGauge(name, fn);
  }

  getStormId(): string {
    return this.topologyId;
  }
  getThisComponentId(): string {
    return this.component;
  }
  getThisTaskId(): number {
    return this.taskId;
  }
  getThisTaskIndex(): number {
    return this.getComponentTasks(this.component).indexOf(this.taskId);
  }
  getThisWorkerPort(): number {
    return this.workerPort;
  }
  getThisWorkerTasks(): number[] {
    return [...this.workerTasks];
  }
  getComponentId(taskId: number): string | undefined {
    return this.layout.taskComponent[taskId] || undefined;
  }
  getComponentTasks(componentId: string): number[] {
    return [...(this.layout.componentTasks[componentId] ?? [])];
  }
  getComponentIds(): string[] {
    return Object.keys(this.layout.componentTasks);
  }
  getThisStreams(): string[] {
    return Object.keys(getComponent(this.definition, this.component)?.streams ?? {});
  }
  getThisOutputFields(streamId: string = DEFAULT_STREAM_ID): Fields {
    return this.getComponentOutputFields(this.component, streamId);
  }
  getComponentOutputFields(componentId: string, streamId: string = DEFAULT_STREAM_ID): Fields {
    const stream = getComponent(this.definition, componentId)?.streams[streamId];
    if (!stream) throw squallError('ERR_COMPONENT_NOT_FOUND', `no stream ${componentId}:${streamId}`);
    return new Fields(stream.fields);
  }
  getThisSources(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const input of this.definition.bolts[this.component]?.inputs ?? []) out[`${input.component}:${input.stream}`] = input.grouping.type;
    return out;
  }
  getThisTargets(): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {};
    for (const [boltId, bolt] of Object.entries(this.definition.bolts)) {
      for (const input of bolt.inputs) {
        if (input.component !== this.component) continue;
        (out[input.stream] ??= {})[boltId] = input.grouping.type;
      }
    }
    return out;
  }
  getThisComponentConfig(): Readonly<TopologyConfig> {
    return this.componentConfig;
  }
}
