import type { CustomStreamGrouping, GroupingSpec, TopologyContext } from '../topology-api';
import { squallError } from '../common/errors';
import type { Random } from '../common/random';
import { hashFields } from './hash';
import { keyGroupOfFields, taskIndexForKeyGroup } from './state/key-groups';

// Read once, as in state/key-groups.ts: the build's CommonJS output reaches an imported function
// through a property getter on every call, and KeyGroupGrouper.choose runs per tuple.
const groupOfFields = keyGroupOfFields;

/**
 * Picks the target task(s) of one subscription for each emitted tuple. Single-target groupings
 * answer `choose` with one task id and allocate nothing; `all` and `custom` answer `chooseMany`.
 */
export interface Grouper {
  readonly single: boolean;
  choose(values: readonly unknown[]): number;
  chooseMany(values: readonly unknown[]): readonly number[];
}

/** Round-robin over a shuffled list: even spread, no random draw per tuple (Storm 2's ShuffleGrouping). */
class ShuffleGrouper implements Grouper {
  readonly single = true;
  private i = 0;
  private readonly order: number[];
  constructor(tasks: readonly number[], random: Random) {
    this.order = random.shuffle([...tasks]);
  }
  choose(): number {
    const t = this.order[this.i];
    this.i = this.i + 1 === this.order.length ? 0 : this.i + 1;
    return t;
  }
  chooseMany(): readonly number[] {
    return [this.choose()];
  }
}

class FieldsGrouper implements Grouper {
  readonly single = true;
  constructor(
    private readonly tasks: readonly number[],
    private readonly indexes: readonly number[],
  ) {}
  choose(values: readonly unknown[]): number {
    return this.tasks[hashFields(values, this.indexes) % this.tasks.length];
  }
  chooseMany(values: readonly unknown[]): readonly number[] {
    return [this.choose(values)];
  }
}

/**
 * The fields grouping into a keyed stateful bolt (docs/state.md, "Key groups"): the grouping
 * values pick a key group, and the key group its owner among the tasks, so a key reaches the task
 * whose state holds it, whatever the number of tasks after a rescale.
 */
class KeyGroupGrouper implements Grouper {
  readonly single = true;
  /** The task owning each key group (taskIndexForKeyGroup, computed once). */
  private readonly owners: Int32Array;
  constructor(
    tasks: readonly number[],
    private readonly indexes: readonly number[],
    private readonly maxKeyGroups: number,
  ) {
    this.owners = Int32Array.from({ length: maxKeyGroups }, (_, g) => tasks[taskIndexForKeyGroup(g, tasks.length, maxKeyGroups)]);
  }
  choose(values: readonly unknown[]): number {
    return this.owners[groupOfFields(values, this.indexes, this.maxKeyGroups)];
  }
  chooseMany(values: readonly unknown[]): readonly number[] {
    return [this.choose(values)];
  }
}

/**
 * Storm's PartialKeyGrouping ("power of two choices"): two hashes give two candidate tasks; the
 * one this emitter has sent fewer tuples to wins, so a hot key is split over two tasks.
 */
class PartialKeyGrouper implements Grouper {
  readonly single = true;
  private readonly load: Float64Array;
  constructor(
    private readonly tasks: readonly number[],
    private readonly indexes: readonly number[],
  ) {
    this.load = new Float64Array(tasks.length);
  }
  choose(values: readonly unknown[]): number {
    const n = this.tasks.length;
    const a = hashFields(values, this.indexes, 0x1234567) % n;
    const b = hashFields(values, this.indexes, 0x7654321) % n;
    const pick = this.load[a] <= this.load[b] ? a : b;
    this.load[pick]++;
    return this.tasks[pick];
  }
  chooseMany(values: readonly unknown[]): readonly number[] {
    return [this.choose(values)];
  }
}

class FixedGrouper implements Grouper {
  readonly single: boolean;
  constructor(private readonly tasks: readonly number[]) {
    this.single = tasks.length === 1;
  }
  choose(): number {
    return this.tasks[0];
  }
  chooseMany(): readonly number[] {
    return this.tasks;
  }
}

class CustomGrouper implements Grouper {
  readonly single = false;
  constructor(
    private readonly grouping: CustomStreamGrouping,
    private readonly sourceTask: number,
    private readonly allowed: ReadonlySet<number>,
    private readonly where: string,
  ) {}
  choose(): number {
    throw new Error('custom grouping chooses many');
  }
  chooseMany(values: readonly unknown[]): readonly number[] {
    const chosen = this.grouping.chooseTasks(this.sourceTask, values);
    for (const t of chosen) {
      if (!this.allowed.has(t)) throw squallError('ERR_EMIT_DIRECT_INVALID', `custom grouping of ${this.where} chose task ${t}, which does not subscribe`);
    }
    return chosen;
  }
}

export interface GrouperInput {
  spec: GroupingSpec;
  /** Tasks of the subscribing component, ascending. */
  targetTasks: readonly number[];
  /** Fields of the stream, to find grouping fields' positions. */
  streamFields: readonly string[];
  /** Tasks in this worker (for localOrShuffle). */
  localTasks: ReadonlySet<number>;
  sourceTask: number;
  random: Random;
  custom?: () => CustomStreamGrouping;
  context: TopologyContext;
  sourceComponent: string;
  streamId: string;
  targetComponent: string;
  /** The target is a keyed stateful bolt: its fields grouping routes by key group (of this many). */
  maxKeyGroups?: number;
}

/** Builds the grouper one source task uses for one subscription; null for direct grouping. */
export function createGrouper(input: GrouperInput): Grouper | null {
  const { spec, targetTasks } = input;
  switch (spec.type) {
    case 'shuffle':
    case 'none':
      return new ShuffleGrouper(targetTasks, input.random);
    case 'localOrShuffle': {
      const local = targetTasks.filter((t) => input.localTasks.has(t));
      return new ShuffleGrouper(local.length > 0 ? local : targetTasks, input.random);
    }
    case 'fields': {
      const indexes = spec.fields.map((f) => input.streamFields.indexOf(f));
      return input.maxKeyGroups !== undefined ? new KeyGroupGrouper(targetTasks, indexes, input.maxKeyGroups) : new FieldsGrouper(targetTasks, indexes);
    }
    case 'partialKey':
      return new PartialKeyGrouper(targetTasks, spec.fields.map((f) => input.streamFields.indexOf(f)));
    case 'all':
      return new FixedGrouper(targetTasks);
    case 'global':
      return new FixedGrouper([Math.min(...targetTasks)]);
    case 'direct':
      return null;
    case 'custom': {
      if (!input.custom) throw squallError('ERR_TOPOLOGY_INVALID', `no custom grouping object for ${input.targetComponent} <- ${input.sourceComponent}:${input.streamId}`);
      const grouping = input.custom();
      grouping.prepare(input.context, { componentId: input.sourceComponent, streamId: input.streamId }, [...targetTasks]);
      return new CustomGrouper(grouping, input.sourceTask, new Set(targetTasks), `${input.targetComponent} <- ${input.sourceComponent}:${input.streamId}`);
    }
  }
}
