/** Runs one scenario in a child process (`scenario-main.js` of this build, or of another one for an A/B). */
import { fork } from 'node:child_process';
import * as path from 'node:path';
import type { ScenarioArgs, ScenarioResult } from './scenarios';

export function runChild(args: ScenarioArgs, mainPath: string = path.join(__dirname, 'scenario-main.js')): Promise<ScenarioResult> {
  return new Promise((resolve, reject) => {
    const child = fork(mainPath, [JSON.stringify(args)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let answered = false;
    child.on('message', (m: { ok: boolean; result?: ScenarioResult; error?: string }) => {
      answered = true;
      if (m.ok) resolve(revive(m.result!));
      else reject(new Error(m.error));
    });
    child.on('exit', (code) => {
      if (!answered) reject(new Error(`scenario ${args.id} exited with ${code} without a result`));
    });
  });
}

/** IPC carries JSON, which turns NaN (not measured) into null: turn it back. */
function revive(r: ScenarioResult): ScenarioResult {
  const num = (x: number | null): number => (x === null ? NaN : x);
  for (const k of Object.keys(r.values)) r.values[k] = num(r.values[k]);
  for (const k of Object.keys(r.samples)) r.samples[k] = r.samples[k].map(num);
  for (const w of r.workers) for (const k of ['cpuPercent', 'rssMB', 'peakRssMB'] as const) w[k] = num(w[k]);
  r.otherCpuPercent = num(r.otherCpuPercent);
  return r;
}
