import type { SpoutTask } from '../tasks';
import { Participant, type ParticipantHost, type PauseGate } from './participant';
import { BARRIER, Ctl, ROLLBACK } from './protocol';
import type { StateRef } from './state-access';

/** The replayable-spout contract (TEAM.md): position captured at a barrier, rewind on recovery. */
interface ReplayableSpout {
  offsets(): unknown;
  seek(offsets: unknown): void;
}

export interface SpoutParticipantHost extends ParticipantHost {
  forward(task: SpoutTask, values: (count: number) => unknown[]): void;
}

/** The key under which a spout task's offsets live in its state. */
export const OFFSETS_KEY = 'offsets';

/**
 * A spout task's side of the checkpoint protocol. On the coordinator's Trigger it captures its
 * position (exactly-once: `offsets()`, stored in its state under the same txid as every bolt's
 * snapshot) and sends the barrier to every downstream task, behind everything it emitted before.
 * On recovery (exactly-once) it rewinds to the offsets of the committed checkpoint and sends a
 * rollback marker downstream, so everything it emitted before the rollback is dropped there.
 */
export class SpoutParticipant extends Participant {
  private readonly replay: boolean;

  constructor(
    protected readonly host: SpoutParticipantHost,
    pause: PauseGate,
    readonly task: SpoutTask,
    replayable: boolean,
    state: StateRef,
  ) {
    super(task.taskId, task.component, state, host, pause);
    this.replay = replayable && host.guarantee !== 'at-most-once';
  }

  protected hasState(): boolean {
    return this.replay;
  }

  private spout(): ReplayableSpout {
    return this.task.spout as unknown as ReplayableSpout;
  }

  onTrigger(txid: number, epoch: number, committedTxid: number): void {
    if (!this.ready || epoch !== this.epoch) return;
    if (committedTxid > this.committed) this.commit(committedTxid);
    if (txid <= this.prepared) {
      // a Trigger sent again: the coordinator missed our Prepared
      if (txid === this.preparedDurable) this.host.control(Ctl.Prepared, this.host.coordinatorTask, txid, epoch, 0, this.taskId);
      return;
    }
    const started = this.host.clock.now();
    const state = this.state;
    this.prepareTxn(
      txid,
      () => {
        if (!this.replay || state === null) return undefined;
        state.put(OFFSETS_KEY, this.spout().offsets());
        return state.prepareCommit(txid);
      },
      started,
    );
    this.stats.alignmentMs = 0;
    this.host.forward(this.task, (count) => [BARRIER, txid, epoch, count, committedTxid]);
  }

  protected fence(): void {}

  /**
   * exactly-once: every recovery rewinds to the committed offsets. at-least-once: only a new
   * instance does (its predecessor's pending tuples are gone, and with them their replays); a
   * running spout's failed tuples come back through the acker. at-most-once: never.
   */
  protected restored(_committedTxid: number, first: boolean): void {
    if (!this.replay || this.state === null) return;
    if (this.host.guarantee !== 'exactly-once' && !first) return;
    const offsets = this.state.get(OFFSETS_KEY, null);
    this.spout().seek(offsets === undefined ? null : offsets);
  }

  protected resumed(epoch: number, committedTxid: number): void {
    if (this.host.guarantee !== 'at-most-once') this.host.forward(this.task, () => [ROLLBACK, committedTxid, epoch, 0, committedTxid]);
  }
}
