import { Fields, TupleImpl } from '../../../topology-api';
import type { Backpressured } from '../../../worker/routing';
import type { StreamTable } from '../../../worker/transport/codec';
import type { LinkReceiver } from '../../../worker/transport/types';

/**
 * A small stream table: task 1-2 run "count" (emits [word, count]), task 3 runs "split"
 * (emits [word]), task 4 is "__acker".
 */
export function testStreams(): StreamTable {
  return {
    streams: [
      { fields: new Fields('word', 'count'), component: 'count', stream: 'default', arity: 2 },
      { fields: new Fields('word'), component: 'split', stream: 'default', arity: 1 },
    ],
    taskComponent: ['', 'count', 'count', 'split', '__acker'],
  };
}

export function wordTuple(word: string, root = 0, hi = 0, lo = 0, more: number[] | null = null): TupleImpl {
  const t = new TupleImpl([word], testStreams().streams[1].fields, 'split', 3, 'default', root, hi, lo, more);
  t.streamIndex = 1;
  return t;
}

/** An inbox with a capacity the test drains by hand. */
export class FakeInbox implements Backpressured {
  items: Array<[number, TupleImpl]> = [];
  constructor(public capacity = Infinity) {}
  isFull(): boolean {
    return this.items.length >= this.capacity;
  }
  drain(n = Infinity): Array<[number, TupleImpl]> {
    return this.items.splice(0, n);
  }
}

/** Receives like the runtime: tasks it owns get an inbox; others are refused. */
export class FakeReceiver implements LinkReceiver {
  readonly inboxes = new Map<number, FakeInbox>();
  readonly acks: number[][] = [];
  tuplesIn = 0;
  onTuple: (() => void) | null = null;

  constructor(owned: number[] = [1, 2], capacity = Infinity) {
    for (const t of owned) this.inboxes.set(t, new FakeInbox(capacity));
  }

  receiveTuple(task: number, tuple: TupleImpl): boolean {
    const inbox = this.inboxes.get(task);
    if (inbox === undefined) return false;
    inbox.items.push([task, tuple]);
    this.tuplesIn++;
    this.onTuple?.();
    return true;
  }

  receiveAck(kind: number, destTask: number, root: number, hi: number, lo: number, spoutTask: number): boolean {
    if (destTask !== 4) return false;
    this.acks.push([kind, destTask, root, hi, lo, spoutTask]);
    return true;
  }

  queueFor(task: number): Backpressured {
    return this.inboxes.get(task) ?? { isFull: () => false };
  }

  all(): TupleImpl[] {
    const out: TupleImpl[] = [];
    for (const inbox of this.inboxes.values()) for (const [, t] of inbox.items) out.push(t);
    return out;
  }
}

/** Waits until `cond` holds, polling once per event-loop turn; fails after `timeoutMs`. */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
