import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * The root logger of a process. Daemons bind their context once with `logger.child(...)`; nothing
 * logs per tuple. Under jest it is silent unless LOG_LEVEL says otherwise. `destination` lets a
 * test capture lines instead of printing them.
 */
export function createLogger(options: { level?: string; name?: string; destination?: pino.DestinationStream } = {}): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? (process.env.JEST_WORKER_ID ? 'silent' : 'info');
  const opts: pino.LoggerOptions = { level, base: options.name ? { name: options.name } : undefined };
  return options.destination ? pino(opts, options.destination) : pino(opts, pino.destination({ fd: 2, sync: false }));
}

/** A logger that drops everything (unit tests, library defaults). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
