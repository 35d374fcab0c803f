/** The cluster page (Storm UI's index): cluster, Nimbus, topology and supervisor summaries. */
import type { ClusterSummary, NimbusSummaryEntry, SupervisorSummaryEntry, TopologySummaryEntry } from '../../common/protocol/rest';
import { getJson } from '../api';
import { h, section } from '../dom';
import { fmtDuration } from '../lib/format';
import { routeHref } from '../lib/routes';
import type { Page, PageHost } from '../page';
import { DataTable, keyValueTable } from '../table';
import { statusBadge } from './widgets';

export function clusterPage(host: PageHost): Page {
  host.setCrumbs([{ label: 'Cluster' }]);
  const cluster = new DataTable<ClusterSummary>({
    id: 'cluster-summary',
    rowKey: () => 'cluster',
    columns: [
      { id: 'version', title: 'Version', tip: 'Squall version of Nimbus', value: (r) => r.squallVersion },
      { id: 'uptime', title: 'Nimbus uptime', tip: 'Time since Nimbus started', value: (r) => r.nimbusUptimeSeconds, text: (r) => fmtDuration(r.nimbusUptimeSeconds), numeric: true },
      { id: 'supervisors', title: 'Supervisors', tip: 'Live supervisors (machines running workers)', value: (r) => r.supervisors, numeric: true },
      { id: 'slotsUsed', title: 'Used slots', tip: 'Worker slots with a worker assigned, on live supervisors', value: (r) => r.slotsUsed, numeric: true },
      { id: 'slotsFree', title: 'Free slots', tip: 'Worker slots nothing is assigned to', value: (r) => r.slotsFree, numeric: true },
      { id: 'slotsTotal', title: 'Total slots', tip: 'Every worker slot of every live supervisor', value: (r) => r.slotsTotal, numeric: true },
      { id: 'topologies', title: 'Topologies', tip: 'Topologies known to Nimbus, killed ones until they are removed', value: (r) => r.topologies, numeric: true },
      { id: 'executors', title: 'Executors', tip: 'Executors (threads of work) of every topology', value: (r) => r.executorsTotal, numeric: true },
      { id: 'tasks', title: 'Tasks', tip: 'Tasks (component instances) of every topology', value: (r) => r.tasksTotal, numeric: true },
    ],
  });
  const nimbuses = new DataTable<NimbusSummaryEntry>({
    id: 'nimbus-summary',
    rowKey: (r) => `${r.host}:${r.port}`,
    columns: [
      { id: 'host', title: 'Host', tip: 'Where Nimbus is reached', value: (r) => r.host },
      { id: 'port', title: 'Port', tip: 'REST port', value: (r) => r.port, text: (r) => String(r.port), numeric: true },
      { id: 'status', title: 'Status', tip: 'Leader: the Nimbus that schedules', value: (r) => r.status },
      { id: 'version', title: 'Version', value: (r) => r.version },
      { id: 'uptime', title: 'Uptime', tip: 'Time since this Nimbus started', value: (r) => r.nimbusUpTimeSeconds, text: (r) => fmtDuration(r.nimbusUpTimeSeconds), numeric: true },
    ],
  });
  const topologies = new DataTable<TopologySummaryEntry>({
    id: 'topology-summary',
    rowKey: (r) => r.id,
    filter: true,
    sortBy: 'name',
    empty: 'No topologies running.',
    columns: [
      {
        id: 'name',
        title: 'Name',
        tip: 'Topology name (click for its page)',
        value: (r) => r.name,
        renderKey: (r) => `${r.id}\u0000${r.name}`,
        render: (r, cell) => cell.append(h('a', { href: routeHref({ page: 'topology', id: r.id }) }, r.name)),
      },
      { id: 'id', title: 'Id', tip: 'Topology id: <name>-<counter>-<launch seconds>', value: (r) => r.id },
      { id: 'owner', title: 'Owner', tip: 'Who submitted it', value: (r) => r.owner },
      { id: 'status', title: 'Status', tip: 'ACTIVE, INACTIVE (spouts paused), REBALANCING or KILLED', value: (r) => r.status, render: (r, cell) => cell.append(statusBadge(r.status)) },
      { id: 'uptime', title: 'Uptime', tip: 'Time since submission', value: (r) => r.uptimeSeconds, text: (r) => fmtDuration(r.uptimeSeconds), numeric: true },
      { id: 'workers', title: 'Num workers', tip: 'Worker processes assigned', value: (r) => r.workersTotal, numeric: true },
      { id: 'executors', title: 'Num executors', tip: 'Executors, including the ackers', value: (r) => r.executorsTotal, numeric: true },
      { id: 'tasks', title: 'Num tasks', tip: 'Tasks, including the ackers', value: (r) => r.tasksTotal, numeric: true },
      { id: 'scheduler', title: 'Scheduler info', tip: 'Why the topology is not fully running, when it is not', value: (r) => r.schedulerDisplayResource ?? '' },
    ],
  });
  const supervisors = new DataTable<SupervisorSummaryEntry>({
    id: 'supervisor-summary',
    rowKey: (r) => r.id,
    sortBy: 'id',
    empty: 'No supervisors.',
    columns: [
      { id: 'id', title: 'Id', tip: 'Supervisor id (supervisor.id)', value: (r) => r.id },
      { id: 'host', title: 'Host', tip: 'supervisor.host: where its workers are reached', value: (r) => r.host },
      { id: 'uptime', title: 'Uptime', tip: "Time since the supervisor started (its own clock)", value: (r) => r.uptimeSeconds, text: (r) => fmtDuration(r.uptimeSeconds), numeric: true },
      { id: 'slots', title: 'Slots', tip: 'Worker slots (supervisor.slots.ports)', value: (r) => r.slotsTotal, numeric: true },
      { id: 'slotsUsed', title: 'Used slots', tip: 'Slots with a worker assigned', value: (r) => r.slotsUsed, numeric: true },
      { id: 'slotsFree', title: 'Free slots', tip: 'Slots nothing is assigned to', value: (r) => r.slotsFree, numeric: true },
      { id: 'usedPorts', title: 'Used ports', tip: 'Ports of the used slots', value: (r) => r.usedPorts.join(', ') },
      { id: 'version', title: 'Version', value: (r) => r.version },
    ],
  });
  const config = keyValueTable('nimbus-configuration');
  let configLoaded = false;
  const configPanel = h('details', { class: 'panel', id: 'nimbus-configuration' }, h('summary', {}, 'Nimbus configuration'), config.el);
  configPanel.addEventListener('toggle', () => {
    if (!configPanel.open || configLoaded) return;
    configLoaded = true;
    getJson<Record<string, unknown>>('cluster/configuration').then(
      (c) => config.update(Object.entries(c).map(([k, v]) => [k, JSON.stringify(v)])),
      () => (configLoaded = false),
    );
  });
  const el = h(
    'div',
    { class: 'page cluster-page' },
    section('Cluster summary', 'cluster', cluster.el),
    section('Nimbus summary', 'nimbus', nimbuses.el),
    section('Topology summary', 'topologies', topologies.el),
    section('Supervisor summary', 'supervisors', supervisors.el),
    configPanel,
  );
  return {
    el,
    async refresh(signal) {
      const [c, n, t, s] = await Promise.all([
        getJson<ClusterSummary>('cluster/summary', signal),
        getJson<{ nimbuses: NimbusSummaryEntry[] }>('nimbus/summary', signal),
        getJson<{ topologies: TopologySummaryEntry[] }>('topology/summary', signal),
        getJson<{ supervisors: SupervisorSummaryEntry[] }>('supervisor/summary', signal),
      ]);
      cluster.update([c]);
      nimbuses.update(n.nimbuses);
      topologies.update(t.topologies);
      supervisors.update(s.supervisors);
    },
  };
}
