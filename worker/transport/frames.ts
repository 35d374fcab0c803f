import { squallError, type ErrorCode, type SquallError } from '../../common/errors';

/**
 * The worker-link wire format: every websocket binary message is one frame,
 *
 *   byte 0     version (FRAME_VERSION)
 *   byte 1     kind (FrameKind)
 *   bytes 2..  msgpack payload (one value; trailing bytes are malformed)
 *
 * docs/protocol.md describes each kind byte by byte; test/unit/transport/golden.test.ts pins them.
 */
export const FRAME_VERSION = 1;
export const FRAME_HEADER_BYTES = 2;

export const FrameKind = {
  /** server → client, first frame of a connection: {nonce, serverId} */
  CHALLENGE: 1,
  /** client → server: {clientId, topologyId, clientNonce, mac} */
  AUTH: 2,
  /** server → client: {mac} proving the server holds the secret too */
  AUTH_OK: 3,
  /** client → server: [tuples, acks] */
  TUPLES: 4,
  /** server → client: {on} */
  BACKPRESSURE: 5,
  /** either way, after auth: {type, ...}; unknown types are ignored */
  CONTROL: 6,
} as const;

export type FrameKindValue = (typeof FrameKind)[keyof typeof FrameKind];

export const FRAME_KIND_NAMES: Readonly<Record<number, string>> = Object.freeze(
  Object.fromEntries(Object.entries(FrameKind).map(([name, value]) => [value, name])),
);

/** Default cap on one frame (the ws server's `maxPayload`): a batch larger than this is split. */
export const FRAME_BYTES_MAX_DEFAULT = 16 << 20;
/** Frames before authentication are tiny; anything larger is refused before it is decoded. */
export const HANDSHAKE_FRAME_BYTES_MAX = 1024;
export const HANDSHAKE_TIMEOUT_MS_DEFAULT = 5000;
export const NONCE_BYTES = 32;
export const MAC_BYTES = 32;
/** Longest worker key or topology id accepted in a handshake. */
export const ID_CHARS_MAX = 256;

/**
 * Websocket close codes a link is closed with (4000-4999 are the application's range), each
 * tied to one error code of the error table. The close reason is `<ERR_CODE> <detail>`.
 */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  INTERNAL: 1011,
  HANDSHAKE_BAD_MAC: 4001,
  HANDSHAKE_WRONG_TOPOLOGY: 4002,
  HANDSHAKE_TIMEOUT: 4003,
  HANDSHAKE_UNEXPECTED: 4004,
  HANDSHAKE_PEER_MISMATCH: 4005,
  FRAME_MALFORMED: 4010,
  FRAME_VERSION: 4011,
  FRAME_KIND: 4012,
  FRAME_TOO_LARGE: 4013,
} as const;

export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode];

const CLOSE_ERROR: Readonly<Record<number, ErrorCode>> = {
  [CloseCode.NORMAL]: 'ERR_LINK_CLOSED',
  [CloseCode.GOING_AWAY]: 'ERR_LINK_CLOSED',
  [CloseCode.INTERNAL]: 'ERR_INTERNAL',
  [CloseCode.HANDSHAKE_BAD_MAC]: 'ERR_HANDSHAKE_FAILED',
  [CloseCode.HANDSHAKE_WRONG_TOPOLOGY]: 'ERR_HANDSHAKE_FAILED',
  [CloseCode.HANDSHAKE_TIMEOUT]: 'ERR_HANDSHAKE_FAILED',
  [CloseCode.HANDSHAKE_UNEXPECTED]: 'ERR_HANDSHAKE_FAILED',
  [CloseCode.HANDSHAKE_PEER_MISMATCH]: 'ERR_HANDSHAKE_FAILED',
  [CloseCode.FRAME_MALFORMED]: 'ERR_FRAME_MALFORMED',
  [CloseCode.FRAME_VERSION]: 'ERR_FRAME_VERSION',
  [CloseCode.FRAME_KIND]: 'ERR_FRAME_KIND',
  [CloseCode.FRAME_TOO_LARGE]: 'ERR_FRAME_TOO_LARGE',
};

/** The error code a close code stands for. */
export function closeErrorCode(closeCode: number): ErrorCode {
  return CLOSE_ERROR[closeCode] ?? 'ERR_LINK_CLOSED';
}

/** A coded error that also says how to close the connection it came from. */
export interface LinkError extends SquallError {
  readonly closeCode: CloseCodeValue;
  readonly detail: string;
}

export function linkError(closeCode: CloseCodeValue, detail: string): LinkError {
  return Object.assign(squallError(closeErrorCode(closeCode), detail), { closeCode, detail });
}

export function isLinkError(err: unknown): err is LinkError {
  return typeof err === 'object' && err !== null && typeof (err as { closeCode?: unknown }).closeCode === 'number' && typeof (err as { code?: unknown }).code === 'string';
}

/** The close reason for a code and detail: at most 123 bytes, as websocket close frames require. */
export function closeReason(closeCode: number, detail: string): string {
  const text = `${closeErrorCode(closeCode)} ${detail}`;
  if (Buffer.byteLength(text) <= 123) return text;
  let cut = text.slice(0, 120);
  while (Buffer.byteLength(cut) > 120) cut = cut.slice(0, -1);
  return `${cut}...`;
}

/**
 * Checks a frame's length and header and returns its kind; the payload starts at
 * FRAME_HEADER_BYTES. Throws a LinkError (too large, too short, wrong version, unknown kind).
 */
export function frameKind(frame: Uint8Array, frameBytesMax: number): FrameKindValue {
  if (frame.length > frameBytesMax) throw linkError(CloseCode.FRAME_TOO_LARGE, `frame of ${frame.length} bytes, the cap is ${frameBytesMax}`);
  if (frame.length < FRAME_HEADER_BYTES + 1) throw linkError(CloseCode.FRAME_MALFORMED, `frame of ${frame.length} bytes is shorter than a header and a payload`);
  if (frame[0] !== FRAME_VERSION) throw linkError(CloseCode.FRAME_VERSION, `frame version ${frame[0]}, this worker speaks ${FRAME_VERSION}`);
  const kind = frame[1];
  if (FRAME_KIND_NAMES[kind] === undefined) throw linkError(CloseCode.FRAME_KIND, `unknown frame kind ${kind}`);
  return kind as FrameKindValue;
}
