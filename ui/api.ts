/**
 * The UI's client of Nimbus's REST API (same origin, `api/v1/...` relative to the page). A refusal
 * is an ApiError carrying Nimbus's stable code, which pages show as `CODE: message`.
 */
const TOKEN_KEY = 'squall.token';

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/**
 * The bearer token, kept for this tab only (sessionStorage), never in the URL. Asked for when a
 * call answers ERR_UNAUTHORIZED.
 */
export const token = {
  get(): string | null {
    try {
      return sessionStorage.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  },
  set(value: string | null): void {
    try {
      if (value) sessionStorage.setItem(TOKEN_KEY, value);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      // storage disabled: the token lasts as long as this call
    }
  },
};

async function request<T>(method: 'GET' | 'POST', path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const t = token.get();
  if (t) headers.Authorization = `Bearer ${t}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`api/v1/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal, cache: 'no-store' });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError('ERR_NIMBUS_UNREACHABLE', `cannot reach Nimbus (${(err as Error).message})`, 0);
  }
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    throw new ApiError('ERR_NIMBUS_RESPONSE', `${method} ${path} answered ${res.status} with non-JSON`, res.status);
  }
  if (!res.ok) {
    const e = (parsed ?? {}) as { code?: unknown; error?: unknown };
    throw new ApiError(typeof e.code === 'string' ? e.code : 'ERR_NIMBUS_RESPONSE', typeof e.error === 'string' ? e.error : `HTTP ${res.status}`, res.status);
  }
  return parsed as T;
}

export function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return request<T>('GET', path, undefined, signal);
}

export function postJson<T>(path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  return request<T>('POST', path, body, signal);
}

export const enc = encodeURIComponent;

export function describeApiError(err: unknown): string {
  if (err instanceof ApiError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
