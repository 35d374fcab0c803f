/**
 * The small HTTP toolkit of Nimbus's REST app: JSON replies, coded error replies, capped body
 * reading, bearer-token checks. node:http only.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERROR_TABLE, errorCode, squallError, type ErrorCode } from '../common/errors';
import type { Logger } from '../common/logging';
import type { ErrorBody } from '../common/protocol/rest';

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

/** The media type of a request, lower-case, without parameters ('' when absent). */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

/**
 * Reads a body of at most `bytesMax`. A declared Content-Length over the cap fails before a byte is
 * read; a body that grows past it fails as soon as it does, and nothing past the cap is buffered.
 * `tooLarge` is the error code to fail with. The caller answers and then closes the connection
 * (the rest of the body is never read).
 */
export function readBody(req: IncomingMessage, bytesMax: number, tooLarge: ErrorCode): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > bytesMax) {
    return Promise.reject(squallError(tooLarge, `the body is ${declared} bytes, over the limit of ${bytesMax}`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: Error | null): void => {
      if (done) return;
      done = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
      if (err) {
        req.pause();
        reject(err);
      } else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > bytesMax) finish(squallError(tooLarge, `the body is over the limit of ${bytesMax} bytes`));
      else chunks.push(chunk);
    };
    const onEnd = (): void => finish(null);
    const onError = (err: Error): void => finish(squallError('ERR_BODY_INVALID', `the request body could not be read: ${err.message}`));
    const onAborted = (): void => finish(squallError('ERR_BODY_INVALID', 'the client aborted the request'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

/** JSON from a body; ERR_BODY_INVALID when malformed. An empty body is `undefined`. */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (err) {
    throw squallError('ERR_BODY_INVALID', `the body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
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
