/**
 * A topology that imports a connector is bundled with the connector, the one copy of the topology
 * API, and the connector's client library (ioredis here), like any npm dependency: the bundle
 * loads and builds its topology in a directory with no node_modules at all.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as BundleModule from '../../../cli/bundle';

// the built CLI (as `squall submit` runs it): it resolves `squall/...` to dist/
const { buildBundle } = require(path.join(__dirname, '../../../dist/cli/bundle.js')) as typeof BundleModule;

const FIXTURE = path.join(__dirname, '../../fixtures/connectors/redis-pipeline.ts');

it('bundles squall/connectors/redis with ioredis; the bundle runs where nothing is installed', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-bundle-test-'));
  try {
    const entry = path.join(dir, 'entry.ts');
    fs.writeFileSync(entry, `import { redisPipeline } from ${JSON.stringify(FIXTURE.replace(/\.ts$/, ''))};\nexport default () => redisPipeline({ url: 'redis://127.0.0.1:1', stream: 's' });\n`);
    const bundle = await buildBundle(entry, path.join(dir, 'bundle.js'));
    const code = bundle.code.toString('utf8');
    expect(code).not.toMatch(/require\(["']ioredis["']\)/);
    expect(code).toContain('node_modules/ioredis/');
    // one copy of the topology API, however many connector modules import it
    expect(code.match(/^\/\/ .*topology-api\/builder\.js$/gm)?.length).toBe(1);
    const isolated = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-isolated-'));
    try {
      fs.copyFileSync(bundle.file, path.join(isolated, 'bundle.js'));
      const out = execFileSync(
        process.execPath,
        ['-e', "const m = require('./bundle.js'); const b = m.default(); const t = b.createTopology(); console.log(Object.keys(t.spouts ?? t.components ?? t).join(','))"],
        { cwd: isolated, encoding: 'utf8', env: { ...process.env, NODE_PATH: '' } },
      );
      expect(out).toBeTruthy();
    } finally {
      fs.rmSync(isolated, { recursive: true, force: true });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
