/** Small pieces several pages share. */
import { h } from '../dom';
import { fmtDuration, fmtTime, firstLine } from '../lib/format';
import { routeHref } from '../lib/routes';

export function statusBadge(status: string): HTMLElement {
  return h('span', { class: `status status-${status.toLowerCase()}`, 'data-status': status }, status);
}

/** `host:port` linking to that worker's log page. */
export function logLink(topologyId: string, host: string, port: number | null, label = `${host}:${port}`): HTMLElement | string {
  if (port === null || !host) return host || '-';
  return h('a', { href: routeHref({ page: 'logs', id: topologyId, host, port }), class: 'log-link', title: `Log of the worker on ${host}:${port}` }, label);
}

/** The last error: its first line, the whole text in the tooltip, and how long ago. */
export function errorCell(cell: HTMLElement, error: string, lapsedSecs: number | null, timeMs: number | null): void {
  if (!error) return;
  cell.append(h('span', { class: 'error-text', title: error }, firstLine(error)));
  if (lapsedSecs !== null) cell.append(h('span', { class: 'muted', title: fmtTime(timeMs) }, ` (${fmtDuration(lapsedSecs)} ago)`));
}
