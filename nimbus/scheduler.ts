/**
 * Storm's EvenScheduler as a pure function: a snapshot of topologies, supervisors, assignments and
 * worker liveness in, the assignments to hold out. No I/O, no clock, no randomness: the same input
 * always gives the same output, so Nimbus can run it on every monitor tick and write only what
 * changed.
 *
 * Rules (Storm's `EvenScheduler.scheduleTopology`, plus two Squall refinements noted below):
 * - A topology's assignment is kept as it is (the same object is returned) while every slot it uses
 *   is alive, its executor set matches the topology's executors, and it uses no more workers than
 *   asked for. Storm does not spread a running topology onto supervisors that join later either:
 *   that is what `rebalance` is for.
 * - A topology with dead slots keeps its live workers untouched; only the executors of dead slots
 *   move, to new slots (up to `numWorkers` workers in all). Refinement: when no new slot is free,
 *   they join the live workers instead of staying unassigned, as Storm would leave them.
 * - Otherwise (first placement, executors changed, `reschedule`): workers used =
 *   min(numWorkers, slots available to it), the free slots interleaved round-robin across
 *   supervisors (those with the most free slots first, then by id; ports ascending), executors
 *   (sorted by first task) dealt round-robin over those workers. Refinement: replacements for
 *   dead workers prefer supervisors running fewer of the topology's live workers.
 * - Refinement: slots whose worker just died are taken last, so a worker that cannot start on one
 *   machine is retried elsewhere when there is room.
 * - A slot never holds two topologies. Slots of assignments whose topology is not being scheduled
 *   (killed or rebalancing topologies, whose workers keep running for now) stay taken.
 */
import type { Assignment, ExecutorAssignment } from '../common/cluster-state/types';

export interface ScheduleTopology {
  id: string;
  numWorkers: number;
  /** Every executor of the topology as a task range (acker executors included). */
  executors: ReadonlyArray<{ start: number; end: number }>;
  /** Ignore the current assignment and place everything afresh (a completed rebalance). */
  reschedule?: boolean;
}

export interface ScheduleSupervisor {
  id: string;
  host: string;
  ports: readonly number[];
}

export interface ScheduleInput {
  /** The topologies to place (ACTIVE and INACTIVE ones). */
  topologies: readonly ScheduleTopology[];
  /** The live supervisors. */
  supervisors: readonly ScheduleSupervisor[];
  /** Current assignments by topology id, including those of topologies not being scheduled. */
  existing: ReadonlyMap<string, Assignment>;
  /** Topology id → `node:port` of its workers that are alive (heartbeating or within launch grace). */
  aliveWorkers: ReadonlyMap<string, ReadonlySet<string>>;
  /** Stamped into `workerStartMs` of newly placed workers. */
  nowMs: number;
}

interface Slot {
  node: string;
  port: number;
  key: string;
}

type Range = { start: number; end: number };

/**
 * Assignments for every topology in `input.topologies`. An unchanged assignment is returned as the
 * same object; a changed one is new, with `seq` one above the old. A topology that gets no slot
 * at all gets an assignment with no executors.
 */
export function schedule(input: ScheduleInput): Map<string, Assignment> {
  const hosts = new Map(input.supervisors.map((s) => [s.id, s.host]));
  const allSlots = liveSlots(input.supervisors);
  const scheduled = new Set(input.topologies.map((t) => t.id));
  const taken = new Set<string>();
  for (const [id, a] of input.existing) if (!scheduled.has(id)) for (const e of a.executors) taken.add(slotKey(e.node, e.port));

  const out = new Map<string, Assignment>();
  const deferred: Array<{ topology: ScheduleTopology; kept: Map<string, Range[]>; orphans: Range[] }> = [];
  const avoid = new Set<string>();
  // Phase 1: keep what is alive, so no topology placed in phase 2 can take those slots.
  for (const topology of [...input.topologies].sort((a, b) => compare(a.id, b.id))) {
    const existing = input.existing.get(topology.id);
    const plan = planKeep(topology, existing, allSlots, input.aliveWorkers.get(topology.id), taken);
    for (const key of plan.dead) avoid.add(key);
    for (const key of plan.kept.keys()) taken.add(key);
    if (plan.keepAll && existing) out.set(topology.id, existing);
    else deferred.push({ topology, kept: plan.kept, orphans: plan.orphans });
  }
  // Phase 2: place the rest, in topology id order, on what is free.
  for (const { topology, kept, orphans } of deferred) {
    const free = allSlots.filter((s) => !taken.has(s.key));
    const busy = workersPerNode(kept.keys());
    const ordered = [...sortSlots(free.filter((s) => !avoid.has(s.key)), busy), ...sortSlots(free.filter((s) => avoid.has(s.key)), busy)];
    const target = Math.min(topology.numWorkers, kept.size + ordered.length);
    const fresh = ordered.slice(0, Math.max(0, target - kept.size));
    for (const s of fresh) taken.add(s.key);
    const placement = new Map<string, Range[]>(kept);
    const targets = fresh.length > 0 ? fresh.map((s) => s.key) : [...kept.keys()].sort(compare);
    for (const s of fresh) placement.set(s.key, []);
    if (targets.length > 0) sortRanges(orphans).forEach((r, i) => placement.get(targets[i % targets.length])!.push(r));
    out.set(topology.id, buildAssignment(topology.id, placement, new Set(kept.keys()), input.existing.get(topology.id), hosts, input.nowMs));
  }
  return out;
}

interface KeepPlan {
  keepAll: boolean;
  /** Live slots kept with their executors. */
  kept: Map<string, Range[]>;
  /** Executors to place. */
  orphans: Range[];
  /** Slots whose worker died. */
  dead: string[];
}

function planKeep(
  topology: ScheduleTopology,
  existing: Assignment | undefined,
  allSlots: Slot[],
  alive: ReadonlySet<string> | undefined,
  taken: ReadonlySet<string>,
): KeepPlan {
  const everything: KeepPlan = { keepAll: false, kept: new Map(), orphans: [...topology.executors], dead: [] };
  if (!existing || topology.reschedule || !sameExecutors(existing.executors, topology.executors)) return everything;
  const live = new Set(allSlots.map((s) => s.key));
  const bySlot = groupBySlot(existing.executors);
  const kept = new Map<string, Range[]>();
  const orphans: Range[] = [];
  const dead: string[] = [];
  for (const [key, ranges] of bySlot) {
    // A slot another topology already holds (state written by someone else) counts as lost.
    if (live.has(key) && alive?.has(key) === true && !taken.has(key)) kept.set(key, ranges);
    else {
      dead.push(key);
      orphans.push(...ranges);
    }
  }
  if (kept.size > topology.numWorkers) return { ...everything, dead };
  return { keepAll: orphans.length === 0, kept, orphans, dead };
}

function buildAssignment(
  topologyId: string,
  placement: Map<string, Range[]>,
  keptSlots: ReadonlySet<string>,
  existing: Assignment | undefined,
  hosts: ReadonlyMap<string, string>,
  nowMs: number,
): Assignment {
  const executors: ExecutorAssignment[] = [];
  const nodeHost: Record<string, string> = {};
  const workerStartMs: Record<string, number> = {};
  for (const key of [...placement.keys()].sort(compare)) {
    const ranges = placement.get(key)!;
    if (ranges.length === 0) continue;
    const { node, port } = parseSlotKey(key);
    for (const r of ranges) executors.push({ start: r.start, end: r.end, node, port });
    nodeHost[node] = hosts.get(node)!;
    const previous = existing?.workerStartMs[key];
    // A kept worker keeps its start time only if its executors did not change: otherwise the
    // supervisor restarts it and Nimbus must give it launch grace again.
    const unchanged = keptSlots.has(key) && previous !== undefined && sameExecutors(executorsOn(existing!, key), ranges);
    workerStartMs[key] = unchanged ? previous : nowMs;
  }
  executors.sort((a, b) => a.start - b.start);
  const next: Assignment = { v: 1, topologyId, executors, nodeHost, workerStartMs, seq: (existing?.seq ?? 0) + 1 };
  return existing && sameAssignment(existing, next) ? existing : next;
}

/** Supervisors' slots in a stable order (by supervisor id, then port). */
function liveSlots(supervisors: readonly ScheduleSupervisor[]): Slot[] {
  const out: Slot[] = [];
  for (const s of [...supervisors].sort((a, b) => compare(a.id, b.id))) {
    for (const port of [...new Set(s.ports)].sort((a, b) => a - b)) out.push({ node: s.id, port, key: slotKey(s.id, port) });
  }
  return out;
}

/**
 * Storm's `sort-slots`: group by supervisor, most free slots first, then interleave. Refinement:
 * supervisors already running fewer of this topology's kept workers come first, so replacements
 * spread out too.
 */
function sortSlots(slots: readonly Slot[], busy: ReadonlyMap<string, number>): Slot[] {
  const byNode = new Map<string, Slot[]>();
  for (const s of slots) {
    const list = byNode.get(s.node);
    if (list) list.push(s);
    else byNode.set(s.node, [s]);
  }
  const groups = [...byNode.entries()]
    .sort(([a, sa], [b, sb]) => (busy.get(a) ?? 0) - (busy.get(b) ?? 0) || sb.length - sa.length || compare(a, b))
    .map(([, list]) => list.sort((x, y) => x.port - y.port));
  const out: Slot[] = [];
  for (let i = 0; out.length < slots.length; i++) for (const g of groups) if (i < g.length) out.push(g[i]);
  return out;
}

function workersPerNode(keys: Iterable<string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const key of keys) {
    const { node } = parseSlotKey(key);
    out.set(node, (out.get(node) ?? 0) + 1);
  }
  return out;
}

export function slotKey(node: string, port: number): string {
  return `${node}:${port}`;
}

function parseSlotKey(key: string): { node: string; port: number } {
  const i = key.lastIndexOf(':');
  return { node: key.slice(0, i), port: Number(key.slice(i + 1)) };
}

function groupBySlot(executors: readonly ExecutorAssignment[]): Map<string, Range[]> {
  const out = new Map<string, Range[]>();
  for (const e of executors) {
    const key = slotKey(e.node, e.port);
    const list = out.get(key);
    const range = { start: e.start, end: e.end };
    if (list) list.push(range);
    else out.set(key, [range]);
  }
  return out;
}

function executorsOn(a: Assignment, key: string): Range[] {
  return a.executors.filter((e) => slotKey(e.node, e.port) === key);
}

function rangeSet(ranges: ReadonlyArray<Range>): string {
  return sortRanges(ranges)
    .map((r) => `${r.start}-${r.end}`)
    .join(',');
}

function sameExecutors(a: ReadonlyArray<Range>, b: ReadonlyArray<Range>): boolean {
  return a.length === b.length && rangeSet(a) === rangeSet(b);
}

function sortRanges(ranges: ReadonlyArray<Range>): Range[] {
  return [...ranges].sort((x, y) => x.start - y.start || x.end - y.end);
}

function sameAssignment(a: Assignment, b: Assignment): boolean {
  const slots = (x: Assignment): string => x.executors.map((e) => `${e.start}-${e.end}@${e.node}:${e.port}`).join(',');
  return slots(a) === slots(b) && sameRecord(a.nodeHost, b.nodeHost) && sameRecord(a.workerStartMs, b.workerStartMs);
}

function sameRecord(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && a[k] === b[k]);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
