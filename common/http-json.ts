/**
 * JSON over node:http for the daemons' small HTTP servers (Nimbus's REST app, the supervisors'
 * log servers): JSON replies, coded error replies with the error table's status, and the
 * constant-time bearer-token check.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERROR_TABLE, errorCode, type ErrorCode } from './errors';
import type { Logger } from './logging';
import type { ErrorBody } from './protocol/rest';

/** The error body, plus every problem when validation found several. */
export type ErrorReply = ErrorBody & { problems?: string[] };

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

/** A coded error as `{error, code}` with the table's status; anything else is a logged 500. */
export function sendError(res: ServerResponse, err: unknown, logger: Logger, headers: Record<string, string> = {}): void {
  const code = errorCode(err);
  let status: number;
  let body: ErrorReply;
  if (code !== undefined && Object.prototype.hasOwnProperty.call(ERROR_TABLE, code)) {
    status = ERROR_TABLE[code as ErrorCode].status;
    body = { error: (err as Error).message, code };
    const problems = (err as { problems?: unknown }).problems;
    if (Array.isArray(problems) && problems.length > 0) body.problems = problems.filter((p): p is string => typeof p === 'string');
  } else {
    logger.error({ err }, 'unexpected error answering a REST request');
    status = 500;
    body = { error: ERROR_TABLE.ERR_INTERNAL.title, code: 'ERR_INTERNAL' };
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, body, headers);
}

/**
 * True when the request carries `Authorization: Bearer <token>`. Both sides are hashed first so the
 * comparison takes the same time whatever the length or content of the guess.
 */
export function hasBearerToken(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return false;
  const m = /^Bearer[ ]+(.+)$/i.exec(header.trim());
  if (!m) return false;
  const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(m[1]), digest(token));
}
