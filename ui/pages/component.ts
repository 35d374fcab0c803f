/** The component page (in progress). */
import type { ComponentPage } from '../../common/protocol/rest';
import { enc, getJson } from '../api';
import { h, section, setText } from '../dom';
import type { Page, PageHost } from '../page';

export function componentPage(host: PageHost, id: string, component: string): Page {
  host.setCrumbs([{ label: 'Cluster', href: '#/' }, { label: id, href: `#/topology/${enc(id)}` }, { label: component }]);
  const text = h('span');
  const el = h('div', { class: 'page' }, section('Component', 'component', text));
  return {
    el,
    async refresh(signal) {
      const page = await getJson<ComponentPage>(`topology/${enc(id)}/component/${enc(component)}`, signal);
      setText(text, `${page.id}: ${page.executors} executors`);
    },
  };
}
