/** The UI's pure pieces: formatting, routes, table paging, rates and percentiles, log lines. */
import { allowedActions, parseExecutors } from '../../../ui/lib/actions';
import { capacityLevel, fmtBytes, fmtDuration, fmtInt, fmtMs, fmtRate, firstLine } from '../../../ui/lib/format';
import { formatLogLine } from '../../../ui/lib/log-format';
import { parseRoute, routeHref, type Route } from '../../../ui/lib/routes';
import { edgeWidth, latencyPercentiles } from '../../../ui/lib/stats';
import { compareValues, tableView } from '../../../ui/lib/table-model';

describe('format', () => {
  test('figures as Storm UI prints them', () => {
    expect([fmtInt(1234567), fmtInt(0), fmtInt(null), fmtInt(Number.NaN)]).toEqual(['1,234,567', '0', '-', '-']);
    expect([fmtMs('3.2'), fmtMs(0.02), fmtMs(''), fmtMs('x')]).toEqual(['3.200', '0.020', '-', '-']);
    expect([fmtBytes(512), fmtBytes(73400320)]).toEqual(['512 B', '70.0 MiB']);
    expect([fmtDuration(5), fmtDuration(75), fmtDuration(3600), fmtDuration(90061), fmtDuration(-1)]).toEqual(['5s', '1m 15s', '1h 0m 0s', '1d 1h 1m 1s', '-']);
    expect([fmtRate(0), fmtRate(8.54), fmtRate(1234), fmtRate(12345), fmtRate(4560000)]).toEqual(['0', '8.5', '1,234', '12.3k', '4.56M']);
    expect(firstLine('Error: x\n    at y', 5)).toBe('Error…');
  });

  test('capacity levels', () => {
    expect([0, 0.049, 0.05, 0.49, 0.5, 0.79, 0.8, 1.3, Number.NaN].map(capacityLevel)).toEqual(['idle', 'idle', 'ok', 'ok', 'warm', 'warm', 'hot', 'hot', 'idle']);
  });
});

describe('routes', () => {
  const routes: Route[] = [
    { page: 'cluster' },
    { page: 'topology', id: 'word count-1-17' },
    { page: 'component', id: 'wc-1-17', component: 'split/#?' },
    { page: 'logs', id: 'wc-1-17', host: 'sup a', port: 6700 },
    { page: 'logs', id: 'wc-1-17', host: 's', port: 6701, file: 'worker.log.1', start: 4096 },
  ];
  test.each(routes)('%j survives href → parse', (r) => {
    expect(parseRoute(routeHref(r))).toEqual(r);
  });

  test('anything else is not found', () => {
    for (const hash of ['#/nope', '#/topology', '#/topology/a/component', '#/topology/a/logs/s/x', '#/topology/%E0%A4%A']) expect(parseRoute(hash).page).toBe('not-found');
    expect(parseRoute('')).toEqual({ page: 'cluster' });
    expect(parseRoute('#/topology/a/logs/s/1?start=-5')).toEqual({ page: 'logs', id: 'a', host: 's', port: 1 });
  });
});

describe('table view', () => {
  const rows = Array.from({ length: 1000 }, (_, i) => ({ id: `e${i}`, n: (i * 7919) % 1000, host: i % 2 ? 'a' : 'b' }));
  const values = [(r: (typeof rows)[0]) => r.id, (r: (typeof rows)[0]) => r.n, (r: (typeof rows)[0]) => r.host];

  test('one page of the sorted, filtered rows', () => {
    const v = tableView({ rows, values, sort: { column: 1, descending: true }, filter: '', page: 2, pageSize: 25 });
    expect([v.total, v.pages, v.page, v.first, v.rows.length]).toEqual([1000, 40, 2, 50, 25]);
    expect(v.rows.map((r) => r.n)).toEqual(Array.from({ length: 25 }, (_, i) => 949 - i));
    const f = tableView({ rows, values, sort: { column: 0, descending: false }, filter: 'E99', page: 0, pageSize: 25 });
    expect(f.rows.map((r) => r.id)).toEqual(['e99', 'e990', 'e991', 'e992', 'e993', 'e994', 'e995', 'e996', 'e997', 'e998', 'e999']);
  });

  test('a page past the end shows the last page; natural string order; nulls last both ways', () => {
    expect(tableView({ rows, values, sort: { column: -1, descending: false }, filter: '', page: 99, pageSize: 300 }).page).toBe(3);
    expect(['w10', 'w2', 'w1'].sort(compareValues)).toEqual(['w1', 'w2', 'w10']);
    const withNull = [{ v: 2 }, { v: null }, { v: 1 }];
    const vals = [(r: { v: number | null }) => r.v];
    expect(tableView({ rows: withNull, values: vals, sort: { column: 0, descending: false }, filter: '', page: 0, pageSize: 9 }).rows.map((r) => r.v)).toEqual([1, 2, null]);
    expect(tableView({ rows: withNull, values: vals, sort: { column: 0, descending: true }, filter: '', page: 0, pageSize: 9 }).rows.map((r) => r.v)).toEqual([2, 1, null]);
  });
});

describe('stats', () => {
  test('percentiles: nested or flat fields, absent is null', () => {
    expect(latencyPercentiles({ completeLatencyPercentiles: { p50: '1.000', p90: 2, p99: 3, p999: 4 } }, 'complete')).toEqual({ p50: 1, p90: 2, p99: 3, p999: 4 });
    expect(latencyPercentiles({ executeLatencyP50: '0.5', executeLatencyP99: '0.9' }, 'execute')).toMatchObject({ p50: 0.5, p99: 0.9 });
    expect(latencyPercentiles({ executeLatency: '0.5' }, 'execute')).toBeNull();
    expect(latencyPercentiles(null, 'process')).toBeNull();
  });
});

describe('log lines', () => {
  test('pino records and plain text', () => {
    const t = new Date(2025, 0, 15, 12, 34, 56, 789).getTime();
    expect(formatLogLine(JSON.stringify({ level: 50, time: t, pid: 1, topologyId: 'x', msg: 'boom', code: 'ERR_X', n: { a: 1 } }))).toEqual({
      time: '12:34:56.789',
      level: 'error',
      msg: 'boom',
      extra: 'code=ERR_X n={"a":1}',
    });
    expect(formatLogLine('plain text\n')).toEqual({ time: '', level: 'text', msg: 'plain text', extra: '' });
    expect(formatLogLine('{not json').level).toBe('text');
    expect(formatLogLine('[1,2]').level).toBe('text');
  });
});

describe('actions', () => {
  test("the buttons a status allows follow Nimbus's state machine", () => {
    expect([...allowedActions('ACTIVE')].sort()).toEqual(['deactivate', 'kill', 'rebalance']);
    expect([...allowedActions('INACTIVE')].sort()).toEqual(['activate', 'kill', 'rebalance']);
    expect([...allowedActions('REBALANCING')]).toEqual(['kill']);
    expect([...allowedActions('KILLED')]).toEqual([]);
  });

  test("the rebalance dialog's executors", () => {
    expect(parseExecutors('split=4, count = 2')).toEqual({ split: 4, count: 2 });
    expect(parseExecutors('')).toEqual({});
    for (const bad of ['split', 'split=x', 'split=-1', '=3']) expect(parseExecutors(bad)).toBeNull();
  });

  test('edge width grows with the rate, bounded', () => {
    expect([edgeWidth(null), edgeWidth(0)]).toEqual([1.2, 1.2]);
    expect(edgeWidth(10)).toBeLessThan(edgeWidth(1000));
    expect(edgeWidth(1e12)).toBe(8);
  });
});
