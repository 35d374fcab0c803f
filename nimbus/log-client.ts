/**
 * Nimbus's side of worker logs: it finds the supervisor running a worker slot (`host:port`) among
 * the live supervisors and asks that supervisor's log server (supervisor/logviewer.ts) for a page
 * or a search, with the cluster's token. Bounded: one request at a time per call, a timeout, and
 * an answer size cap.
 */
import { ERROR_TABLE, squallError } from '../common/errors';
import type { SupervisorInfo } from '../common/cluster-state/types';
import type { LogPage, LogSearchResult } from '../common/protocol/rest';

export type LogRequestKind = 'page' | 'search';

/** Query parameters passed on to the log server; anything else is dropped. */
const PASSED = ['file', 'start', 'length', 'q', 'limit', 'ignoreCase'];
const TIMEOUT_MS = 10_000;
/** A page is at most 1 MiB of text; JSON escaping can double it. */
const ANSWER_BYTES_MAX = 8 << 20;

export class WorkerLogClient {
  constructor(private readonly token: string | null) {}

  async read(supervisors: readonly SupervisorInfo[], topologyId: string, host: string, port: number, kind: LogRequestKind, params: URLSearchParams): Promise<LogPage | LogSearchResult> {
    const sup = supervisors.find((s) => s.host === host && s.ports.includes(port));
    if (!sup) throw squallError('ERR_LOG_NOT_FOUND', `no live supervisor runs worker slot ${host}:${port}`);
    if (typeof sup.logviewerPort !== 'number') throw squallError('ERR_LOG_UNAVAILABLE', `supervisor ${sup.id} runs no log server`);
    const query = new URLSearchParams();
    for (const k of PASSED) {
      const v = params.get(k);
      if (v !== null) query.set(k, v);
    }
    const hostPart = sup.host.includes(':') ? `[${sup.host}]` : sup.host;
    const url = `http://${hostPart}:${sup.logviewerPort}/api/v1/logs/${encodeURIComponent(topologyId)}/${port}/${kind}?${query}`;
    let res: Response;
    try {
      res = await fetch(url, { headers: this.token ? { Authorization: `Bearer ${this.token}` } : {}, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'error' });
    } catch (err) {
      throw squallError('ERR_LOG_UNAVAILABLE', `the log server of supervisor ${sup.id} (${hostPart}:${sup.logviewerPort}) did not answer: ${(err as Error).message}`);
    }
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > ANSWER_BYTES_MAX) {
      await res.body?.cancel();
      throw squallError('ERR_LOG_UNAVAILABLE', `the log server answered ${declared} bytes`);
    }
    let body: Record<string, unknown>;
    try {
      body = (await res.json()) as Record<string, unknown>;
    } catch {
      throw squallError('ERR_LOG_UNAVAILABLE', `the log server of supervisor ${sup.id} answered ${res.status} with non-JSON`);
    }
    if (!res.ok) {
      const code = typeof body.code === 'string' && Object.hasOwn(ERROR_TABLE, body.code) ? body.code : 'ERR_LOG_UNAVAILABLE';
      // the token Nimbus holds is the cluster's: a supervisor refusing it is misconfigured, not the client's fault
      if (code === 'ERR_UNAUTHORIZED') throw squallError('ERR_LOG_UNAVAILABLE', `supervisor ${sup.id} refused Nimbus's token`);
      const known = code as keyof typeof ERROR_TABLE;
      const message = typeof body.error === 'string' ? body.error : `HTTP ${res.status}`;
      const title = `${ERROR_TABLE[known].title}: `;
      throw squallError(known, message.startsWith(title) ? message.slice(title.length) : message);
    }
    return { ...body, topologyId, host, port } as unknown as LogPage | LogSearchResult;
  }
}
