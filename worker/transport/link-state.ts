import type { Random } from '../../common/random';

/**
 * An outbound link's lifecycle, as a pure transition table (Storm's Slot.java style): the link
 * class performs the side effects of entering each state, tests check the table itself.
 *
 *   connecting ──upgraded──▶ handshaking ──authenticated──▶ open
 *        │                        │                          │
 *        └──────── lost ──────────┴────────── lost ──────────┴──▶ backoff ──retry──▶ connecting
 *
 * `repoint` (the peer moved) from any live state starts over at connecting; `close` ends it.
 */
export type LinkState = 'connecting' | 'handshaking' | 'open' | 'backoff' | 'closed';
export type LinkEvent = 'upgraded' | 'authenticated' | 'lost' | 'retry' | 'repoint' | 'close';

const TRANSITIONS: Readonly<Record<LinkState, Partial<Record<LinkEvent, LinkState>>>> = {
  connecting: { upgraded: 'handshaking', lost: 'backoff', repoint: 'connecting', close: 'closed' },
  handshaking: { authenticated: 'open', lost: 'backoff', repoint: 'connecting', close: 'closed' },
  open: { lost: 'backoff', repoint: 'connecting', close: 'closed' },
  backoff: { retry: 'connecting', repoint: 'connecting', close: 'closed' },
  closed: {},
};

/** The next state, or undefined when the event does not apply in `state` (it is ignored). */
export function nextLinkState(state: LinkState, event: LinkEvent): LinkState | undefined {
  return TRANSITIONS[state][event];
}

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export const BACKOFF_DEFAULT: BackoffPolicy = Object.freeze({ baseMs: 50, maxMs: 5000 });

/**
 * Capped exponential backoff with "equal jitter": half the ceiling, plus a random part of the
 * other half, so peers that lost a link together do not reconnect in lockstep.
 */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: Random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(Math.max(0, attempt), 30));
  return Math.round(ceiling / 2 + (random.nextFloat() * ceiling) / 2);
}
