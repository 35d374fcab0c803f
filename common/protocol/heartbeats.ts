/**
 * Worker heartbeats with stats, supervisor → Nimbus (docs/metrics.md). Stats no longer go through
 * ZooKeeper: a supervisor sends its workers' latest heartbeats to Nimbus over REST
 * (`POST /api/v1/supervisors/:id/heartbeats`, with the bearer token when Nimbus has one), or
 * through the in-memory twin in LocalCluster, and ZooKeeper keeps only a small, infrequent
 * liveness record per worker.
 *
 * Each report is signed with its topology's worker-link secret (HMAC-SHA256 over the report's JSON
 * text), which only Nimbus and the supervisors running the topology know, so even a Nimbus on
 * loopback without a token takes stats only from its own supervisors.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ExecutorStats } from '../cluster-state/types';

/** One worker's heartbeat with its executors' cumulative stats. */
export interface WorkerStatsReport {
  topologyId: string;
  node: string;
  port: number;
  pid: number;
  /** New whenever the worker (re)starts: its cumulative counts restart from zero. */
  incarnation: string;
  /** The supervisor's wall clock when it received the beat. */
  timeMs: number;
  uptimeSecs: number;
  rssBytes: number;
  executors: ExecutorStats[];
}

export interface SignedWorkerReport {
  topologyId: string;
  /** The report as JSON text (what is signed). */
  body: string;
  /** Hex HMAC-SHA256 of `body` under the topology's link secret. */
  sig: string;
}

/** A supervisor process's own figures, for Nimbus's `/metrics`. */
export interface ProcessFacts {
  rssBytes: number;
  cpuSecs: number;
  uptimeSecs: number;
}

export interface HeartbeatBatch {
  v: 1;
  supervisorId: string;
  reports: SignedWorkerReport[];
  process?: ProcessFacts;
}

/** What Nimbus answers a batch with. */
export interface HeartbeatReceipt {
  accepted: number;
  rejected: number;
}

/** Where a supervisor sends heartbeats: Nimbus over HTTP, or Nimbus itself in LocalCluster. */
export interface HeartbeatSink {
  send(batch: HeartbeatBatch): Promise<HeartbeatReceipt>;
}

export function signReport(report: WorkerStatsReport, linkSecret: string): SignedWorkerReport {
  const body = JSON.stringify(report);
  return { topologyId: report.topologyId, body, sig: hmac(linkSecret, body) };
}

/** True when `sig` is the HMAC of `body` under `linkSecret` (constant time). */
export function verifyReport(signed: SignedWorkerReport, linkSecret: string): boolean {
  if (typeof signed.sig !== 'string' || !/^[0-9a-f]{64}$/.test(signed.sig) || typeof signed.body !== 'string') return false;
  return timingSafeEqual(Buffer.from(hmac(linkSecret, signed.body), 'hex'), Buffer.from(signed.sig, 'hex'));
}

/** This process's figures (rss, CPU user+system, uptime). */
export function processFacts(): ProcessFacts {
  const cpu = process.cpuUsage();
  return { rssBytes: process.memoryUsage.rss(), cpuSecs: (cpu.user + cpu.system) / 1e6, uptimeSecs: Math.floor(process.uptime()) };
}

function hmac(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}
