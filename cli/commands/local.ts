import * as path from 'node:path';
import type { Argv } from 'yargs';
import { Config } from '../../topology-api';
import { resolveTopologyExport } from '../../common/topology-module';
import { createLogger } from '../../common/logging';
import { LocalCluster } from '../../local/local-cluster';
import { buildBundle } from '../bundle';
import { parseConfigArgs } from '../config-args';
import { componentTable, progressLine, userMetricsTable, type ComponentsView } from '../stats-view';
import type { CliContext } from '../context';
import { processingGuarantee } from '../../common/topology-layout';
import { checkpointLine } from '../../common/checkpoint-stats';

interface LocalArgs {
  file: string;
  duration?: number;
  name?: string;
  c?: string[];
  progress: boolean;
  'log-level': string;
}

export function localCommand(ctx: CliContext) {
  return {
    command: 'local <file>',
    describe: 'Run a topology in this process (Storm local mode) and print its progress and stats',
    builder: (y: Argv) =>
      y
        .positional('file', { type: 'string', demandOption: true, describe: 'Topology module (.ts or .js) exporting a TopologyBuilder, a created topology, or a function returning one' })
        .option('duration', { type: 'number', describe: 'Seconds to run (default: until Ctrl-C)' })
        .option('name', { type: 'string', describe: 'Topology name (default: the file name)' })
        .option('c', { type: 'string', array: true, describe: 'Config override key=value (repeatable)' })
        .option('progress', { type: 'boolean', default: true, describe: 'Print tuples/s per component every second' })
        .option('log-level', { type: 'string', default: 'warn', describe: 'Log level for the runtime (logs go to stderr)' }),
    handler: (argv: LocalArgs) => ctx.run(() => runLocal(ctx, argv)),
  };
}

async function runLocal(ctx: CliContext, argv: LocalArgs): Promise<void> {
  const started = performance.now();
  const overrides = parseConfigArgs(argv.c);
  const bundle = await buildBundle(argv.file);
  let exported: unknown;
  try {
    exported = require(bundle.file);
  } finally {
    bundle.dispose(); // loaded: the file is no longer needed
  }
  const loaded = await resolveTopologyExport(exported, argv.file);
  const name = argv.name ?? defaultName(argv.file);
  const cluster = new LocalCluster({ logger: createLogger({ level: argv['log-level'], name: 'squall-local' }) });
  try {
    await runIn(ctx, cluster, name, loaded, overrides, argv, started);
  } finally {
    await cluster.close();
  }
}

async function runIn(
  ctx: CliContext,
  cluster: LocalCluster,
  name: string,
  loaded: Awaited<ReturnType<typeof resolveTopologyExport>>,
  overrides: Record<string, unknown>,
  argv: LocalArgs,
  started: number,
): Promise<void> {
  await cluster.submitTopology(name, { ...loaded.config, ...overrides }, loaded.topology);
  const conf = { ...loaded.topology.config, ...loaded.config, ...overrides };
  const guarantee = processingGuarantee(conf);
  const mode = guarantee === 'at-least-once' ? (conf[Config.TOPOLOGY_ACKER_EXECUTORS] === 0 ? 'acking off' : 'acking on') : guarantee;
  ctx.out(`running "${name}" in-process (${mode})${argv.duration ? ` for ${argv.duration}s` : '; Ctrl-C to stop'}`);

  let prev: ComponentsView = await cluster.getTopologyInfo(name);
  let prevAt = performance.now();
  const progress = argv.progress
    ? setInterval(() => {
        void cluster.getTopologyInfo(name).then((cur) => {
          const now = performance.now();
          ctx.out(progressLine(prev, cur, (now - prevAt) / 1000, (now - started) / 1000));
          prev = cur;
          prevAt = now;
        });
      }, 1000)
    : null;

  await new Promise<void>((resolve) => {
    const timer = argv.duration !== undefined ? setTimeout(resolve, argv.duration * 1000) : null;
    ctx.onInterrupt(() => {
      if (timer) clearTimeout(timer);
      resolve();
    });
  });
  if (progress) clearInterval(progress);
  const info = await cluster.getTopologyInfo(name);
  await cluster.killTopology(name, { waitSecs: 0 });
  ctx.out(`\n"${name}" ran ${((performance.now() - started) / 1000).toFixed(1)}s`);
  ctx.out(componentTable(info));
  const metrics = userMetricsTable(info.executors);
  if (metrics !== '') ctx.out(`\nuser metrics\n${metrics}`);
  if (info.checkpoint !== undefined) ctx.out(checkpointLine(info.checkpoint));
}

/** `examples/word-count/topology.ts` → `word-count`; `wc.ts` → `wc`. */
export function defaultName(file: string): string {
  const base = path.basename(file).replace(/\.[cm]?[jt]s$/, '');
  const name = base === 'topology' || base === 'index' ? path.basename(path.dirname(path.resolve(file))) : base;
  return name.replace(/[/.:\\]/g, '-');
}
