/**
 * A worker process, started by a supervisor with `fork(worker/main.js)` and driven over IPC
 * (common/protocol/ipc.ts):
 *
 *   supervisor → {type:'start', spec}      worker → {type:'ready', pid}, then a heartbeat every
 *   supervisor → {type:'assignment'|'status'}         spec.heartbeatMs, and {type:'error'} reports
 *   supervisor → {type:'shutdown'} or SIGTERM → clean stop, exit 0
 *
 * If the bundle cannot be loaded or a component throws while starting, the worker sends
 * {type:'fatal', code, message} and exits with status 1. When the IPC channel closes (the
 * supervisor died), the worker stops too: no orphans.
 */
import { SystemClock } from '../common/clock';
import { describeError, errorCode } from '../common/errors';
import { createLogger, type Logger } from '../common/logging';
import type { SupervisorToWorker, WorkerStartSpec, WorkerToSupervisor } from '../common/protocol/ipc';
import { resolveTopologyExport } from '../common/topology-module';
import { isLoopback } from '../common/config';
import { WsTransport } from './transport/ws-transport';
import { Worker } from './worker';

function send(message: WorkerToSupervisor): void {
  if (process.connected && process.send) process.send(message);
}

async function startWorker(spec: WorkerStartSpec, logger: Logger): Promise<Worker> {
  const loaded = await resolveTopologyExport(require(spec.bundlePath), `bundle ${spec.bundleHash}`);
  const clock = new SystemClock();
  const transport = new WsTransport({
    workerKey: `${spec.supervisorId}:${spec.port}`,
    topologyId: spec.topologyId,
    secret: spec.linkSecret,
    port: spec.port,
    // links are authenticated (HMAC), so listening beyond loopback is safe when peers are remote
    host: isLoopback(spec.host) ? '127.0.0.1' : '0.0.0.0',
    config: spec.config,
    limits: { frameBytesMax: spec.frameMaxBytes },
    clock,
    logger: logger.child({ part: 'transport' }),
  });
  const worker = new Worker({ spec, loaded, transport, supervisor: { send }, clock, logger, rss: () => process.memoryUsage.rss() });
  await worker.start();
  return worker;
}

function main(): void {
  let worker: Worker | null = null;
  let logger: Logger = createLogger({ name: 'squall-worker' });
  let stopping = false;

  const stop = (code: number): void => {
    if (stopping) return;
    stopping = true;
    const done = (): void => {
      logger.flush?.();
      process.exit(code);
    };
    if (!worker) return done();
    worker.close().then(done, (err: unknown) => {
      logger.error({ err }, 'worker close failed');
      done();
    });
  };

  process.on('message', (raw: unknown) => {
    const message = raw as SupervisorToWorker;
    switch (message?.type) {
      case 'start': {
        if (worker) return;
        const spec = message.spec;
        logger = createLogger({ name: 'squall-worker', level: spec.logLevel }).child({ topologyId: spec.topologyId, port: spec.port });
        startWorker(spec, logger).then(
          (w) => {
            worker = w;
            if (stopping) void w.close();
            logger.info({ pid: process.pid }, 'worker started');
          },
          (err: unknown) => {
            logger.error({ err }, 'worker failed to start');
            send({ type: 'fatal', code: errorCode(err) ?? 'ERR_WORKER_START_FAILED', message: describeError(err) });
            stop(1);
          },
        );
        return;
      }
      case 'assignment':
        worker?.onAssignment(message.assignment);
        return;
      case 'status':
        worker?.onStatus(message.status);
        return;
      case 'shutdown':
        stop(0);
        return;
      default:
        logger.warn({ message }, 'unknown message from the supervisor');
    }
  });
  process.on('disconnect', () => stop(0));
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));
  // User code may throw from its own callbacks (timers, promises): report it, keep running.
  const report = (err: unknown): void => {
    logger.error({ err }, 'uncaught error in user code');
    send({ type: 'error', component: '__worker', error: { error: describeError(err), errorTimeMs: Date.now(), host: '', port: 0 } });
  };
  process.on('uncaughtException', report);
  process.on('unhandledRejection', report);
}

main();
