/** The topology page (in progress: the summary only). */
import type { TopologyPage } from '../../common/protocol/rest';
import { enc, getJson } from '../api';
import { h, section, setText } from '../dom';
import type { Page, PageHost } from '../page';

export function topologyPage(host: PageHost, id: string): Page {
  host.setCrumbs([{ label: 'Cluster', href: '#/' }, { label: id }]);
  const status = h('span');
  const el = h('div', { class: 'page' }, section('Topology', 'topology', status));
  return {
    el,
    async refresh(signal) {
      const page = await getJson<TopologyPage>(`topology/${enc(id)}`, signal);
      setText(status, `${page.name}: ${page.status}`);
    },
  };
}
