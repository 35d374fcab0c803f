/**
 * The UI's pages as hash routes (`/#/topology/<id>`), so Nimbus serves one page at `/` and no
 * browser path can shadow `/api/v1`. Pure: parsed and built here, rendered by ui/main.ts.
 */
export type Route =
  | { page: 'cluster' }
  | { page: 'topology'; id: string }
  | { page: 'component'; id: string; component: string }
  | { page: 'logs'; id: string; host: string; port: number; file?: string; start?: number }
  | { page: 'not-found'; hash: string };

const enc = encodeURIComponent;

export function routeHref(r: Route): string {
  switch (r.page) {
    case 'cluster':
      return '#/';
    case 'topology':
      return `#/topology/${enc(r.id)}`;
    case 'component':
      return `#/topology/${enc(r.id)}/component/${enc(r.component)}`;
    case 'logs': {
      const q = new URLSearchParams();
      if (r.file) q.set('file', r.file);
      if (r.start !== undefined) q.set('start', String(r.start));
      const qs = q.toString();
      return `#/topology/${enc(r.id)}/logs/${enc(r.host)}/${r.port}${qs ? `?${qs}` : ''}`;
    }
    case 'not-found':
      return r.hash;
  }
}

function decode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

export function parseRoute(hash: string): Route {
  const raw = hash.startsWith('#') ? hash.slice(1) : hash;
  const q = raw.indexOf('?');
  const pathPart = q < 0 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  const parts = pathPart.split('/').filter((p) => p.length > 0);
  if (parts.length === 0) return { page: 'cluster' };
  const seg = parts.map(decode);
  if (seg.some((s) => s === null)) return { page: 'not-found', hash };
  const s = seg as string[];
  if (s[0] === 'topology' && s.length === 2) return { page: 'topology', id: s[1] };
  if (s[0] === 'topology' && s.length === 4 && s[2] === 'component') return { page: 'component', id: s[1], component: s[3] };
  if (s[0] === 'topology' && s.length === 5 && s[2] === 'logs' && /^\d{1,5}$/.test(s[4])) {
    const route: Route = { page: 'logs', id: s[1], host: s[3], port: Number(s[4]) };
    const file = query.get('file');
    if (file) route.file = file;
    const start = query.get('start');
    if (start !== null && /^\d{1,15}$/.test(start)) route.start = Number(start);
    return route;
  }
  return { page: 'not-found', hash };
}
