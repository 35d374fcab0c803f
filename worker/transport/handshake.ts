import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { squallError } from '../../common/errors';
import { MAC_BYTES, NONCE_BYTES } from './frames';

/**
 * The link handshake's proofs. Each side proves it holds the cluster secret with an HMAC-SHA256
 * over both nonces, both worker ids and the topology id, prefixed by a label that differs per
 * direction (so the server's proof is never a valid client proof) and with every field
 * length-prefixed (so no two different field lists hash the same bytes):
 *
 *   label || 0x00 || u32be(len) serverNonce || u32be(len) clientNonce
 *         || u32be(len) serverId || u32be(len) clientId || u32be(len) topologyId
 *
 * Fresh nonces on both sides make every proof single-use: a recorded AUTH or AUTH_OK is useless
 * on another connection.
 */
export const CLIENT_LABEL = 'squall-link-v1 client-auth';
export const SERVER_LABEL = 'squall-link-v1 server-auth';

export interface HandshakeFields {
  serverNonce: Uint8Array;
  clientNonce: Uint8Array;
  serverId: string;
  clientId: string;
  topologyId: string;
}

/** Nonces come from the OS's entropy, never from the seeded Random (which tests make predictable). */
export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

export function handshakeMac(secret: Uint8Array, label: string, f: HandshakeFields): Buffer {
  const h = createHmac('sha256', secret);
  h.update(label);
  h.update(ZERO);
  for (const part of [f.serverNonce, f.clientNonce, Buffer.from(f.serverId), Buffer.from(f.clientId), Buffer.from(f.topologyId)]) {
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32BE(part.length);
    h.update(len);
    h.update(part);
  }
  return h.digest();
}

/** Constant-time comparison of a received proof with the expected one. */
export function macMatches(secret: Uint8Array, label: string, f: HandshakeFields, mac: Uint8Array): boolean {
  const expected = handshakeMac(secret, label, f);
  return mac.length === MAC_BYTES && timingSafeEqual(expected, mac);
}

/** The cluster secret as bytes; an empty secret would make every proof forgeable. */
export function secretBytes(secret: string | Uint8Array): Buffer {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  if (bytes.length === 0) throw squallError('ERR_CONFIG_INVALID', 'the cluster secret for worker links must not be empty');
  return bytes;
}

const ZERO = Buffer.from([0]);
