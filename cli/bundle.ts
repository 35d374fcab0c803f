import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { squallError } from '../topology-api';

/** This package's topology API, which `import ... from 'squall'` means inside a bundle. */
function apiEntry(): { squall: string; local: string } {
  const dist = path.resolve(__dirname, '..');
  return { squall: path.join(dist, 'topology-api', 'index.js'), local: path.join(dist, 'local', 'index.js') };
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
  const { squall, local } = apiEntry();
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
            build.onResolve({ filter: /^squall(\/local)?$/ }, (args) => ({ path: args.path === 'squall' ? squall : local }));
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
