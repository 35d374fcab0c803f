import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

let cached: string | null = null;

/**
 * Squall's version, from the package.json above this file (one level up from source, two from
 * dist/). Read once, on first use.
 */
export function squallVersion(): string {
  if (cached !== null) return cached;
  cached = '0.0.0-unknown';
  for (const up of ['..', '../..']) {
    const file = path.join(__dirname, up, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
    if (pkg.name === 'squall' && typeof pkg.version === 'string') {
      cached = pkg.version;
      break;
    }
  }
  return cached;
}
