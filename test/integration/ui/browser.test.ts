/**
 * The web UI in a real browser (Debian's chromium via playwright-core) against a running
 * `squall dev` cluster: two supervisors, real worker processes, a Nimbus token. One browser and
 * one cluster for the file; each page is checked against Nimbus's REST answers and a screenshot of
 * it is written to test-output/ui/.
 */
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { ClusterSummary, ComponentPage, SupervisorSummaryEntry } from '../../../common/protocol/rest';
import { BROWSER_LAUNCH_MS, BROWSER_WAIT_MS, describeWithBrowser, figure, lastRefreshMs, launchBrowser, newPage, openPage, refreshCount, rowCells, rowKeys, screenshot, waitForRefreshes, waitForRowCount } from '../../helpers/browser';
import { backstopMs, waitFor } from '../../helpers/cluster-harness';
import { DEV_GET_BOUND_MS, DEV_START_BOUND_MS, DEV_STOP_BOUND_MS, DEV_SUBMIT_BOUND_MS, DevClusterProcess } from '../../helpers/dev-cluster';
import { startFixtureServer, TOPOLOGIES, WIDE_EXECUTORS } from '../../helpers/ui-fixture';
import { wordsIn } from '../../fixtures/ui/word-count';

const TOKEN = 'ui-test-token';
const SENTENCES = 200;
const FIXTURE = path.resolve(__dirname, '../../fixtures/ui/word-count.ts');

describeWithBrowser('web UI', () => {
  // one browser for the whole file
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  }, backstopMs(BROWSER_LAUNCH_MS));
  afterAll(async () => {
    await browser?.close();
  }, backstopMs(BROWSER_WAIT_MS));

  describe('on a dev cluster', () => {
    let dev: DevClusterProcess;
    let topologyId = '';
    const pageErrors: string[] = [];
    let page: Page;

    beforeAll(async () => {
      dev = await DevClusterProcess.start({ name: 'ui', supervisors: 2, slots: 2, config: { 'nimbus.auth.token': TOKEN } });
      topologyId = await dev.submit(FIXTURE, 'ui-words', { 'topology.workers': 2, 'test.input.count': SENTENCES, 'test.output.dir': path.join(dev.dir, 'out') });
      await dev.waitForWorkersRunning(topologyId, 2);
      page = await newPage(browser, pageErrors);
      // refresh every 500 ms so live updates show quickly
      await page.goto(`${dev.url}/?refresh=500`);
    }, backstopMs(DEV_START_BOUND_MS, DEV_SUBMIT_BOUND_MS, BROWSER_WAIT_MS));

    afterAll(async () => {
      await page?.context().close();
      await dev?.stop();
    }, backstopMs(BROWSER_WAIT_MS, DEV_STOP_BOUND_MS));

    afterEach(() => {
      expect(pageErrors.splice(0)).toEqual([]);
    });

    test('GET / serves the page and its assets with cache headers; /api/v1 is untouched', async () => {
      await dev.run(async () => {
        const res = await fetch(`${dev.url}/`);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
        expect(res.headers.get('cache-control')).toBe('no-cache');
        expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
        const html = await res.text();
        const script = /src="(assets\/app\.js\?v=[0-9a-f]+)"/.exec(html)?.[1];
        expect(script).toBeDefined();
        const js = await fetch(`${dev.url}/${script}`);
        expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
        expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
        const again = await fetch(`${dev.url}/${script}`, { headers: { 'If-None-Match': js.headers.get('etag') ?? '' } });
        expect(again.status).toBe(304);
        const api = await fetch(`${dev.url}/api/v1/nope`);
        expect([api.status, ((await api.json()) as { code: string }).code]).toEqual([404, 'ERR_ROUTE_NOT_FOUND']);
        const other = await fetch(`${dev.url}/assets/../package.json`);
        expect(other.status).toBe(404);
      });
    }, backstopMs(4 * DEV_GET_BOUND_MS));

    test('cluster page: cluster, Nimbus, supervisor and topology summaries match REST', async () => {
      await dev.run(async () => {
        await openPage(page, `${dev.url}/?refresh=500`, '#/');
        const summary = await dev.get<ClusterSummary>('/cluster/summary');
        const cluster = await rowCells(page, 'cluster-summary', 'cluster');
        expect(cluster.version).toBe(summary.squallVersion);
        expect(figure(cluster.supervisors)).toBe(2);
        expect([figure(cluster.slotsTotal), figure(cluster.slotsUsed), figure(cluster.slotsFree)]).toEqual([4, 2, 2]);
        expect([figure(cluster.executors), figure(cluster.tasks)]).toEqual([summary.executorsTotal, summary.tasksTotal]);
        const sups = (await dev.get<{ supervisors: SupervisorSummaryEntry[] }>('/supervisor/summary')).supervisors;
        expect((await rowKeys(page, 'supervisor-summary')).sort()).toEqual(sups.map((s) => s.id).sort());
        for (const s of sups) {
          const row = await rowCells(page, 'supervisor-summary', s.id);
          expect([row.host, figure(row.slots), figure(row.slotsUsed), figure(row.slotsFree), row.version]).toEqual([s.host, s.slotsTotal, s.slotsUsed, s.slotsFree, s.version]);
        }
        const topo = await rowCells(page, 'topology-summary', topologyId);
        expect([topo.name, topo.status, figure(topo.workers)]).toEqual(['ui-words', 'ACTIVE', 2]);
        const rest = (await dev.topologies()).find((t) => t.id === topologyId)!;
        expect([figure(topo.executors), figure(topo.tasks)]).toEqual([rest.executorsTotal, rest.tasksTotal]);
        // live: the uptime moves on without a reload
        const before = await refreshCount(page);
        const uptime = (await rowCells(page, 'topology-summary', topologyId)).uptime;
        await waitFor('the topology uptime to change on the page', async () => (await rowCells(page, 'topology-summary', topologyId)).uptime !== uptime, 10_000);
        expect(await refreshCount(page)).toBeGreaterThan(before);
        await screenshot(page, 'cluster');
      });
    }, backstopMs(BROWSER_WAIT_MS, 10_000, 4 * DEV_GET_BOUND_MS));

    test('topology page: stats, spouts and bolts match REST; the graph shows every component and stream; workers link to their logs', async () => {
      await dev.run(async () => {
        await waitFor('every sentence acked', async () => (await dev.topology(topologyId)).spouts[0]?.acked === SENTENCES, 60_000, 250);
        const rest = await dev.topology(topologyId);
        await openPage(page, `${dev.url}/?refresh=500`, `#/topology/${encodeURIComponent(topologyId)}`, 2);
        const spout = await rowCells(page, 'spouts', 'sentences');
        expect([figure(spout.emitted), figure(spout.transferred), figure(spout.acked), figure(spout.failed)]).toEqual([SENTENCES, SENTENCES, SENTENCES, 0]);
        expect(figure(spout.executors)).toBe(2);
        const words = wordsIn(SENTENCES);
        const count = await rowCells(page, 'bolts', 'count');
        expect([figure(count.executed), figure(count.acked), figure(count.executors), figure(count.tasks)]).toEqual([words, words, 3, 3]);
        expect(count.lastError).toContain('the moon is not a word to count');
        const split = await rowCells(page, 'bolts', 'split');
        const restSplit = rest.bolts.find((b) => b.boltId === 'split')!;
        expect([figure(split.executed), figure(split.emitted), figure(split.transferred), figure(split.tasks)]).toEqual([SENTENCES, restSplit.emitted, restSplit.transferred, 4]);
        expect(restSplit.emitted).toBe(words + SENTENCES);
        expect(figure((await rowCells(page, 'bolts', 'lengths')).executed)).toBe(SENTENCES);
        const allTime = await rowCells(page, 'topology-stats', ':all-time');
        const restAll = rest.topologyStats.find((w) => w.window === ':all-time')!;
        expect([figure(allTime.emitted), figure(allTime.acked), figure(allTime.failed)]).toEqual([restAll.emitted, SENTENCES, 0]);
        // the graph: a node per component, an edge per subscription, labelled with stream and grouping
        const nodes = await page.$$eval('svg.graph g.node', (gs) => gs.map((g) => g.getAttribute('data-component')).sort());
        expect(nodes).toEqual(['count', 'lengths', 'sentences', 'split']);
        const edges = await page.$$eval('svg.graph g.edge', (gs) => gs.map((g) => `${g.getAttribute('data-edge')} ${g.querySelector('text')?.textContent ?? ''}`).sort());
        expect(edges).toEqual([
          expect.stringMatching(/^sentences→split:default default · shuffle/),
          expect.stringMatching(/^split→count:default default · fields/),
          expect.stringMatching(/^split→lengths:lengths lengths · global/),
        ]);
        // workers: host, port, and a link to each one's log
        expect((await rowKeys(page, 'workers')).sort()).toEqual(rest.workers.map((w) => `${w.supervisorId}:${w.port}`).sort());
        for (const w of rest.workers) {
          const row = await rowCells(page, 'workers', `${w.supervisorId}:${w.port}`);
          expect([row.host, figure(row.port), row.state, row.log]).toEqual([w.host, w.port, 'running', 'log']);
        }
        expect(await rowCells(page, 'topology-configuration', 'topology.workers')).toEqual({ key: 'topology.workers', value: '2' });
        await screenshot(page, 'topology');
      });
    }, backstopMs(60_000, 4 * BROWSER_WAIT_MS, 4 * DEV_GET_BOUND_MS));

    test('component page: per-executor stats, errors with host, port and time, latency panel', async () => {
      await dev.run(async () => {
        const rest = await dev.get<ComponentPage>(`/topology/${encodeURIComponent(topologyId)}/component/count`);
        await openPage(page, `${dev.url}/?refresh=500`, `#/topology/${encodeURIComponent(topologyId)}/component/count`);
        expect((await rowKeys(page, 'executors')).sort()).toEqual(rest.executorStats.map((e) => e.id).sort());
        let executed = 0;
        for (const e of rest.executorStats) {
          const row = await rowCells(page, 'executors', e.id);
          expect([row.host, figure(row.port), figure(row.executed)]).toEqual([e.host, e.port, e.executed]);
          executed += figure(row.executed);
        }
        expect(executed).toBe(wordsIn(SENTENCES));
        expect(rest.componentErrors).toHaveLength(1);
        const err = rest.componentErrors[0];
        const errKey = `${err.errorTime}:${err.errorHost}:${err.errorPort}:${err.error.slice(0, 60)}`;
        const row = await rowCells(page, 'component-errors', errKey);
        expect([row.host, figure(row.port)]).toEqual([err.errorHost, err.errorPort]);
        expect(row.error).toContain('the moon is not a word to count');
        expect(row.time).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
        expect(await page.$$eval('[data-table="latency-execute"] tbody tr', (rs) => rs.map((r) => r.getAttribute('data-key')))).toEqual(['mean', 'p50', 'p90', 'p99', 'p999']);
        expect(await page.$$eval('[data-table="inputs"] tbody tr', (rs) => rs.map((r) => r.getAttribute('data-key')))).toEqual(['split:default']);
        // a plain bolt: no windowed, stateful or async panel
        for (const panel of ['windowed', 'stateful', 'async']) expect(await page.isHidden(`#component-${panel}-panel`)).toBe(true);
        await screenshot(page, 'component');
      });
    }, backstopMs(BROWSER_WAIT_MS, DEV_GET_BOUND_MS));

    test("a worker's log opens from the topology page after the token is given", async () => {
      await dev.run(async () => {
        await openPage(page, `${dev.url}/?refresh=500`, `#/topology/${encodeURIComponent(topologyId)}`);
        const rest = await dev.topology(topologyId);
        const countWorker = rest.workers.find((w) => (w.componentNumTasks.count ?? 0) > 0)!;
        await page.click(`table[data-table="workers"] tr[data-key="${countWorker.supervisorId}:${countWorker.port}"] a.log-link`);
        await page.waitForSelector('dialog[data-dialog="Nimbus token"]');
        await page.fill('dialog[data-dialog="Nimbus token"] input[name="token"]', TOKEN);
        await page.click('dialog[data-dialog="Nimbus token"] button.primary');
        await page.locator('pre.log', { hasText: 'prepared' }).waitFor({ timeout: 15_000 });
        const text = await page.textContent('pre.log');
        expect(text).toMatch(/count task \d+ prepared/);
        expect(text).toContain('worker started');
        await screenshot(page, 'logs');
        // search: the hit links to the page at its line
        await page.fill('input.log-search', 'count task');
        await page.click('button.search');
        await page.waitForSelector('ol.search-results li[data-offset]');
        expect(await page.$$eval('ol.search-results li[data-offset] mark', (ms) => ms.map((m) => m.textContent?.toLowerCase()))).toContain('count task');
      });
    }, backstopMs(8 * BROWSER_WAIT_MS, DEV_GET_BOUND_MS));

    test('actions are refused without the token, show coded errors, and work with it', async () => {
      await dev.run(async () => {
        const fresh = await newPage(browser, pageErrors);
        await openPage(fresh, `${dev.url}/?refresh=500`, `#/topology/${encodeURIComponent(topologyId)}`);
        // no token: asked for, cancelled, refused with the code; nothing changed
        await fresh.click('button[data-action="deactivate"]');
        await fresh.click('dialog[data-dialog="Nimbus token"] button.cancel');
        await fresh.waitForSelector('.banner.error');
        expect(await fresh.textContent('.banner.error')).toMatch(/^ERR_UNAUTHORIZED: /);
        expect((await dev.topology(topologyId)).status).toBe('ACTIVE');
        // a wrong token: refused as well
        await fresh.click('button[data-action="kill"]');
        await fresh.click('dialog[data-dialog="Kill topology"] button.primary');
        await fresh.fill('dialog[data-dialog="Nimbus token"] input[name="token"]', 'wrong');
        await fresh.click('dialog[data-dialog="Nimbus token"] button.primary');
        await fresh.locator('.banner.error', { hasText: /^ERR_UNAUTHORIZED: / }).waitFor();
        expect((await dev.topology(topologyId)).status).toBe('ACTIVE');
        // the right token: deactivate, activate
        await fresh.click('button[data-action="deactivate"]');
        await fresh.fill('dialog[data-dialog="Nimbus token"] input[name="token"]', TOKEN);
        await fresh.click('dialog[data-dialog="Nimbus token"] button.primary');
        await fresh.waitForSelector('h1 .status[data-status="INACTIVE"]');
        expect((await dev.topology(topologyId)).status).toBe('INACTIVE');
        await fresh.click('button[data-action="activate"]');
        await fresh.waitForSelector('h1 .status[data-status="ACTIVE"]');
        // a rebalance Nimbus refuses shows its code; a valid one moves the topology to one worker
        await fresh.click('button[data-action="rebalance"]');
        await fresh.fill('dialog[data-dialog="Rebalance topology"] input[name="wait"]', '0');
        await fresh.fill('dialog[data-dialog="Rebalance topology"] input[name="executors"]', 'nope=2');
        await fresh.click('dialog[data-dialog="Rebalance topology"] button.primary');
        await fresh.locator('.banner.error', { hasText: /^ERR_COMPONENT_NOT_FOUND: / }).waitFor();
        await fresh.click('button[data-action="rebalance"]');
        await fresh.fill('dialog[data-dialog="Rebalance topology"] input[name="wait"]', '0');
        await fresh.fill('dialog[data-dialog="Rebalance topology"] input[name="workers"]', '1');
        await fresh.click('dialog[data-dialog="Rebalance topology"] button.primary');
        await waitFor('the rebalance to one worker', async () => {
          const t = await dev.topology(topologyId);
          return t.status === 'ACTIVE' && t.workers.length === 1 && t.workers[0].state === 'running';
        }, 30_000, 250);
        await waitForRowCount(fresh, 'workers', 1);
        // kill with a wait time
        await fresh.click('button[data-action="kill"]');
        await fresh.fill('dialog[data-dialog="Kill topology"] input[name="wait"]', '30');
        await fresh.click('dialog[data-dialog="Kill topology"] button.primary');
        await fresh.waitForSelector('h1 .status[data-status="KILLED"]');
        expect((await dev.topology(topologyId)).status).toBe('KILLED');
        expect(await fresh.$$eval('.actions button', (bs) => bs.map((b) => (b as unknown as { disabled: boolean }).disabled))).toEqual([true, true, true, true]);
        await fresh.context().close();
      });
    }, backstopMs(20 * BROWSER_WAIT_MS, 30_000, 8 * DEV_GET_BOUND_MS));
  });

  describe('at scale (REST fixture: 100 topologies, a bolt of 1,000 executors)', () => {
    let fixture: { url: string; close(): Promise<void> };
    const pageErrors: string[] = [];
    const timings: Record<string, number> = {};

    beforeAll(async () => {
      fixture = await startFixtureServer();
    });

    afterAll(async () => {
      process.stderr.write(`UI timings at scale (ms, this machine, not asserted): ${JSON.stringify(timings)}\n`);
      await fixture?.close();
    });

    afterEach(() => expect(pageErrors.splice(0)).toEqual([]));

    test('the cluster page pages 100 topologies; search and sort work', async () => {
      const page = await newPage(browser, pageErrors);
      await openPage(page, `${fixture.url}/?refresh=300`, '#/', 3);
      timings.clusterRefreshMs = await lastRefreshMs(page);
      expect(await rowKeys(page, 'topology-summary')).toHaveLength(25);
      expect(await page.textContent('[data-table-wrap="topology-summary"] .pager-info')).toBe(`1–25 of ${TOPOLOGIES}`);
      await page.fill('[data-table-wrap="topology-summary"] input.table-search', 'topo-042');
      expect(await rowKeys(page, 'topology-summary')).toEqual(['topo-042-1-1700000000']);
      await page.fill('[data-table-wrap="topology-summary"] input.table-search', '');
      await page.click('table[data-table="topology-summary"] th[data-col="workers"]');
      expect((await rowKeys(page, 'topology-summary'))[0]).toBe('topo-000-1-1700000000');
      await page.context().close();
    }, backstopMs(6 * BROWSER_WAIT_MS));

    test('a component of 1,000 executors: one page in the DOM, rows kept across refreshes', async () => {
      const page = await newPage(browser, pageErrors);
      const t0 = Date.now();
      await openPage(page, `${fixture.url}/?refresh=300`, '#/topology/topo-000/component/wide');
      timings.componentFirstRenderMs = Date.now() - t0;
      expect(await rowKeys(page, 'executors')).toHaveLength(25);
      expect(await page.textContent('[data-table-wrap="executors"] .pager-info')).toBe(`1–25 of ${WIDE_EXECUTORS.toLocaleString('en-US')}`);
      // the same row elements are updated in place by the next refreshes
      await page.evaluate(`document.querySelector('table[data-table="executors"] tbody tr[data-key]').marked = true`);
      const before = (await rowCells(page, 'executors', '[2-2]')).executed;
      const n = await refreshCount(page);
      await waitForRefreshes(page, n, 3);
      expect((await rowCells(page, 'executors', '[2-2]')).executed).not.toBe(before);
      expect(await page.evaluate(`document.querySelector('table[data-table="executors"] tbody tr[data-key]').marked === true`)).toBe(true);
      timings.componentRefreshMs = await lastRefreshMs(page);
      // the windowed and stateful panels list the executors that report those figures; no async panel
      expect(await page.isVisible('#component-windowed-panel')).toBe(true);
      expect(await page.isVisible('#component-stateful-panel')).toBe(true);
      expect(await page.isHidden('#component-async-panel')).toBe(true);
      expect(await page.textContent('[data-table-wrap="component-windows"] .pager-info')).toBe(`1–25 of ${(WIDE_EXECUTORS / 2).toLocaleString('en-US')}`);
      expect((await rowCells(page, 'component-windows', '[2-2]')).buffered).toBe('100');
      // paging and sorting over all 1,000
      await page.click('[data-table-wrap="executors"] button.pager-next');
      expect(await page.textContent('[data-table-wrap="executors"] .pager-info')).toBe(`26–50 of ${WIDE_EXECUTORS.toLocaleString('en-US')}`);
      await page.click('table[data-table="executors"] th[data-col="executed"]');
      expect((await rowKeys(page, 'executors'))[0]).toBe(`[${WIDE_EXECUTORS + 1}-${WIDE_EXECUTORS + 1}]`);
      expect(await page.$$eval('table[data-table="executors"] tbody tr', (rs) => rs.length)).toBe(25);
      await openPage(page, `${fixture.url}/?refresh=300`, '#/topology/topo-000', 2);
      timings.topologyRefreshMs = await lastRefreshMs(page);
      expect(await rowKeys(page, 'workers')).toHaveLength(25);
      expect(await page.$$eval('svg.graph g.node.cap-hot', (gs) => gs.map((g) => g.getAttribute('data-component')))).toEqual(['wide']);
      await screenshot(page, 'scale-topology');
      await page.context().close();
    }, backstopMs(8 * BROWSER_WAIT_MS));
  });
});
