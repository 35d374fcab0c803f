/**
 * The Squall UI (served by Nimbus at `/`): a hash router over four pages and a poller that
 * refreshes the page in place (never two fetches at once, paused while the tab is hidden, stopped
 * when the page is left). Tests and people can read `window.squallUi` (refresh count, last error).
 */
import { describeApiError, token } from './api';
import { clear, h, setText } from './dom';
import { fmtClock } from './lib/format';
import { parseRoute, type Route } from './lib/routes';
import type { Crumb, Page, PageHost } from './page';
import { clusterPage } from './pages/cluster';
import { componentPage } from './pages/component';
import { logsPage } from './pages/logs';
import { topologyPage } from './pages/topology';

const INTERVALS: Array<[number, string]> = [
  [0, 'Off'],
  [2000, '2 s'],
  [5000, '5 s'],
  [10000, '10 s'],
  [30000, '30 s'],
];
const INTERVAL_KEY = 'squall.refreshMs';
const DEFAULT_INTERVAL_MS = 5000;

interface UiState {
  /** Refreshes done since the page loaded. */
  refreshes: number;
  /** Refreshes of the page shown now (`route`), from 0 when it was opened. */
  pageRefreshes: number;
  lastError: string | null;
  route: string;
  /** How long the last refresh took, fetch and render (ms). */
  lastRefreshMs: number;
}

declare global {
  interface Window {
    squallUi: UiState;
  }
}

function storedInterval(): number {
  const fromQuery = new URLSearchParams(location.search).get('refresh');
  const raw = fromQuery ?? localStorage.getItem(INTERVAL_KEY);
  const n = raw === null ? Number.NaN : Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : DEFAULT_INTERVAL_MS;
}

class App implements PageHost {
  private readonly crumbs = h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumbs' });
  private readonly banner = h('div', { class: 'banner', role: 'status', hidden: true });
  private readonly main = h('main', { id: 'page' });
  private readonly updated = h('span', { class: 'updated', title: 'Time of the last refresh' });
  private readonly tokenButton = h('button', { type: 'button', class: 'token-button' });
  private readonly state: UiState = { refreshes: 0, pageRefreshes: 0, lastError: null, route: '', lastRefreshMs: 0 };
  private page: Page | null = null;
  private controller: AbortController | null = null;
  private timer: number | null = null;
  private running = false;
  private again = false;
  private intervalMs = storedInterval();
  /** The banner shows a failed refresh (cleared by the next good one), not a page's message. */
  private bannerFromRefresh = false;

  start(root: HTMLElement): void {
    window.squallUi = this.state;
    const select = h('select', { 'aria-label': 'Refresh every', class: 'refresh-select' });
    for (const [ms, label] of INTERVALS) select.append(h('option', { value: ms, selected: ms === this.intervalMs }, label));
    if (!INTERVALS.some(([ms]) => ms === this.intervalMs)) select.append(h('option', { value: this.intervalMs, selected: true }, `${this.intervalMs} ms`));
    select.addEventListener('change', () => {
      this.intervalMs = Number(select.value);
      localStorage.setItem(INTERVAL_KEY, String(this.intervalMs));
      this.schedule();
    });
    this.tokenButton.addEventListener('click', () => {
      token.set(null);
      this.showToken();
    });
    this.showToken();
    root.append(
      h(
        'header',
        { class: 'top' },
        h('a', { href: '#/', class: 'brand' }, 'Squall'),
        this.crumbs,
        h('div', { class: 'top-tools' }, this.updated, h('label', { class: 'refresh' }, 'Refresh ', select), this.tokenButton),
      ),
      this.banner,
      this.main,
    );
    window.addEventListener('hashchange', () => this.mount(parseRoute(location.hash)));
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) this.refreshSoon();
    });
    this.mount(parseRoute(location.hash));
  }

  private showToken(): void {
    const has = token.get() !== null;
    setText(this.tokenButton, has ? 'Forget token' : 'No token');
    this.tokenButton.disabled = !has;
    this.tokenButton.title = has ? 'This tab holds a Nimbus token; click to forget it' : 'Nimbus asks for its token when an action needs one';
  }

  setCrumbs(crumbs: Crumb[]): void {
    clear(this.crumbs);
    crumbs.forEach((c, i) => {
      if (i > 0) this.crumbs.append(h('span', { class: 'sep' }, '›'));
      this.crumbs.append(c.href ? h('a', { href: c.href }, c.label) : h('span', {}, c.label));
    });
    document.title = `${crumbs.map((c) => c.label).at(-1) ?? 'Cluster'} · Squall`;
  }

  notify(kind: 'error' | 'info', text: string | null): void {
    this.bannerFromRefresh = false;
    this.show(kind, text);
  }

  private show(kind: 'error' | 'info', text: string | null): void {
    this.banner.hidden = text === null;
    this.banner.className = `banner ${kind}`;
    setText(this.banner, text ?? '');
    this.state.lastError = kind === 'error' ? text : null;
  }

  private mount(route: Route): void {
    this.controller?.abort();
    this.controller = null;
    this.page?.destroy?.();
    this.notify('info', null);
    this.state.route = location.hash || '#/';
    this.state.pageRefreshes = 0;
    this.page = this.pageFor(route);
    clear(this.main);
    this.main.append(this.page.el);
    this.refreshSoon();
  }

  private pageFor(route: Route): Page {
    switch (route.page) {
      case 'cluster':
        return clusterPage(this);
      case 'topology':
        return topologyPage(this, route.id);
      case 'component':
        return componentPage(this, route.id, route.component);
      case 'logs':
        return logsPage(this, route);
      case 'not-found':
        this.setCrumbs([{ label: 'Cluster', href: '#/' }, { label: 'Not found' }]);
        return { el: h('p', {}, `No page at ${route.hash}.`), refresh: async () => undefined };
    }
  }

  refreshSoon(): void {
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = null;
    void this.refresh();
  }

  private async refresh(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    const page = this.page;
    if (!page) return;
    this.running = true;
    const startedMs = performance.now();
    const controller = new AbortController();
    this.controller = controller;
    try {
      await page.refresh(controller.signal);
      if (page !== this.page) return;
      if (this.bannerFromRefresh) this.show('info', null);
      this.bannerFromRefresh = false;
      setText(this.updated, `Updated ${fmtClock(Date.now())}`);
    } catch (err) {
      if ((err as Error).name !== 'AbortError' && page === this.page) {
        this.show('error', describeApiError(err));
        this.bannerFromRefresh = true;
      }
    } finally {
      this.running = false;
      if (page === this.page) {
        this.state.lastRefreshMs = performance.now() - startedMs;
        this.state.refreshes++;
        this.state.pageRefreshes++;
      }
      this.showToken();
      if (this.again) {
        this.again = false;
        void this.refresh();
      } else this.schedule();
    }
  }

  private schedule(): void {
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = null;
    if (this.intervalMs <= 0 || this.running) return;
    this.timer = window.setTimeout(() => {
      this.timer = null;
      if (document.hidden) return; // resumes on visibilitychange
      void this.refresh();
    }, this.intervalMs);
  }
}

new App().start(document.getElementById('app') ?? document.body);
