import { Config, TOPOLOGY_CONFIG_SPEC, type TopologyConfig, type TupleImpl } from '../../topology-api';
import type { Backpressured } from '../routing';
import type { ControlMessage, StreamTable } from './codec';
import { FRAME_BYTES_MAX_DEFAULT } from './frames';
import type { Outbox, OutboxStats } from './outbox';

/** Where a peer worker listens. */
export interface PeerAddress {
  host: string;
  port: number;
}

/** What inbound tuples are delivered to: the worker runtime (WorkerRuntime satisfies it). */
export interface LinkReceiver {
  /** False when this worker does not run `task`: the tuple is refused. */
  receiveTuple(task: number, tuple: TupleImpl): boolean;
  receiveAck(kind: number, destTask: number, root: number, hi: number, lo: number, spoutTask: number): boolean;
  /** The inbox of a local task; a link is paused while an inbox it delivered into is full. */
  queueFor(task: number): Backpressured;
}

/** How a transport is wired to its worker; set once, before `listen()`. */
export interface TransportAttachment {
  receiver: LinkReceiver;
  /** The receiving worker's stream table (one Fields object per stream). */
  streams: StreamTable;
  /** An outbox stopped being full: wake the runtime so parked emitters run. */
  onWritable(): void;
  /** A CONTROL message from a peer (e.g. {type: 'assignment-changed'}). */
  onControl?(peer: string, message: ControlMessage): void;
}

/**
 * Links to the other workers of a topology. Two implementations: WsTransport (websockets, one
 * server per worker slot port) and MemoryTransport (in-process, for local mode). Both carry the
 * same encoded frames and have the same outbox and backpressure behaviour.
 */
export interface Transport {
  readonly workerKey: string;
  attach(attachment: TransportAttachment): void;
  /** Starts accepting links from peers. */
  listen(): Promise<void>;
  /** The peers to send to: links to removed peers close, new ones open, moved ones reconnect. */
  setPeers(peers: ReadonlyMap<string, PeerAddress>): void;
  /** The outbox feeding `peer`, while it is one of the peers. */
  outbox(peer: string): Outbox | undefined;
  /** Sends what every outbox batched (the runtime's end of turn). */
  flush(): void;
  /** The runtime finished a turn: resume links paused while an inbox was full, if it drained. */
  afterTurn(): void;
  stats(): TransportStats;
  /** Stops serving, closes every link, clears every timer; idempotent. */
  close(): Promise<void>;
}

export interface TransportStats {
  workerKey: string;
  inboundLinks: number;
  pausedLinks: number;
  framesIn: number;
  bytesIn: number;
  tuplesIn: number;
  acksIn: number;
  /** Tuples and acks for tasks this worker does not run (refused, the connection kept). */
  refusedIn: number;
  /** Connections closed for a protocol violation (garbage, bad frames, failed handshakes). */
  rejectedConnections: number;
  outboxes: OutboxStats[];
}

/** Batching and size limits of the links of one topology. */
export interface TransferLimits {
  /** `topology.transfer.batch.size` */
  batchSize: number;
  /** `topology.transfer.buffer.bytes` */
  bufferBytes: number;
  /** The cap on one frame (the ws server's maxPayload); the same in every worker. */
  frameBytesMax: number;
}

/** Limits from a (resolved) topology configuration, explicit values winning. */
export function transferLimits(config: Readonly<TopologyConfig> = {}, overrides: Partial<TransferLimits> = {}): TransferLimits {
  const num = (key: string): number => {
    const v = config[key];
    return typeof v === 'number' ? v : (TOPOLOGY_CONFIG_SPEC[key].default as number);
  };
  return {
    batchSize: overrides.batchSize ?? num(Config.TOPOLOGY_TRANSFER_BATCH_SIZE),
    bufferBytes: overrides.bufferBytes ?? num(Config.TOPOLOGY_TRANSFER_BUFFER_BYTES),
    frameBytesMax: overrides.frameBytesMax ?? FRAME_BYTES_MAX_DEFAULT,
  };
}
