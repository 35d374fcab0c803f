/** Which topology actions a status allows, and the rebalance dialog's executors field (pure). */
import type { TopologyPage } from '../../common/protocol/rest';

type TopologyStatus = TopologyPage['status'];

export type Action = 'activate' | 'deactivate' | 'rebalance' | 'kill';

/** Which actions a status allows (Nimbus's state machine; the rest are greyed out). */
export function allowedActions(status: TopologyStatus): Set<Action> {
  switch (status) {
    case 'ACTIVE':
      return new Set(['deactivate', 'rebalance', 'kill']);
    case 'INACTIVE':
      return new Set(['activate', 'rebalance', 'kill']);
    case 'REBALANCING':
      return new Set(['kill']);
    default:
      return new Set();
  }
}

/** `split=4, count=2` → {split: 4, count: 2}; null when malformed. */
export function parseExecutors(text: string): Record<string, number> | null {
  const out: Record<string, number> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p.length > 0)) {
    const m = /^(.+?)\s*=\s*(\d+)$/.exec(part);
    if (!m) return null;
    out[m[1]] = Number(m[2]);
  }
  return out;
}

