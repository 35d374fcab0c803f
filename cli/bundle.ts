import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { squallError } from '../topology-api';

/**
 * What `import ... from 'squall'` means inside a bundle: this package's topology API; `squall/local`
 * and `squall/connectors/<system>` are this package's too, so a bundle holds one copy of the API
 * (connectors import it by relative path). A connector's client library (ioredis, pg, ...) is
 * bundled like any npm dependency.
 */
function selfEntry(request: string): string | undefined {
  const dist = path.resolve(__dirname, '..');
  if (request === 'squall') return path.join(dist, 'topology-api', 'index.js');
  if (request === 'squall/local') return path.join(dist, 'local', 'index.js');
  const connector = /^squall\/connectors\/([a-z0-9-]+)$/.exec(request);
  if (connector) {
    const file = path.join(dist, 'connectors', connector[1], 'index.js');
    return fs.existsSync(file) ? file : undefined;
  }
  return undefined;
}

export interface Bundle {
  file: string;
  code: Buffer;
  sha256: string;
  /** Removes the temporary directory the file was written to (nothing when `outFile` was given). */
  dispose(): void;
}

/**
 * Builds a topology module (TypeScript or JavaScript) and everything it imports into one CommonJS
 * file, as `squall submit` uploads and `squall local` runs. `squall` resolves to this package's
 * topology API; Node's built-in modules stay external.
 */
export async function buildBundle(entry: string, outFile?: string): Promise<Bundle> {
  const abs = path.resolve(entry);
  if (!fs.existsSync(abs)) throw squallError('ERR_BUILD_FAILED', `no such file: ${entry}`);
  let result: esbuild.BuildResult & { outputFiles: esbuild.OutputFile[] };
  try {
    result = await esbuild.build({
      entryPoints: [abs],
      bundle: true,
      write: false,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      sourcemap: 'inline',
      logLevel: 'silent',
      plugins: [
        {
          name: 'squall-self',
          setup(build) {
            build.onResolve({ filter: /^squall(\/.*)?$/ }, (args) => {
              const file = selfEntry(args.path);
              return file === undefined ? { errors: [{ text: `no such module in this Squall: ${args.path}` }] } : { path: file };
            });
          },
        },
      ],
    });
  } catch (err) {
    const errors = (err as { errors?: esbuild.Message[] }).errors ?? [];
    const detail = errors.length
      ? errors.map((e) => `${e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ` : ''}${e.text}`).join('; ')
      : String(err);
    throw squallError('ERR_BUILD_FAILED', `${entry}: ${detail}`, { cause: err });
  }
  const code = Buffer.from(result.outputFiles[0].contents);
  const sha256 = createHash('sha256').update(code).digest('hex');
  const tempDir = outFile === undefined ? fs.mkdtempSync(path.join(os.tmpdir(), 'squall-bundle-')) : null;
  const file = outFile ?? path.join(tempDir!, `${sha256}.js`);
  fs.writeFileSync(file, code);
  return { file, code, sha256, dispose: () => tempDir && fs.rmSync(tempDir, { recursive: true, force: true }) };
}
