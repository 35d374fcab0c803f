/**
 * The small HTTP toolkit of Nimbus's REST app: capped body reading, plus the JSON replies, coded
 * error replies and bearer-token checks it shares with the supervisor's log server
 * (common/http-json.ts). node:http only.
 */
import type { IncomingMessage } from 'node:http';
import { squallError, type ErrorCode } from '../common/errors';

export { hasBearerToken, sendError, sendJson, type ErrorReply } from '../common/http-json';

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

