/**
 * One benchmark scenario in a process of its own (`npm run bench` forks one per scenario, so JIT
 * state, heap and leftover timers of one never colour the next). Reads its arguments as JSON from
 * argv[2] and sends the result to the parent over IPC.
 */
import { runScenario, type ScenarioArgs } from './scenarios';

const args = JSON.parse(process.argv[2] ?? '{}') as ScenarioArgs;
runScenario(args).then(
  (result) => process.send!({ ok: true, result }, () => process.exit(0)),
  (err: unknown) => process.send!({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }, () => process.exit(1)),
);
