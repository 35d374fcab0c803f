/**
 * The component page (Storm UI's): summary and stats per window, the latency distribution
 * (p50/p90/p99/p99.9 and a chart), per-executor stats with links to their workers' logs,
 * windowed/stateful/async panels, user metrics, errors, inputs and outputs.
 */
import { enc, getJson } from '../api';
import { distributionChart, percentileChart } from '../chart';
import { h, section, setText } from '../dom';
import { capacityLevel, fmtCapacity, fmtDuration, fmtMs, fmtTime, firstLine, num } from '../lib/format';
import { routeHref } from '../lib/routes';
import { latencyPercentiles, PERCENTILE_KEYS, type LatencyKind } from '../lib/stats';
import type { Page, PageHost } from '../page';
import { DataTable, type Column } from '../table';
import { STATS_WINDOWS, type Component, type Executor, type UserMetric, type ComponentWindowRow } from '../types';
import { ExtrasPanels } from './extras';
import { logLink } from './widgets';

type ErrorRow = Component['componentErrors'][number];
type Input = NonNullable<Component['inputStats']>[number];
type Output = NonNullable<Component['outputStats']>[number];

function windowColumns(type: 'spout' | 'bolt'): Array<Column<ComponentWindowRow>> {
  const cols: Array<Column<ComponentWindowRow>> = [
    { id: 'window', title: 'Window', value: (r) => r.windowPretty },
    { id: 'emitted', title: 'Emitted', value: (r) => r.emitted, numeric: true },
    { id: 'transferred', title: 'Transferred', value: (r) => r.transferred, numeric: true },
  ];
  if (type === 'spout') cols.push({ id: 'completeLatency', title: 'Complete latency (ms)', value: (r) => num(r.completeLatency), text: (r) => fmtMs(r.completeLatency), numeric: true });
  else
    cols.push(
      { id: 'capacity', title: 'Capacity', value: (r) => num(r.capacity), text: (r) => fmtCapacity(r.capacity), numeric: true },
      { id: 'executeLatency', title: 'Execute latency (ms)', value: (r) => num(r.executeLatency), text: (r) => fmtMs(r.executeLatency), numeric: true },
      { id: 'executed', title: 'Executed', value: (r) => r.executed, numeric: true },
      { id: 'processLatency', title: 'Process latency (ms)', value: (r) => num(r.processLatency), text: (r) => fmtMs(r.processLatency), numeric: true },
    );
  cols.push({ id: 'acked', title: 'Acked', value: (r) => r.acked, numeric: true }, { id: 'failed', title: 'Failed', value: (r) => r.failed, numeric: true });
  return cols;
}

function executorColumns(type: 'spout' | 'bolt', topologyId: () => string): Array<Column<Executor>> {
  const cols: Array<Column<Executor>> = [
    { id: 'id', title: 'Id', tip: 'Executor id: its task range [first-last]', value: (r) => r.id },
    { id: 'uptime', title: 'Uptime', tip: "Time since the executor's worker started", value: (r) => r.uptimeSeconds, text: (r) => fmtDuration(r.uptimeSeconds), numeric: true },
    { id: 'host', title: 'Host', value: (r) => r.host },
    {
      id: 'port',
      title: 'Port',
      tip: "The worker's port (links to its log)",
      value: (r) => r.port,
      renderKey: (r) => `${r.host}:${r.port}`,
      render: (r, cell) => cell.append(logLink(topologyId(), r.host, r.port, String(r.port))),
      numeric: true,
    },
    { id: 'emitted', title: 'Emitted', value: (r) => r.emitted, numeric: true },
    { id: 'transferred', title: 'Transferred', value: (r) => r.transferred, numeric: true },
  ];
  if (type === 'spout') {
    cols.push(
      { id: 'completeLatency', title: 'Complete latency (ms)', value: (r) => num(r.completeLatency), text: (r) => fmtMs(r.completeLatency), numeric: true },
      { id: 'completeP99', title: 'p99 (ms)', value: (r) => num(r.completeLatencyP99), text: (r) => fmtMs(r.completeLatencyP99), numeric: true },
    );
  } else {
    cols.push(
      {
        id: 'capacity',
        title: 'Capacity',
        value: (r) => num(r.capacity),
        renderKey: (r) => r.capacity,
        render: (r, cell) => cell.append(h('span', { class: `capacity cap-${capacityLevel(num(r.capacity))}` }, fmtCapacity(r.capacity))),
        numeric: true,
      },
      { id: 'executeLatency', title: 'Execute latency (ms)', value: (r) => num(r.executeLatency), text: (r) => fmtMs(r.executeLatency), numeric: true },
      { id: 'executeP99', title: 'p99 (ms)', value: (r) => num(r.executeLatencyP99), text: (r) => fmtMs(r.executeLatencyP99), numeric: true },
      { id: 'executed', title: 'Executed', value: (r) => r.executed, numeric: true },
      { id: 'processLatency', title: 'Process latency (ms)', value: (r) => num(r.processLatency), text: (r) => fmtMs(r.processLatency), numeric: true },
    );
  }
  cols.push(
    { id: 'acked', title: 'Acked', value: (r) => r.acked, numeric: true },
    { id: 'failed', title: 'Failed', value: (r) => r.failed, numeric: true },
    { id: 'backpressure', title: 'Backpressure (ms)', tip: 'Time parked because a queue it feeds was full', value: (r) => r.backpressureMs, numeric: true },
  );
  return cols;
}

function metricValue(m: UserMetric): string {
  switch (m.type) {
    case 'counter':
      return `count ${m.count.toLocaleString('en-US')}`;
    case 'meter':
      return `count ${m.count.toLocaleString('en-US')}${m.ratePerSec === null ? '' : `, ${m.ratePerSec.toFixed(2)}/s`}`;
    case 'histogram':
      return `count ${m.count.toLocaleString('en-US')}, mean ${m.mean.toFixed(3)}, p50 ${m.p50}, p90 ${m.p90}, p99 ${m.p99}, p99.9 ${m.p999}, max ${m.max}`;
    case 'gauge':
      return `${m.value} (min ${m.min}, mean ${m.mean.toFixed(3)}, max ${m.max} over ${m.tasks} tasks)`;
  }
}

export function componentPage(host: PageHost, id: string, component: string): Page {
  let topologyId = id;
  let windowId = ':all-time';
  let type: 'spout' | 'bolt' | null = null;
  const tid = (): string => topologyId;
  const crumbs = (name: string): void =>
    host.setCrumbs([{ label: 'Cluster', href: '#/' }, { label: name, href: routeHref({ page: 'topology', id }) }, { label: component }]);
  crumbs(id);

  const title = h('h1', {}, component);
  const summary = new DataTable<Component>({
    id: 'component-summary',
    rowKey: () => 'component',
    columns: [
      { id: 'id', title: 'Id', value: (r) => r.id },
      { id: 'topology', title: 'Topology', value: (r) => r.name, render: (r, cell) => cell.append(h('a', { href: routeHref({ page: 'topology', id: r.topologyId }) }, r.name)) },
      { id: 'type', title: 'Type', value: (r) => r.componentType },
      { id: 'executors', title: 'Executors', value: (r) => r.executors, numeric: true },
      { id: 'tasks', title: 'Tasks', value: (r) => r.tasks, numeric: true },
      { id: 'emitted', title: 'Emitted', tip: 'In the chosen window', value: (r) => r.summary.emitted, numeric: true },
      { id: 'transferred', title: 'Transferred', value: (r) => r.summary.transferred, numeric: true },
      { id: 'executed', title: 'Executed', value: (r) => (r.componentType === 'bolt' ? r.summary.executed : null), numeric: true },
      { id: 'acked', title: 'Acked', value: (r) => r.summary.acked, numeric: true },
      { id: 'failed', title: 'Failed', value: (r) => r.summary.failed, numeric: true },
    ],
  });
  const windowButtons = STATS_WINDOWS.map((w) => h('button', { type: 'button', 'data-window': w.window, 'aria-pressed': w.window === windowId ? 'true' : 'false', onclick: () => choose(w.window) }, w.windowPretty));
  const choose = (w: string): void => {
    windowId = w;
    for (const b of windowButtons) b.setAttribute('aria-pressed', b.dataset.window === w ? 'true' : 'false');
    host.refreshSoon();
  };
  const windowNote = h('p', { class: 'note' });
  let windows: DataTable<ComponentWindowRow> | null = null;
  const windowsHolder = h('div');
  const latencyHolder = h('div', { class: 'grid-2' });
  const latencyNote = h('p', { class: 'note' });
  let executors: DataTable<Executor> | null = null;
  const executorsHolder = h('div');
  const extras = new ExtrasPanels<Executor>('component', 'Executor', (r) => r.id, (r) => r.id);
  const metrics = new DataTable<UserMetric>({
    id: 'metrics',
    rowKey: (r) => r.name,
    sortBy: 'name',
    columns: [
      { id: 'name', title: 'Name', value: (r) => r.name },
      { id: 'type', title: 'Type', value: (r) => r.type },
      { id: 'value', title: 'Value', value: (r) => metricValue(r) },
    ],
  });
  const metricsPanel = section('User metrics', 'metrics', metrics.el);
  metricsPanel.hidden = true;
  const errors = new DataTable<ErrorRow>({
    id: 'component-errors',
    rowKey: (r) => `${r.errorTime}:${r.errorHost}:${r.errorPort}:${r.error.slice(0, 60)}`,
    empty: 'No errors.',
    columns: [
      { id: 'time', title: 'Time', value: (r) => r.errorTime, text: (r) => fmtTime(r.errorTime) },
      { id: 'host', title: 'Error host', value: (r) => r.errorHost },
      { id: 'port', title: 'Error port', value: (r) => r.errorPort, renderKey: (r) => `${r.errorHost}:${r.errorPort}`, render: (r, cell) => cell.append(logLink(tid(), r.errorHost, r.errorPort, String(r.errorPort))), numeric: true },
      { id: 'error', title: 'Error', value: (r) => r.error, text: (r) => firstLine(r.error, 400), cellTip: (r) => r.error },
    ],
  });
  const inputs = new DataTable<Input>({
    id: 'inputs',
    rowKey: (r) => `${r.component}:${r.stream}`,
    columns: [
      { id: 'component', title: 'Component', value: (r) => r.component, render: (r, cell) => cell.append(h('a', { href: routeHref({ page: 'component', id: tid(), component: r.component }) }, r.component)) },
      { id: 'stream', title: 'Stream', value: (r) => r.stream },
      { id: 'grouping', title: 'Grouping', value: (r) => r.grouping },
      { id: 'executed', title: 'Executed', value: (r) => r.executed, numeric: true },
      { id: 'acked', title: 'Acked', value: (r) => r.acked, numeric: true },
      { id: 'failed', title: 'Failed', value: (r) => r.failed, numeric: true },
    ],
  });
  const inputsPanel = section('Inputs', 'inputs', inputs.el);
  const outputs = new DataTable<Output>({
    id: 'outputs',
    rowKey: (r) => r.stream,
    columns: [
      { id: 'stream', title: 'Stream', value: (r) => r.stream },
      { id: 'fields', title: 'Fields', value: (r) => r.fields.join(', ') },
      { id: 'direct', title: 'Direct', value: (r) => (r.direct ? 'yes' : 'no') },
      { id: 'emitted', title: 'Emitted', value: (r) => r.emitted, numeric: true },
      { id: 'transferred', title: 'Transferred', value: (r) => r.transferred, numeric: true },
    ],
  });

  const el = h(
    'div',
    { class: 'page component-page' },
    title,
    section('Component summary', 'component-summary', summary.el),
    section('Stats', 'component-stats', h('div', { class: 'tabs', role: 'group', 'aria-label': 'Stats window' }, ...windowButtons), windowNote, windowsHolder),
    section('Latency distribution', 'latency', latencyNote, latencyHolder),
    section('Executors', 'executors', executorsHolder),
    extras.el,
    metricsPanel,
    section('Errors', 'errors', errors.el),
    inputsPanel,
    section('Outputs', 'outputs', outputs.el),
  );

  function renderLatency(page: Component): void {
    const kinds: LatencyKind[] = page.componentType === 'spout' ? ['complete'] : ['execute', 'process'];
    latencyHolder.replaceChildren();
    let any = false;
    for (const kind of kinds) {
      const p = latencyPercentiles(page.summary, kind);
      const mean = kind === 'complete' ? page.summary.completeLatency : kind === 'execute' ? page.summary.executeLatency : page.summary.processLatency;
      const table = h(
        'table',
        { class: 'data', 'data-table': `latency-${kind}` },
        h('thead', {}, h('tr', {}, h('th', {}, `${kind[0].toUpperCase()}${kind.slice(1)} latency`), h('th', { class: 'num' }, 'ms'))),
        h(
          'tbody',
          {},
          h('tr', { 'data-key': 'mean' }, h('td', {}, 'mean'), h('td', { class: 'num', 'data-col': 'ms' }, fmtMs(mean))),
          ...(p ? PERCENTILE_KEYS.map(([k, label]) => h('tr', { 'data-key': k }, h('td', {}, label), h('td', { class: 'num', 'data-col': 'ms' }, fmtMs(p[k])))) : []),
        ),
      );
      const box = h('div', { class: 'latency-box', 'data-kind': kind }, table);
      if (p) {
        any = true;
        box.append(percentileChart(p));
      }
      latencyHolder.append(box);
    }
    const dist = page.latencyDistribution;
    if (dist && dist.buckets.length > 0) latencyHolder.append(h('div', { class: 'latency-box', 'data-kind': 'distribution' }, h('p', { class: 'note' }, `${dist.kind} latency, ${dist.count.toLocaleString('en-US')} samples`), distributionChart(dist)));
    setText(latencyNote, any ? 'From the exact latency histograms the workers keep (each value within ~6%).' : 'This Nimbus reports mean latencies only.');
  }

  return {
    el,
    async refresh(signal) {
      const q = windowId === ':all-time' ? '' : `?window=${enc(windowId)}`;
      const page = await getJson<Component>(`topology/${enc(id)}/component/${enc(component)}${q}`, signal);
      topologyId = page.topologyId;
      crumbs(page.name);
      if (type !== page.componentType) {
        type = page.componentType;
        windows = new DataTable<ComponentWindowRow>({ id: 'component-window-stats', rowKey: (r) => r.window, columns: windowColumns(type) });
        windowsHolder.replaceChildren(windows.el);
        executors = new DataTable<Executor>({ id: 'executors', rowKey: (r) => r.id, pageSize: 25, filter: true, columns: executorColumns(type, tid) });
        executorsHolder.replaceChildren(executors.el);
      }
      title.replaceChildren(component, ' ', h('span', { class: 'muted' }, page.componentType));
      summary.update([page]);
      const perWindow = page.spoutSummary ?? page.boltStats;
      windowsHolder.hidden = !perWindow;
      if (perWindow) windows!.update(perWindow);
      const shown = page.windowPretty ?? STATS_WINDOWS.find((w) => w.window === page.window)?.windowPretty;
      setText(windowNote, shown ? `Executors, inputs, outputs, metrics and the latency distribution cover: ${shown}.` : 'This Nimbus reports all-time figures only.');
      renderLatency(page);
      executors!.update(page.executorStats);
      extras.update(page.executorStats);
      metricsPanel.hidden = !page.metrics || page.metrics.length === 0;
      if (page.metrics) metrics.update(page.metrics);
      errors.update(page.componentErrors);
      inputsPanel.hidden = page.componentType === 'spout';
      inputs.update(page.inputStats ?? []);
      outputs.update(page.outputStats ?? []);
    },
  };
}
