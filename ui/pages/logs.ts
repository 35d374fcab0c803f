/** A worker's log (in progress). */
import { h } from '../dom';
import type { Route } from '../lib/routes';
import type { Page, PageHost } from '../page';

export function logsPage(host: PageHost, route: Extract<Route, { page: 'logs' }>): Page {
  host.setCrumbs([{ label: 'Cluster', href: '#/' }, { label: route.id }, { label: `log ${route.supervisorId}:${route.port}` }]);
  return { el: h('p', {}, 'Worker logs are not served yet.'), refresh: async () => undefined };
}
