/**
 * docs/cluster.md lists every daemon configuration key of common/config.ts with its default, and
 * no key that does not exist (the page is what operators configure from).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DAEMON_CONFIG_SPEC } from '../../common/config';

const DOC = path.resolve(__dirname, '../../docs/cluster.md');

/** `| \`key\` | \`default\` ... | meaning |` rows of the "Daemon configuration" table. */
function documentedDefaults(): Map<string, unknown> {
  const text = fs.readFileSync(DOC, 'utf8');
  const section = text.slice(text.indexOf('## Daemon configuration'));
  const table = section.slice(0, section.indexOf('\n## ', 1));
  const out = new Map<string, unknown>();
  for (const m of table.matchAll(/^\| `([^`]+)` \| `([^`]+)`[^|]*\|/gm)) out.set(m[1], JSON.parse(m[2]));
  return out;
}

describe('docs/cluster.md', () => {
  it('documents every daemon configuration key with its default', () => {
    const documented = documentedDefaults();
    expect([...documented.keys()].sort()).toEqual(Object.keys(DAEMON_CONFIG_SPEC).sort());
    for (const [key, spec] of Object.entries(DAEMON_CONFIG_SPEC)) expect({ key, default: documented.get(key) }).toEqual({ key, default: spec.default });
  });
});
