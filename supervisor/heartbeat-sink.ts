/**
 * Heartbeats to Nimbus over its REST API: `POST /api/v1/supervisors/:id/heartbeats` with the
 * bearer token when the cluster has one (the same channel supervisors download bundles on).
 */
import { cfg, type DaemonConfig } from '../common/config';
import { describeError, squallError } from '../common/errors';
import type { HeartbeatBatch, HeartbeatReceipt, HeartbeatSink } from '../common/protocol/heartbeats';
import { API_PREFIX } from '../common/protocol/rest';

/** One send, connect to answer; past it the batch is dropped (the next carries the same counts). */
const SEND_TIMEOUT_MS = 10_000;

export class HttpHeartbeatSink implements HeartbeatSink {
  constructor(
    private readonly nimbusUrl: string,
    private readonly token: string | null,
    private readonly fetchImpl: typeof fetch = globalThis.fetch,
  ) {}

  static fromConfig(config: DaemonConfig): HttpHeartbeatSink {
    const host = cfg.str(config, 'nimbus.host');
    return new HttpHeartbeatSink(`http://${host.includes(':') ? `[${host}]` : host}:${cfg.num(config, 'nimbus.port')}`, cfg.strOrNull(config, 'nimbus.auth.token'));
  }

  async send(batch: HeartbeatBatch): Promise<HeartbeatReceipt> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.nimbusUrl}${API_PREFIX}/supervisors/${encodeURIComponent(batch.supervisorId)}/heartbeats`, {
        method: 'POST',
        headers,
        body: JSON.stringify(batch),
        signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
        redirect: 'error',
      });
    } catch (err) {
      throw squallError('ERR_NIMBUS_UNREACHABLE', `${this.nimbusUrl}: ${describeError((err as { cause?: unknown }).cause ?? err)}`, { cause: err });
    }
    const text = await res.text();
    if (res.status === 401) throw squallError('ERR_UNAUTHORIZED', 'Nimbus refused the heartbeats (HTTP 401); check nimbus.auth.token');
    if (!res.ok) throw squallError('ERR_NIMBUS_RESPONSE', `heartbeats answered HTTP ${res.status}: ${text.slice(0, 200)}`);
    try {
      const body = JSON.parse(text) as HeartbeatReceipt;
      return { accepted: Number(body.accepted) || 0, rejected: Number(body.rejected) || 0 };
    } catch {
      throw squallError('ERR_NIMBUS_RESPONSE', 'heartbeats answered with something other than JSON');
    }
  }
}
