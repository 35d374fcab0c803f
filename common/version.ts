import * as fs from 'node:fs';
import * as path from 'node:path';

/** Squall's version, from the nearest `package.json` named squall above this file (source or dist). */
export function squallVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'squall' && typeof pkg.version === 'string') return pkg.version;
    }
    if (path.dirname(dir) === dir) return '0.0.0';
  }
}
