/**
 * A worker's log (Storm's logviewer page): a page of whole lines of `worker.log` or a rotated file,
 * older and newer pages, the tail, following new lines live, and a search whose hits open the page
 * at that line. Logs need Nimbus's token when it has one; the page asks for it once.
 */
import type { LogPage, LogSearchResult } from '../../common/protocol/rest';
import { ApiError, describeApiError, enc, getJson } from '../api';
import { withToken } from '../auth';
import { h, setText } from '../dom';
import { fmtBytes, fmtTime } from '../lib/format';
import { formatLogLine } from '../lib/log-format';
import { routeHref, type Route } from '../lib/routes';
import type { Page, PageHost } from '../page';

type LogsRoute = Extract<Route, { page: 'logs' }>;

const PAGE_BYTES = 64 << 10;
/** Lines kept on screen while following (older ones leave the DOM). */
const FOLLOW_LINES_MAX = 5000;

function lineNode(raw: string, raw_json: boolean, needle?: string): HTMLElement {
  const el = h('span', { class: 'line' });
  if (raw_json) {
    el.append(raw);
  } else {
    const l = formatLogLine(raw);
    if (l.time) el.append(h('span', { class: 't' }, l.time), ' ');
    if (l.level !== 'text') el.append(h('span', { class: `l-${l.level}` }, l.level.toUpperCase().padEnd(5)), ' ');
    appendMarked(el, l.msg, needle);
    if (l.extra) el.append(' ', h('span', { class: 'x' }, l.extra));
  }
  el.append('\n');
  return el;
}

/** Text with every case-insensitive occurrence of `needle` in a <mark>. */
function appendMarked(el: HTMLElement, text: string, needle?: string): void {
  if (!needle) {
    el.append(text);
    return;
  }
  const lower = text.toLowerCase();
  const n = needle.toLowerCase();
  let at = 0;
  for (let i = lower.indexOf(n); i >= 0; i = lower.indexOf(n, at)) {
    el.append(text.slice(at, i), h('mark', {}, text.slice(i, i + n.length)));
    at = i + n.length;
  }
  el.append(text.slice(at));
}

export function logsPage(host: PageHost, route: LogsRoute): Page {
  const topoHref = routeHref({ page: 'topology', id: route.id });
  host.setCrumbs([{ label: 'Cluster', href: '#/' }, { label: route.id, href: topoHref }, { label: `log ${route.host}:${route.port}` }]);
  const base = `topology/${enc(route.id)}/log/${enc(route.host)}/${route.port}`;
  let current: LogPage | null = null;
  let following = route.start === undefined;
  let asked = false;
  let rawJson = false;

  const info = h('p', { class: 'note' });
  const fileSelect = h('select', { 'aria-label': 'Log file', class: 'log-file' });
  const older = h('button', { type: 'button', class: 'older' }, '‹ Older');
  const newer = h('button', { type: 'button', class: 'newer' }, 'Newer ›');
  const tailButton = h('button', { type: 'button', class: 'tail' }, 'Tail');
  const follow = h('input', { type: 'checkbox', class: 'follow', checked: following });
  const raw = h('input', { type: 'checkbox', class: 'raw' });
  const query = h('input', { type: 'search', placeholder: 'Search this file', 'aria-label': 'Search this file', class: 'log-search' });
  const searchButton = h('button', { type: 'button', class: 'search' }, 'Search');
  const results = h('ol', { class: 'search-results' });
  const more = h('button', { type: 'button', class: 'more', hidden: true }, 'More results');
  const pre = h('pre', { class: 'log', 'data-start': '', 'data-end': '' });

  const go = (r: Partial<LogsRoute>): void => {
    location.hash = routeHref({ ...route, file: undefined, start: undefined, ...r });
  };
  fileSelect.addEventListener('change', () => go({ file: fileSelect.value, start: 0 }));
  older.addEventListener('click', () => current && go({ file: current.file, start: Math.max(0, current.start - PAGE_BYTES) }));
  newer.addEventListener('click', () => current && go({ file: current.file, start: current.end }));
  tailButton.addEventListener('click', () => go({ file: current?.file }));
  follow.addEventListener('change', () => {
    following = follow.checked;
    if (following) host.refreshSoon();
  });
  raw.addEventListener('change', () => {
    rawJson = raw.checked;
    if (current) show(current, false);
  });

  let searchAt: number | null = 0;
  const search = async (fromStart: boolean): Promise<void> => {
    const q = query.value.trim();
    if (!q) return;
    if (fromStart) {
      results.replaceChildren();
      searchAt = 0;
    }
    if (searchAt === null) return;
    const params = new URLSearchParams({ q, ignoreCase: 'true', start: String(searchAt), limit: '100' });
    if (current) params.set('file', current.file);
    try {
      const found = await withToken(() => getJson<LogSearchResult>(`${base}/search?${params}`));
      for (const m of found.matches) {
        const link = h('a', { href: routeHref({ ...route, file: found.file, start: m.offset }), title: `Open the page at byte ${m.offset}` }, `@${m.offset}`);
        const li = h('li', { 'data-offset': m.offset }, link, ' ');
        li.append(lineNode(m.line, rawJson, q));
        results.append(li);
      }
      searchAt = found.nextStart;
      more.hidden = searchAt === null;
      if (found.matches.length === 0 && fromStart) results.append(h('li', { class: 'muted' }, searchAt === null ? 'No match.' : 'No match in the first part of the file; ask for more.'));
      host.notify('info', null);
    } catch (err) {
      host.notify('error', describeApiError(err));
    }
  };
  searchButton.addEventListener('click', () => void search(true));
  query.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') void search(true);
  });
  more.addEventListener('click', () => void search(false));

  function show(page: LogPage, append: boolean): void {
    if (!append) pre.replaceChildren();
    const lines = page.text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    for (const line of lines) pre.append(lineNode(line, rawJson));
    while (pre.childElementCount > FOLLOW_LINES_MAX) pre.firstElementChild?.remove();
    if (!append) pre.dataset.start = String(page.start);
    pre.dataset.end = String(page.end);
    fileSelect.replaceChildren(...page.files.map((f) => h('option', { value: f.name, selected: f.name === page.file }, `${f.name} (${fmtBytes(f.bytes)}, ${fmtTime(f.modifiedMs)})`)));
    setText(info, `${page.file}: bytes ${page.start.toLocaleString('en-US')}–${page.end.toLocaleString('en-US')} of ${page.size.toLocaleString('en-US')}`);
    older.disabled = page.start === 0;
    newer.disabled = page.end >= page.size;
  }

  async function load(signal: AbortSignal, params: Record<string, string | number | undefined>): Promise<LogPage> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
    const fetchPage = (): Promise<LogPage> => getJson<LogPage>(`${base}?${q}`, signal);
    if (asked) return fetchPage();
    asked = true;
    return withToken(fetchPage);
  }

  const el = h(
    'div',
    { class: 'page logs-page' },
    h('h1', {}, `Worker log ${route.host}:${route.port}`, ' ', h('a', { href: topoHref, class: 'muted' }, route.id)),
    h(
      'div',
      { class: 'logs-tools' },
      fileSelect,
      older,
      newer,
      tailButton,
      h('label', {}, follow, ' Follow'),
      h('label', {}, raw, ' Raw JSON'),
      query,
      searchButton,
    ),
    results,
    more,
    info,
    pre,
  );

  return {
    el,
    async refresh(signal) {
      try {
        if (!current) {
          const page = await load(signal, { file: route.file, start: route.start, length: PAGE_BYTES });
          current = page;
          show(page, false);
          return;
        }
        if (!following) return;
        let page = await load(signal, { file: current.file, start: current.end, length: PAGE_BYTES });
        if (page.fileId !== current.fileId && current.file === 'worker.log') page = await load(signal, { file: 'worker.log', start: 0, length: PAGE_BYTES });
        if (page.fileId !== current.fileId) {
          current = page;
          show(page, false);
        } else {
          current = { ...page, start: current.start };
          show(current, true);
        }
        pre.scrollTop = pre.scrollHeight;
      } catch (err) {
        if (err instanceof ApiError && err.code === 'ERR_UNAUTHORIZED') following = false;
        throw err;
      }
    },
  };
}
