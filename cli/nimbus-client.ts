import { squallError } from '../topology-api';
import type {
  ClusterSummary,
  ComponentPage,
  LogPage,
  LogSearchResult,
  NimbusSummaryEntry,
  OperationResult,
  SubmitResult,
  SupervisorSummaryEntry,
  TopologyPage,
  TopologySummaryEntry,
} from '../common/protocol/rest';
import { API_PREFIX } from '../common/protocol/rest';

export interface NimbusClientOptions {
  /** e.g. http://127.0.0.1:6627 */
  url: string;
  token?: string | null;
  timeoutMs?: number;
}

/**
 * The CLI's view of Nimbus's REST API. Every failure is a coded error: ERR_NIMBUS_UNREACHABLE when
 * Nimbus cannot be reached, Nimbus's own code (and message) when it says no.
 */
export class NimbusClient {
  constructor(private readonly opts: NimbusClientOptions) {}

  private async request<T>(method: 'GET' | 'POST', path: string, body?: { bytes: Uint8Array; type: string }): Promise<T> {
    const url = `${this.opts.url.replace(/\/$/, '')}${API_PREFIX}${path}`;
    const headers: Record<string, string> = {};
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    if (body) headers['content-type'] = body.type;
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body: body?.bytes, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000) });
    } catch (err) {
      const c = (err as { cause?: { code?: string; message?: string; errors?: Array<{ code?: string }> } }).cause;
      const cause = c?.code ?? c?.errors?.[0]?.code ?? c?.message ?? (err as Error).message;
      throw squallError('ERR_NIMBUS_UNREACHABLE', `cannot reach Nimbus at ${this.opts.url} (${cause})`, { cause: err });
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text.length ? JSON.parse(text) : {};
    } catch {
      throw squallError('ERR_NIMBUS_RESPONSE', `${method} ${path} answered ${res.status} with non-JSON: ${text.slice(0, 200)}`);
    }
    if (!res.ok) {
      const e = parsed as { error?: string; code?: string };
      const err = squallError('ERR_NIMBUS_RESPONSE', e.error ?? `HTTP ${res.status}`);
      // surface Nimbus's own code (ERR_TOPOLOGY_NOT_FOUND, ...) as the error's code
      if (typeof e.code === 'string') Object.defineProperty(err, 'code', { value: e.code });
      Object.defineProperty(err, 'message', { value: e.error ?? `HTTP ${res.status}` });
      throw err;
    }
    return parsed as T;
  }

  clusterSummary(): Promise<ClusterSummary> {
    return this.request('GET', '/cluster/summary');
  }
  supervisors(): Promise<{ supervisors: SupervisorSummaryEntry[] }> {
    return this.request('GET', '/supervisor/summary');
  }
  nimbuses(): Promise<{ nimbuses: NimbusSummaryEntry[] }> {
    return this.request('GET', '/nimbus/summary');
  }
  topologies(): Promise<{ topologies: TopologySummaryEntry[] }> {
    return this.request('GET', '/topology/summary');
  }
  topology(idOrName: string): Promise<TopologyPage> {
    return this.request('GET', `/topology/${encodeURIComponent(idOrName)}`);
  }
  component(idOrName: string, component: string): Promise<ComponentPage> {
    return this.request('GET', `/topology/${encodeURIComponent(idOrName)}/component/${encodeURIComponent(component)}`);
  }
  activate(idOrName: string): Promise<OperationResult> {
    return this.request('POST', `/topology/${encodeURIComponent(idOrName)}/activate`);
  }
  deactivate(idOrName: string): Promise<OperationResult> {
    return this.request('POST', `/topology/${encodeURIComponent(idOrName)}/deactivate`);
  }
  kill(idOrName: string, waitSecs?: number): Promise<OperationResult> {
    return this.request('POST', `/topology/${encodeURIComponent(idOrName)}/kill/${waitSecs ?? -1}`);
  }
  rebalance(idOrName: string, waitSecs: number | undefined, options: { numWorkers?: number; executors?: Record<string, number> }): Promise<OperationResult> {
    const body = new TextEncoder().encode(JSON.stringify({ rebalanceOptions: options }));
    return this.request('POST', `/topology/${encodeURIComponent(idOrName)}/rebalance/${waitSecs ?? -1}`, { bytes: body, type: 'application/json' });
  }
  /** A page of a worker's log (`start` absent: the tail). */
  workerLog(idOrName: string, host: string, port: number, q: { file?: string; start?: number; length?: number } = {}): Promise<LogPage> {
    return this.request('GET', `/topology/${encodeURIComponent(idOrName)}/log/${encodeURIComponent(host)}/${port}?${logQuery(q)}`);
  }
  searchWorkerLog(idOrName: string, host: string, port: number, q: { q: string; file?: string; start?: number; limit?: number; ignoreCase?: boolean }): Promise<LogSearchResult> {
    return this.request('GET', `/topology/${encodeURIComponent(idOrName)}/log/${encodeURIComponent(host)}/${port}/search?${logQuery(q)}`);
  }
  submit(name: string, bundle: Uint8Array, config: Record<string, unknown>): Promise<SubmitResult> {
    const q = new URLSearchParams({ name, config: JSON.stringify(config) });
    return this.request('POST', `/topologies?${q}`, { bytes: bundle, type: 'application/javascript' });
  }
}

function logQuery(q: Record<string, string | number | boolean | undefined>): string {
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined) out.set(k, String(v));
  return out.toString();
}
