import { errorCode } from '../topology-api';

/** What commands need from the process: output, interruption, and the error-to-exit-code rule. */
export interface CliContext {
  out(line: string): void;
  err(line: string): void;
  /** Runs a command: a coded error prints `squall: CODE: message` and sets exit code 1. */
  run(fn: () => Promise<void>): Promise<void>;
  /** Called on the first SIGINT/SIGTERM; a second one exits at once. */
  onInterrupt(fn: () => void): void;
}

export function processContext(): CliContext {
  const handlers: Array<() => void> = [];
  let interrupted = 0;
  const onSignal = (): void => {
    interrupted++;
    if (interrupted > 1) process.exit(130);
    for (const h of handlers) h();
  };
  return {
    out: (line) => process.stdout.write(line + '\n'),
    err: (line) => process.stderr.write(line + '\n'),
    run: async (fn) => {
      try {
        await fn();
      } catch (err) {
        const code = errorCode(err);
        process.stderr.write(`squall: ${code ? `${code}: ` : ''}${err instanceof Error ? err.message : String(err)}\n`);
        if (!code && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
        process.exitCode = 1;
      }
    },
    onInterrupt: (fn) => {
      if (handlers.length === 0) {
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      }
      handlers.push(fn);
    },
  };
}
