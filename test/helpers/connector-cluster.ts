/**
 * For process-level connector suites: `squall submit` of a fixture's topology function with JSON
 * options (written into an entry module, bundled with the client libraries it imports), and the
 * component errors REST shows.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ComponentPage } from '../../common/protocol/rest';
import type { Cluster } from './cluster-harness';

/** Submits `export default () => <fn>(<options>)` from `fixture` as `name`; returns the topology id. */
export async function submitFixtureTopology(cluster: Cluster, fixture: string, fn: string, name: string, options: unknown, conf: Record<string, unknown>): Promise<string> {
  const entryDir = path.join(cluster.dir, 'entries');
  fs.mkdirSync(entryDir, { recursive: true });
  const entry = path.join(entryDir, `${name}.ts`);
  fs.writeFileSync(entry, `import { ${fn} } from ${JSON.stringify(fixture)};\nexport default () => ${fn}(${JSON.stringify(options)});\n`);
  const flags = Object.entries(conf).flatMap(([k, v]) => ['-c', `${k}=${JSON.stringify(v)}`]);
  const stdout = await cluster.cliOk(['submit', entry, '--name', name, ...flags]);
  const m = /^submitted "([^"]+)" as (\S+) \(ACTIVE;/m.exec(stdout);
  if (!m) throw new Error(`unexpected submit output: ${stdout}`);
  return m[2];
}

/** The errors REST lists for a component of a topology (newest last). */
export async function componentErrors(cluster: Cluster, id: string, component: string): Promise<string[]> {
  const page = await cluster.get<ComponentPage>(`/topology/${encodeURIComponent(id)}/component/${component}`);
  return page.componentErrors.map((e) => e.error);
}
