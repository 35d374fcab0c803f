/**
 * Sends the workers' heartbeats (with their cumulative stats) to Nimbus (docs/metrics.md). Only
 * the newest heartbeat of each worker matters (counts are cumulative, so a lost or repeated send
 * loses or doubles nothing): each worker's latest waits in a map (bounded by the slots), and one
 * batch is in flight at a time; beats that arrive meanwhile go in the next batch, so the send rate
 * follows Nimbus's answer time with no timer. A failed send is logged (throttled) and the workers'
 * next beats carry everything again.
 */
import { describeError } from '../common/errors';
import type { Logger } from '../common/logging';
import { processFacts, signReport, type HeartbeatSink, type WorkerStatsReport } from '../common/protocol/heartbeats';

/** Failed sends between two warnings (the first is always logged). */
const WARN_EVERY_FAILURES = 30;

export class HeartbeatForwarder {
  private readonly latest = new Map<string, { report: WorkerStatsReport; secret: string }>();
  private inFlight: Promise<void> | null = null;
  private failures = 0;
  private closed = false;

  constructor(
    private readonly supervisorId: () => string,
    private readonly sink: HeartbeatSink,
    private readonly logger: Logger,
  ) {}

  /** Queues a worker's heartbeat (replacing its unsent one) and sends unless a send is in flight. */
  forward(report: WorkerStatsReport, linkSecret: string): void {
    if (this.closed) return;
    this.latest.set(`${report.node}:${report.port}`, { report, secret: linkSecret });
    this.kick();
  }

  /** Resolves when nothing is queued or in flight (tests). */
  async idle(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  close(): void {
    this.closed = true;
    this.latest.clear();
  }

  private kick(): void {
    if (this.inFlight || this.latest.size === 0) return;
    const reports = [...this.latest.values()].map((q) => signReport(q.report, q.secret));
    this.latest.clear();
    this.inFlight = this.sink
      .send({ v: 1, supervisorId: this.supervisorId(), reports, process: processFacts() })
      .then(
        (receipt) => {
          if (this.failures > 0) this.logger.info({ failures: this.failures }, 'heartbeats reach Nimbus again');
          this.failures = 0;
          if (receipt.rejected > 0) this.logger.debug({ rejected: receipt.rejected }, 'Nimbus rejected some worker heartbeats');
        },
        (err: unknown) => {
          this.failures++;
          if (this.failures === 1 || this.failures % WARN_EVERY_FAILURES === 0) this.logger.warn({ failures: this.failures, err: describeError(err) }, 'sending worker heartbeats to Nimbus failed');
        },
      )
      .finally(() => {
        this.inFlight = null;
        if (!this.closed) this.kick();
      });
  }
}
