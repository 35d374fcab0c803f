/**
 * The topology page (Storm UI's): summary, actions, stats per window, the live graph, spouts and
 * bolts, windowed/stateful/async panels when those bolts exist, workers with links to their logs,
 * worker errors and the configuration.
 */
import type { WorkerEntry } from '../../common/protocol/rest';
import { enc, getJson } from '../api';
import { h, section, setText } from '../dom';
import { TopologyGraph } from '../graph';
import { capacityLevel, fmtBytes, fmtCapacity, fmtDuration, fmtMs, fmtTime, firstLine, num } from '../lib/format';
import { routeHref } from '../lib/routes';
import type { Page, PageHost } from '../page';
import { DataTable, keyValueTable, type Column } from '../table';
import { STATS_WINDOWS, type Bolt, type Spout, type Topology, type Visualization, type TopologyWindowRow } from '../types';
import { TopologyActions } from './actions';
import { ExtrasPanels } from './extras';
import { errorCell, logLink, statusBadge } from './widgets';

type WorkerError = Topology['workerErrors'][number];

const ms = (v: string): number => num(v);

/** Columns every component table shares: id (linked), executors, tasks, emitted, transferred. */
function componentColumns<R extends Spout | Bolt>(topologyId: () => string, idOf: (r: R) => string): Array<Column<R>> {
  return [
    {
      id: 'id',
      title: 'Id',
      tip: 'Component id (click for its page)',
      value: idOf,
      render: (r, cell) => cell.append(h('a', { href: routeHref({ page: 'component', id: topologyId(), component: idOf(r) }) }, idOf(r))),
    },
    { id: 'executors', title: 'Executors', tip: 'Executors (threads of work) running this component', value: (r) => r.executors, numeric: true },
    { id: 'tasks', title: 'Tasks', tip: 'Instances of the component (fixed at submission)', value: (r) => r.tasks, numeric: true },
    { id: 'emitted', title: 'Emitted', tip: 'Tuples emitted in the window (system streams left out)', value: (r) => r.emitted, numeric: true },
    { id: 'transferred', title: 'Transferred', tip: 'Tuples sent to subscribing tasks (an emit to N tasks counts N)', value: (r) => r.transferred, numeric: true },
  ];
}

function errorColumns<R extends Spout | Bolt>(topologyId: () => string): Array<Column<R>> {
  return [
    { id: 'errorHost', title: 'Error host', tip: 'Where the last error was reported', value: (r) => r.errorHost || null, text: (r) => r.errorHost || '' },
    { id: 'errorPort', title: 'Error port', tip: "The worker's port (links to its log)", value: (r) => r.errorPort, render: (r, cell) => r.errorPort !== null && cell.append(logLink(topologyId(), r.errorHost, r.errorPort, String(r.errorPort))), renderKey: (r) => `${r.errorHost}:${r.errorPort}` },
    {
      id: 'lastError',
      title: 'Last error',
      tip: 'The latest error the component reported (reportError or a thrown exception)',
      value: (r) => r.lastError || null,
      renderKey: (r) => `${r.lastError}\u0000${r.errorLapsedSecs}`,
      render: (r, cell) => errorCell(cell, r.lastError, r.errorLapsedSecs, r.errorTime),
    },
  ];
}

export function topologyPage(host: PageHost, id: string): Page {
  let topologyId = id;
  let windowId = ':all-time';
  const tid = (): string => topologyId;
  host.setCrumbs([{ label: 'Cluster', href: '#/' }, { label: id }]);

  const title = h('h1', {}, id);
  const actions = new TopologyActions(host, id, () => components);
  let components: string[] = [];
  const note = h('div', { class: 'warning', hidden: true });
  const summary = new DataTable<Topology>({
    id: 'topology-info',
    rowKey: () => 'topology',
    columns: [
      { id: 'name', title: 'Name', value: (r) => r.name },
      { id: 'id', title: 'Id', value: (r) => r.id },
      { id: 'owner', title: 'Owner', value: (r) => r.owner },
      { id: 'status', title: 'Status', value: (r) => r.status, render: (r, cell) => cell.append(statusBadge(r.status)) },
      { id: 'uptime', title: 'Uptime', tip: 'Time since submission', value: (r) => r.uptimeSeconds, text: (r) => fmtDuration(r.uptimeSeconds), numeric: true },
      { id: 'workers', title: 'Num workers', value: (r) => r.workersTotal, numeric: true },
      { id: 'executors', title: 'Num executors', value: (r) => r.executorsTotal, numeric: true },
      { id: 'tasks', title: 'Num tasks', value: (r) => r.tasksTotal, numeric: true },
      { id: 'msgTimeout', title: 'Message timeout', tip: 'topology.message.timeout.secs: a tuple tree not completed by then fails', value: (r) => r.msgTimeout, text: (r) => `${r.msgTimeout}s`, numeric: true },
      { id: 'bundle', title: 'Bundle', tip: 'sha256 of the submitted bundle', value: (r) => r.bundleHash, text: (r) => `${r.bundleHash.slice(0, 12)}…`, cellTip: (r) => r.bundleHash },
    ],
  });

  const windowButtons = STATS_WINDOWS.map((w) =>
    h('button', { type: 'button', 'data-window': w.window, 'aria-pressed': w.window === windowId ? 'true' : 'false', onclick: () => chooseWindow(w.window) }, w.windowPretty),
  );
  const windowNote = h('p', { class: 'note' });
  const chooseWindow = (w: string): void => {
    windowId = w;
    for (const b of windowButtons) b.setAttribute('aria-pressed', b.dataset.window === w ? 'true' : 'false');
    host.refreshSoon();
  };
  const stats = new DataTable<TopologyWindowRow>({
    id: 'topology-stats',
    rowKey: (r) => r.window,
    columns: [
      { id: 'window', title: 'Window', tip: 'Period the figures cover', value: (r) => r.windowPretty },
      { id: 'emitted', title: 'Emitted', tip: 'Tuples emitted by every component', value: (r) => r.emitted, numeric: true },
      { id: 'transferred', title: 'Transferred', tip: 'Tuples sent to subscribing tasks', value: (r) => r.transferred, numeric: true },
      { id: 'completeLatency', title: 'Complete latency (ms)', tip: 'Mean time from a spout emit to its tuple tree being fully acked', value: (r) => ms(r.completeLatency), text: (r) => fmtMs(r.completeLatency), numeric: true },
      { id: 'completeP99', title: 'p99 (ms)', tip: '99th percentile of the complete latency', value: (r) => ms(r.completeLatencyP99), text: (r) => fmtMs(r.completeLatencyP99), numeric: true },
      { id: 'acked', title: 'Acked', tip: 'Spout tuples whose tree completed', value: (r) => r.acked, numeric: true },
      { id: 'failed', title: 'Failed', tip: 'Spout tuples that failed or timed out', value: (r) => r.failed, numeric: true },
    ],
  });

  const graph = new TopologyGraph(id);
  const legend = h(
    'div',
    { class: 'legend' },
    h('span', {}, h('span', { class: 'swatch spout' }), 'spout'),
    h('span', {}, h('span', { class: 'swatch idle' }), 'bolt, capacity < 0.05'),
    h('span', {}, h('span', { class: 'swatch ok' }), '< 0.5'),
    h('span', {}, h('span', { class: 'swatch warm' }), '< 0.8'),
    h('span', {}, h('span', { class: 'swatch hot' }), '≥ 0.8 (bottleneck)'),
    h('span', {}, 'Edges: stream · grouping · tuples/s; wider = more tuples'),
  );

  const spouts = new DataTable<Spout>({
    id: 'spouts',
    rowKey: (r) => r.spoutId,
    sortBy: 'id',
    columns: [
      ...componentColumns<Spout>(tid, (r) => r.spoutId),
      { id: 'completeLatency', title: 'Complete latency (ms)', tip: 'Mean time from emit to the tuple tree being fully acked', value: (r) => ms(r.completeLatency), text: (r) => fmtMs(r.completeLatency), numeric: true },
      { id: 'completeP99', title: 'p99 (ms)', tip: '99th percentile of the complete latency', value: (r) => ms(r.completeLatencyP99), text: (r) => fmtMs(r.completeLatencyP99), numeric: true },
      { id: 'acked', title: 'Acked', tip: 'Tuples whose tree completed', value: (r) => r.acked, numeric: true },
      { id: 'failed', title: 'Failed', tip: 'Tuples that failed or timed out (the spout may replay them)', value: (r) => r.failed, numeric: true },
      ...errorColumns<Spout>(tid),
    ],
  });
  const bolts = new DataTable<Bolt>({
    id: 'bolts',
    rowKey: (r) => r.boltId,
    sortBy: 'id',
    rowClass: (r) => `cap-${capacityLevel(num(r.capacity))}`,
    columns: [
      ...componentColumns<Bolt>(tid, (r) => r.boltId),
      {
        id: 'capacity',
        title: 'Capacity',
        tip: 'Share of the time the busiest executor spent executing; near 1 it is the bottleneck',
        value: (r) => num(r.capacity),
        renderKey: (r) => r.capacity,
        render: (r, cell) => cell.append(h('span', { class: `capacity cap-${capacityLevel(num(r.capacity))}` }, fmtCapacity(r.capacity))),
        numeric: true,
      },
      { id: 'executeLatency', title: 'Execute latency (ms)', tip: 'Mean time in execute per tuple', value: (r) => ms(r.executeLatency), text: (r) => fmtMs(r.executeLatency), numeric: true },
      { id: 'executeP99', title: 'p99 (ms)', tip: '99th percentile of the execute latency (of batch means)', value: (r) => ms(r.executeLatencyP99), text: (r) => fmtMs(r.executeLatencyP99), numeric: true },
      { id: 'executed', title: 'Executed', tip: 'Tuples executed', value: (r) => r.executed, numeric: true },
      { id: 'processLatency', title: 'Process latency (ms)', tip: 'Mean time from receiving a tuple to acking it', value: (r) => ms(r.processLatency), text: (r) => fmtMs(r.processLatency), numeric: true },
      { id: 'acked', title: 'Acked', tip: 'Tuples acked', value: (r) => r.acked, numeric: true },
      { id: 'failed', title: 'Failed', tip: 'Tuples failed', value: (r) => r.failed, numeric: true },
      { id: 'backpressure', title: 'Backpressure (ms)', tip: 'Time executors were parked because a queue they feed was full', value: (r) => r.backpressureMs, numeric: true },
      ...errorColumns<Bolt>(tid),
    ],
  });
  const extras = new ExtrasPanels<Bolt>('topology', 'Bolt', (r) => r.boltId, (r) => r.boltId);
  type Checkpoints = NonNullable<Topology['checkpoint']>;
  const checkpoints = new DataTable<Checkpoints>({
    id: 'topology-checkpoint',
    rowKey: () => 'checkpoint',
    columns: [
      { id: 'committed', title: 'Committed checkpoint', tip: 'The last checkpoint every task committed (its transaction id)', value: (r) => r.committedTxid, numeric: true },
      { id: 'duration', title: 'Duration (ms)', tip: 'Trigger to decision durable, of that checkpoint', value: (r) => Math.round(r.lastDurationMs), numeric: true },
      { id: 'size', title: 'State size', tip: "Bytes the tasks' last snapshots wrote", value: (r) => r.sizeBytes, text: (r) => fmtBytes(r.sizeBytes), numeric: true },
      { id: 'alignment', title: 'Max alignment (ms)', tip: 'Longest barrier alignment of a task', value: (r) => Math.round(r.maxAlignmentMs), numeric: true },
      { id: 'taskDuration', title: 'Max snapshot (ms)', tip: 'Longest snapshot of a task, aligned to durable', value: (r) => Math.round(r.maxTaskDurationMs), numeric: true },
      { id: 'held', title: 'Held tuples', tip: 'Tuples held now while aligning barriers', value: (r) => r.heldTuples, numeric: true },
      { id: 'aborted', title: 'Aborted', tip: 'Checkpoints aborted (timed out, failed by a task, cut short by a restart)', value: (r) => r.aborted, numeric: true },
    ],
  });
  const checkpointPanel = section('Checkpoints', 'checkpoints', checkpoints.el);
  checkpointPanel.hidden = true;

  const workers = new DataTable<WorkerEntry>({
    id: 'workers',
    rowKey: (r) => `${r.supervisorId}:${r.port}`,
    sortBy: 'host',
    columns: [
      { id: 'host', title: 'Host', tip: 'supervisor.host of the machine', value: (r) => r.host },
      { id: 'port', title: 'Port', tip: 'The worker slot', value: (r) => r.port, text: (r) => String(r.port), numeric: true },
      { id: 'supervisor', title: 'Supervisor', value: (r) => r.supervisorId },
      { id: 'state', title: 'State', tip: 'starting (no heartbeat yet), running, or dead (heartbeats stopped)', value: (r) => r.state, render: (r, cell) => cell.append(statusBadge(r.state)) },
      { id: 'uptime', title: 'Uptime', tip: 'Time since this worker process started', value: (r) => r.uptimeSeconds, text: (r) => fmtDuration(r.uptimeSeconds), numeric: true },
      { id: 'executors', title: 'Num executors', value: (r) => r.executorsTotal, numeric: true },
      {
        id: 'components',
        title: 'Components',
        tip: 'Tasks of each component in this worker',
        value: (r) => componentsText(r),
      },
      { id: 'pid', title: 'PID', value: (r) => r.pid, text: (r) => (r.pid === null ? '-' : String(r.pid)), numeric: true },
      { id: 'rss', title: 'Memory', tip: 'Resident set size of the worker process', value: (r) => r.rssBytes, text: (r) => fmtBytes(r.rssBytes), numeric: true },
      { id: 'log', title: 'Log', tip: "The worker's log file", value: (r) => `${r.host}:${r.port}`, renderKey: (r) => `${r.supervisorId}:${r.port}`, render: (r, cell) => cell.append(logLink(tid(), r.host, r.port, 'log')) },
    ],
  });
  const workerErrors = new DataTable<WorkerError>({
    id: 'worker-errors',
    rowKey: (r) => `${r.errorTime}:${r.errorHost}:${r.errorPort}:${r.error.slice(0, 40)}`,
    columns: [
      { id: 'time', title: 'Time', value: (r) => r.errorTime, text: (r) => fmtTime(r.errorTime) },
      { id: 'host', title: 'Host', value: (r) => r.errorHost },
      { id: 'port', title: 'Port', value: (r) => r.errorPort, text: (r) => String(r.errorPort), numeric: true },
      { id: 'error', title: 'Error', value: (r) => r.error, text: (r) => firstLine(r.error, 400), cellTip: (r) => r.error },
    ],
  });
  const workerErrorsPanel = section('Worker start failures', 'worker-errors', workerErrors.el);
  workerErrorsPanel.hidden = true;
  const config = keyValueTable('topology-configuration');

  const el = h(
    'div',
    { class: 'page topology-page' },
    title,
    actions.el,
    note,
    section('Topology summary', 'topology-summary', summary.el),
    section('Topology stats', 'topology-stats', h('div', { class: 'tabs', role: 'group', 'aria-label': 'Stats window' }, ...windowButtons), windowNote, stats.el),
    section('Topology visualization', 'visualization', h('div', { class: 'graph-wrap' }, graph.el), legend),
    section('Spouts', 'spouts', spouts.el),
    section('Bolts', 'bolts', bolts.el),
    checkpointPanel,
    extras.el,
    section('Worker resources', 'workers', workers.el),
    workerErrorsPanel,
    h('details', { class: 'panel', id: 'configuration' }, h('summary', {}, 'Topology configuration'), config.el),
  );

  return {
    el,
    async refresh(signal) {
      const q = windowId === ':all-time' ? '' : `?window=${enc(windowId)}`;
      const [topo, vis] = await Promise.all([getJson<Topology>(`topology/${enc(id)}${q}`, signal), getJson<Visualization>(`topology/${enc(id)}/visualization`, signal)]);
      topologyId = topo.id;
      components = [...topo.spouts.map((sp) => sp.spoutId), ...topo.bolts.map((b) => b.boltId)];
      host.setCrumbs([{ label: 'Cluster', href: '#/' }, { label: topo.name }]);
      title.replaceChildren(topo.name, ' ', statusBadge(topo.status));
      actions.update(topo.status, topo.msgTimeout);
      note.hidden = !topo.schedulerDisplayResource;
      setText(note, topo.schedulerDisplayResource ?? '');
      summary.update([topo]);
      const shown = topo.windowPretty ?? (topo.window ? STATS_WINDOWS.find((w) => w.window === topo.window)?.windowPretty : undefined);
      setText(windowNote, shown ? `Spouts, bolts and the graph's colours cover: ${shown}.` : 'This Nimbus reports all-time figures only.');
      stats.update(topo.topologyStats);
      graph.update(vis);
      spouts.update(topo.spouts);
      bolts.update(topo.bolts);
      extras.update(topo.bolts);
      checkpointPanel.hidden = !topo.checkpoint;
      if (topo.checkpoint) checkpoints.update([topo.checkpoint]);
      workers.update(topo.workers);
      workerErrorsPanel.hidden = topo.workerErrors.length === 0;
      workerErrors.update(topo.workerErrors);
      config.update(Object.entries(topo.configuration).map(([k, v]) => [k, JSON.stringify(v)]));
    },
  };
}

function componentsText(w: WorkerEntry): string {
  return Object.entries(w.componentNumTasks)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([c, n]) => (n === 1 ? c : `${c} ×${n}`))
    .join(', ');
}
