import { Random } from '../../../common/random';
import { BACKOFF_DEFAULT, backoffDelayMs, nextLinkState, type LinkEvent, type LinkState } from '../../../worker/transport/link-state';
import { CLIENT_LABEL, SERVER_LABEL, handshakeMac, macMatches, secretBytes } from '../../../worker/transport/handshake';

describe('link state machine', () => {
  const table: Array<[LinkState, LinkEvent, LinkState | undefined]> = [
    ['connecting', 'upgraded', 'handshaking'],
    ['connecting', 'lost', 'backoff'],
    ['connecting', 'authenticated', undefined],
    ['handshaking', 'authenticated', 'open'],
    ['handshaking', 'lost', 'backoff'],
    ['open', 'lost', 'backoff'],
    ['open', 'repoint', 'connecting'],
    ['open', 'upgraded', undefined],
    ['backoff', 'retry', 'connecting'],
    ['backoff', 'repoint', 'connecting'],
    ['backoff', 'lost', undefined],
    ['connecting', 'close', 'closed'],
    ['open', 'close', 'closed'],
    ['backoff', 'close', 'closed'],
    ['closed', 'retry', undefined],
    ['closed', 'repoint', undefined],
  ];
  test.each(table)('%s + %s → %s', (state, event, next) => {
    expect(nextLinkState(state, event)).toBe(next);
  });
});

describe('reconnect backoff', () => {
  test('grows exponentially, is capped, and is jittered within [ceiling/2, ceiling]', () => {
    const random = new Random(42);
    const policy = { baseMs: 100, maxMs: 3000 };
    for (let attempt = 0; attempt < 40; attempt++) {
      const ceiling = Math.min(3000, 100 * 2 ** attempt);
      const d = backoffDelayMs(attempt, policy, random);
      expect(d).toBeGreaterThanOrEqual(ceiling / 2);
      expect(d).toBeLessThanOrEqual(ceiling);
    }
  });

  test('is reproducible with a seeded Random, and differs between seeds', () => {
    const run = (seed: number): number[] => {
      const r = new Random(seed);
      return [0, 1, 2, 3, 4, 5].map((a) => backoffDelayMs(a, BACKOFF_DEFAULT, r));
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });
});

describe('handshake proofs', () => {
  const f = { serverNonce: Buffer.alloc(32, 1), clientNonce: Buffer.alloc(32, 2), serverId: 'a', clientId: 'b', topologyId: 't' };
  const secret = secretBytes('s');

  test('verify only with the same secret, label and fields', () => {
    const mac = handshakeMac(secret, CLIENT_LABEL, f);
    expect(macMatches(secret, CLIENT_LABEL, f, mac)).toBe(true);
    expect(macMatches(secretBytes('t'), CLIENT_LABEL, f, mac)).toBe(false);
    expect(macMatches(secret, SERVER_LABEL, f, mac)).toBe(false); // a client proof is not a server proof
    expect(macMatches(secret, CLIENT_LABEL, { ...f, topologyId: 'u' }, mac)).toBe(false);
    expect(macMatches(secret, CLIENT_LABEL, { ...f, serverNonce: Buffer.alloc(32, 3) }, mac)).toBe(false);
    expect(macMatches(secret, CLIENT_LABEL, f, mac.subarray(0, 31))).toBe(false);
  });

  test('fields are length-prefixed: moving a character between ids changes the proof', () => {
    const a = handshakeMac(secret, CLIENT_LABEL, { ...f, serverId: 'ab', clientId: 'c' });
    const b = handshakeMac(secret, CLIENT_LABEL, { ...f, serverId: 'a', clientId: 'bc' });
    expect(a.equals(b)).toBe(false);
  });

  test('an empty secret is refused with a coded error', () => {
    expect(() => secretBytes('')).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }));
  });
});
