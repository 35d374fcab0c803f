import { topologyConfigProblems, type TopologyConfig } from './config';
import { isReservedName } from './constants';
import type { StreamDeclaration } from './components';
import { windowSpecProblems } from './windowing/spec';

/** How a bolt subscribes to a stream. Plain data: it travels to Nimbus and workers. */
export type GroupingSpec =
  | { type: 'shuffle' }
  | { type: 'fields'; fields: string[] }
  | { type: 'all' }
  | { type: 'global' }
  | { type: 'direct' }
  | { type: 'localOrShuffle' }
  | { type: 'none' }
  | { type: 'partialKey'; fields: string[] }
  | { type: 'custom' };

export type GroupingType = GroupingSpec['type'];

export const GROUPING_TYPES: readonly GroupingType[] = ['shuffle', 'fields', 'all', 'global', 'direct', 'localOrShuffle', 'none', 'partialKey', 'custom'];

export interface InputDefinition {
  component: string;
  stream: string;
  grouping: GroupingSpec;
}

export interface ComponentDefinition {
  /** Executors (Storm's parallelism hint). */
  parallelism: number;
  /** Tasks; at least `parallelism`. Executors = min(parallelism, numTasks). */
  numTasks: number;
  /** Component-level configuration (`getComponentConfiguration` merged with `addConfiguration`). */
  config: TopologyConfig;
  streams: Record<string, StreamDeclaration>;
  inputs: InputDefinition[];
  /** A bolt with checkpointed state (`initState`): set only when true (docs/state.md). */
  stateful?: boolean;
  /** A spout that can rewind (`offsets()` and `seek()`): set only when true. */
  replayable?: boolean;
}

/** The serializable shape of a topology: what Nimbus stores and validates. */
export interface TopologyDefinition {
  spouts: Record<string, ComponentDefinition>;
  bolts: Record<string, ComponentDefinition>;
}

const ID_PATTERN = /^[A-Za-z0-9_.\-:]+$/;

function checkComponentShape(id: string, c: ComponentDefinition, problems: string[]): void {
  if (!Number.isInteger(c.parallelism) || c.parallelism < 1) problems.push(`component "${id}": parallelism must be an integer >= 1 (got ${c.parallelism})`);
  // numTasks defaults to parallelism: report it only when set to something else
  if (c.numTasks !== c.parallelism && (!Number.isInteger(c.numTasks) || c.numTasks < 1)) problems.push(`component "${id}": numTasks must be an integer >= 1 (got ${c.numTasks})`);
  const configProblems = topologyConfigProblems(c.config ?? {}, 'component');
  for (const p of configProblems) problems.push(`component "${id}" configuration: ${p}`);
  if (configProblems.length === 0) for (const p of windowSpecProblems(c.config ?? {})) problems.push(`component "${id}" window: ${p}`);
  for (const [streamId, stream] of Object.entries(c.streams ?? {})) {
    if (isReservedName(streamId)) problems.push(`component "${id}": stream "${streamId}" starts with "__", which is reserved for system streams`);
    const seen = new Set<string>();
    for (const f of stream.fields) {
      if (typeof f !== 'string' || f.length === 0) problems.push(`component "${id}" stream "${streamId}": field names must be non-empty strings`);
      else if (seen.has(f)) problems.push(`component "${id}" stream "${streamId}": field "${f}" is declared twice`);
      seen.add(f);
    }
  }
}

function checkInput(boltId: string, input: InputDefinition, def: TopologyDefinition, problems: string[]): void {
  const source = def.spouts[input.component] ?? def.bolts[input.component];
  const where = `bolt "${boltId}" input ${input.component}:${input.stream}`;
  if (!source) {
    problems.push(`${where}: unknown source component "${input.component}"`);
    return;
  }
  const stream = source.streams[input.stream];
  if (!stream) {
    const known = Object.keys(source.streams);
    problems.push(`${where}: component "${input.component}" declares no stream "${input.stream}" (it declares ${known.length ? known.map((s) => `"${s}"`).join(', ') : 'none'})`);
    return;
  }
  const g = input.grouping;
  if (!GROUPING_TYPES.includes(g?.type)) {
    problems.push(`${where}: unknown grouping ${JSON.stringify(g?.type)}`);
    return;
  }
  if (stream.direct && g.type !== 'direct') problems.push(`${where}: stream is direct, so it must be subscribed with directGrouping`);
  if (!stream.direct && g.type === 'direct') problems.push(`${where}: directGrouping needs a stream declared direct`);
  if (g.type === 'fields' || g.type === 'partialKey') {
    if (!Array.isArray(g.fields) || g.fields.length === 0) problems.push(`${where}: ${g.type} grouping needs at least one field`);
    else
      for (const f of g.fields) {
        if (!stream.fields.includes(f)) problems.push(`${where}: ${g.type} grouping on field "${f}", which the stream does not declare (it declares [${stream.fields.join(', ')}])`);
      }
  }
}

/** Every problem in a definition, listed at once (empty when valid). Pure data: no user code runs. */
export function topologyProblems(def: TopologyDefinition): string[] {
  const problems: string[] = [];
  if (typeof def !== 'object' || def === null || typeof def.spouts !== 'object' || typeof def.bolts !== 'object' || !def.spouts || !def.bolts) {
    return ['definition must have "spouts" and "bolts" objects'];
  }
  const spoutIds = Object.keys(def.spouts);
  if (spoutIds.length === 0) problems.push('a topology needs at least one spout');
  for (const id of [...spoutIds, ...Object.keys(def.bolts)]) {
    if (isReservedName(id)) problems.push(`component id "${id}" starts with "__", which is reserved for system components`);
    else if (!ID_PATTERN.test(id)) problems.push(`component id "${id}" may only contain letters, digits and _ . - :`);
  }
  for (const id of spoutIds) {
    if (Object.prototype.hasOwnProperty.call(def.bolts, id)) problems.push(`component id "${id}" is used by a spout and a bolt`);
  }
  for (const [id, c] of Object.entries(def.spouts)) {
    checkComponentShape(id, c, problems);
    if (c.inputs.length > 0) problems.push(`spout "${id}" cannot have inputs`);
  }
  for (const [id, c] of Object.entries(def.bolts)) {
    checkComponentShape(id, c, problems);
    const seen = new Set<string>();
    for (const input of c.inputs) {
      const key = `${input.component}:${input.stream}`;
      if (seen.has(key)) problems.push(`bolt "${id}" subscribes to ${key} twice`);
      seen.add(key);
      checkInput(id, input, def, problems);
    }
  }
  return problems;
}

/** Component ids in a stable order (spouts and bolts sorted together), as task ids are laid out. */
export function componentIds(def: TopologyDefinition): string[] {
  return [...Object.keys(def.spouts), ...Object.keys(def.bolts)].sort();
}

export function getComponent(def: TopologyDefinition, id: string): ComponentDefinition | undefined {
  return def.spouts[id] ?? def.bolts[id];
}
