/**
 * The child process Nimbus forks to read a submitted bundle's topology, so user code never runs
 * inside Nimbus: `node --max-old-space-size=256 probe-main.js <bundle.js>`, with an IPC channel.
 * It loads the bundle, resolves its topology export the way workers do, and sends one
 * ProbeMessage. Nimbus kills it once that message arrives (a bundle may leave timers running), or
 * when it takes too long.
 */
import { describeError, errorCode } from '../common/errors';
import { resolveTopologyExport } from '../common/topology-module';
import type { ProbeMessage } from './probe-protocol';

function fail(code: string, message: string, problems: string[] = []): ProbeMessage {
  return { type: 'error', code, message, problems };
}

function problemsOf(err: unknown): string[] {
  const problems = (err as { problems?: unknown } | null)?.problems;
  return Array.isArray(problems) ? problems.filter((p): p is string => typeof p === 'string') : [];
}

async function probe(file: string): Promise<ProbeMessage> {
  let exports: unknown;
  try {
    exports = require(file);
  } catch (err) {
    if (err instanceof SyntaxError) return fail('ERR_BUNDLE_INVALID', `not valid JavaScript: ${err.message}`);
    if (errorCode(err) === 'ERR_TOPOLOGY_INVALID') return fail('ERR_TOPOLOGY_INVALID', describeError(err), problemsOf(err));
    return fail('ERR_BUNDLE_INVALID', `threw while loading: ${describeError(err)}`);
  }
  try {
    const loaded = await resolveTopologyExport(exports, 'the bundle');
    return { type: 'topology', definition: loaded.topology.definition, config: { ...loaded.topology.config, ...loaded.config } };
  } catch (err) {
    // createTopology() validates the builder and lists every problem.
    if (errorCode(err) === 'ERR_TOPOLOGY_INVALID') return fail('ERR_TOPOLOGY_INVALID', describeError(err), problemsOf(err));
    return fail('ERR_BUNDLE_INVALID', describeError(err));
  }
}

function send(message: ProbeMessage): void {
  if (!process.send) {
    process.stderr.write('probe-main: run by Nimbus with an IPC channel\n');
    process.exitCode = 2;
    return;
  }
  const done = (err: Error | null): void => {
    if (err) {
      process.stderr.write(`probe-main: cannot send the result: ${err.message}\n`);
      process.exitCode = 1;
    }
  };
  try {
    process.send(message, undefined, undefined, done);
  } catch (err) {
    // JSON.stringify throws on a BigInt or a cycle in the topology's config.
    if (message.type === 'topology') send(fail('ERR_BUNDLE_INVALID', `the topology cannot be serialized: ${describeError(err)}`));
    else done(err instanceof Error ? err : new Error(describeError(err)));
  }
}

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: probe-main.js <bundle.js>\n');
  process.exitCode = 2;
} else {
  probe(file).then(send, (err: unknown) => send(fail('ERR_BUNDLE_INVALID', `probe failed: ${describeError(err)}`)));
}
