/**
 * A/B of benchmark scenarios between this build and another build of Squall (say a checkout of
 * the commit before a change, built with `node scripts/build.js`), in one run. Each round runs
 * every scenario once on each side, in alternating order (AB, then BA), each in a fresh process,
 * so drift and other load fall on both sides alike. Prints the medians per side and the median of
 * the per-round ratios this/base.
 *
 *   node dist/bench/ab.js --base /tmp/squall-base [--rounds 6] [--only word-count/in/off,const-null/in/off]
 */
import * as path from 'node:path';
import { runChild } from './child';
import { median } from './measure';

const DEFAULT_SCENARIOS = ['word-count/in/off', 'word-count/in/on', 'const-null/in/off', 'const-id-null/in/on'];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const base = arg('--base');
  if (base === undefined) throw new Error('usage: ab --base <root of the other build> [--rounds N] [--only a,b]');
  const rounds = Number(arg('--rounds') ?? 6);
  const scenarios = arg('--only')?.split(',') ?? DEFAULT_SCENARIOS;
  const sides = { this: path.join(__dirname, 'scenario-main.js'), base: path.join(path.resolve(base), 'dist', 'bench', 'scenario-main.js') };
  const rates: Record<string, { this: number[]; base: number[] }> = {};
  for (const id of scenarios) rates[id] = { this: [], base: [] };
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? (['this', 'base'] as const) : (['base', 'this'] as const);
    for (const id of scenarios) {
      for (const side of order) {
        const result = await runChild({ id }, sides[side]);
        rates[id][side].push(result.values.rate);
        process.stderr.write(`round ${r + 1} ${id} ${side}: ${Math.round(result.values.rate)}/s (other load ${result.otherCpuPercent.toFixed(0)}%)\n`);
      }
    }
  }
  const lines = ['| scenario | base median /s | this median /s | this ÷ base (median of rounds) | per round |', '| --- | --- | --- | --- | --- |'];
  for (const id of scenarios) {
    const { this: mine, base: theirs } = rates[id];
    const ratios = mine.map((x, i) => x / theirs[i]);
    lines.push(`| ${id} | ${Math.round(median(theirs))} | ${Math.round(median(mine))} | ${median(ratios).toFixed(3)} | ${ratios.map((x) => x.toFixed(2)).join(' ')} |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`ab: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
