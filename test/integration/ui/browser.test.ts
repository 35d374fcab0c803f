/**
 * The web UI in a real browser (Debian's chromium via playwright-core) against a running
 * `squall dev` cluster: two supervisors, real worker processes, a Nimbus token. One browser and
 * one cluster for the file; each page is checked against Nimbus's REST answers and a screenshot of
 * it is written to test-output/ui/.
 */
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { ClusterSummary, SupervisorSummaryEntry } from '../../../common/protocol/rest';
import { describeWithBrowser, figure, launchBrowser, newPage, refreshCount, rowCells, rowKeys, screenshot, waitForRefreshes } from '../../helpers/browser';
import { DevClusterProcess } from '../../helpers/dev-cluster';
import { waitFor } from '../../helpers/cluster-harness';

const TOKEN = 'ui-test-token';
const SENTENCES = 200;
const FIXTURE = path.resolve(__dirname, '../../fixtures/ui/word-count.ts');

describeWithBrowser('web UI on a dev cluster', () => {
  let dev: DevClusterProcess;
  let browser: Browser;
  let topologyId = '';
  const pageErrors: string[] = [];
  let page: Page;

  beforeAll(async () => {
    [dev, browser] = await Promise.all([
      DevClusterProcess.start({ name: 'ui', supervisors: 2, slots: 2, config: { 'nimbus.auth.token': TOKEN } }),
      launchBrowser(),
    ]);
    topologyId = await dev.submit(FIXTURE, 'ui-words', { 'topology.workers': 2, 'test.input.count': SENTENCES, 'test.output.dir': path.join(dev.dir, 'out') });
    await dev.waitForWorkersRunning(topologyId, 2);
    page = await newPage(browser, pageErrors);
    // refresh every 500 ms so live updates show quickly
    await page.goto(`${dev.url}/?refresh=500`);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await dev?.stop();
  }, 60_000);

  afterEach(() => {
    expect(pageErrors).toEqual([]);
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
  });

  test('cluster page: cluster, Nimbus, supervisor and topology summaries match REST', async () => {
    await dev.run(async () => {
      await page.goto(`${dev.url}/?refresh=500#/`);
      await waitForRefreshes(page, 0, 1);
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
  });
});
