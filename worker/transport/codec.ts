import { Packr, RESERVE_START_SPACE, Unpackr } from 'msgpackr';
import { TupleImpl, type Fields } from '../../topology-api';
import type { ErrorCode } from '../../common/errors';
import type { TopologyLayout } from '../../common/topology-layout';
import { ACK_RECORD } from '../queues';
import { isControlKind } from '../checkpoint/protocol';
import { CloseCode, FRAME_HEADER_BYTES, FRAME_VERSION, FrameKind, ID_CHARS_MAX, MAC_BYTES, NONCE_BYTES, linkError, type FrameKindValue } from './frames';
import { isPlainMsgpack } from './msgpack-shape';

/**
 * msgpackr set up for the wire: tuples travel as plain arrays, so no records or shared
 * structures (both ends would need the same structures, or the decoder silently misreads).
 */
const MSGPACK_OPTIONS = { useRecords: false, mapsAsObjects: true } as const;

export function createPackr(): Packr {
  return new Packr(MSGPACK_OPTIONS);
}

export function createUnpackr(): Unpackr {
  return new Unpackr(MSGPACK_OPTIONS);
}

/**
 * One frame in one buffer: msgpackr reserves the two header bytes in front of the payload it
 * writes, so no copy is made. The buffer is a slice of the Packr's working buffer that later
 * packs never overwrite, so it may be queued.
 */
export function encodeFrame(packr: Packr, kind: FrameKindValue, payload: unknown): Buffer {
  const frame = packr.pack(payload, RESERVE_START_SPACE | FRAME_HEADER_BYTES);
  frame[0] = FRAME_VERSION;
  frame[1] = kind;
  return frame;
}

// ---- handshake, backpressure and control frames ---------------------------------------------

export interface ChallengePayload {
  nonce: Uint8Array;
  serverId: string;
}

export interface AuthPayload {
  clientId: string;
  topologyId: string;
  clientNonce: Uint8Array;
  mac: Uint8Array;
}

export interface AuthOkPayload {
  mac: Uint8Array;
}

/** A CONTROL message: `type` names it; receivers ignore types they do not know. */
export interface ControlMessage {
  type: string;
  [key: string]: unknown;
}

export function encodeChallenge(packr: Packr, c: ChallengePayload): Buffer {
  return encodeFrame(packr, FrameKind.CHALLENGE, { nonce: c.nonce, serverId: c.serverId });
}

export function encodeAuth(packr: Packr, a: AuthPayload): Buffer {
  return encodeFrame(packr, FrameKind.AUTH, { clientId: a.clientId, topologyId: a.topologyId, clientNonce: a.clientNonce, mac: a.mac });
}

export function encodeAuthOk(packr: Packr, a: AuthOkPayload): Buffer {
  return encodeFrame(packr, FrameKind.AUTH_OK, { mac: a.mac });
}

export function encodeBackpressure(packr: Packr, on: boolean): Buffer {
  return encodeFrame(packr, FrameKind.BACKPRESSURE, { on });
}

export function encodeControl(packr: Packr, message: ControlMessage): Buffer {
  return encodeFrame(packr, FrameKind.CONTROL, message);
}

/** Decodes the payload of a small frame into a plain object, refusing anything else. */
function decodeObject(unpackr: Unpackr, frame: Uint8Array, what: string): Record<string, unknown> {
  if (!isPlainMsgpack(frame, FRAME_HEADER_BYTES, frame.length)) throw linkError(CloseCode.FRAME_MALFORMED, `${what} payload is not plain msgpack`);
  let value: unknown;
  try {
    value = unpackr.unpack(frame.subarray(FRAME_HEADER_BYTES));
  } catch (err) {
    throw linkError(CloseCode.FRAME_MALFORMED, `${what} payload: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw linkError(CloseCode.FRAME_MALFORMED, `${what} payload is not a map`);
  return value as Record<string, unknown>;
}

function bytesField(o: Record<string, unknown>, key: string, length: number, what: string): Uint8Array {
  const v = o[key];
  if (!(v instanceof Uint8Array) || v.length !== length) throw linkError(CloseCode.FRAME_MALFORMED, `${what}.${key} must be ${length} bytes`);
  return v;
}

function idField(o: Record<string, unknown>, key: string, what: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > ID_CHARS_MAX) throw linkError(CloseCode.FRAME_MALFORMED, `${what}.${key} must be a string of 1 to ${ID_CHARS_MAX} characters`);
  return v;
}

export function decodeChallenge(unpackr: Unpackr, frame: Uint8Array): ChallengePayload {
  const o = decodeObject(unpackr, frame, 'CHALLENGE');
  return { nonce: bytesField(o, 'nonce', NONCE_BYTES, 'CHALLENGE'), serverId: idField(o, 'serverId', 'CHALLENGE') };
}

export function decodeAuth(unpackr: Unpackr, frame: Uint8Array): AuthPayload {
  const o = decodeObject(unpackr, frame, 'AUTH');
  return {
    clientId: idField(o, 'clientId', 'AUTH'),
    topologyId: idField(o, 'topologyId', 'AUTH'),
    clientNonce: bytesField(o, 'clientNonce', NONCE_BYTES, 'AUTH'),
    mac: bytesField(o, 'mac', MAC_BYTES, 'AUTH'),
  };
}

export function decodeAuthOk(unpackr: Unpackr, frame: Uint8Array): AuthOkPayload {
  const o = decodeObject(unpackr, frame, 'AUTH_OK');
  return { mac: bytesField(o, 'mac', MAC_BYTES, 'AUTH_OK') };
}

export function decodeBackpressure(unpackr: Unpackr, frame: Uint8Array): boolean {
  const o = decodeObject(unpackr, frame, 'BACKPRESSURE');
  if (typeof o.on !== 'boolean') throw linkError(CloseCode.FRAME_MALFORMED, 'BACKPRESSURE.on must be true or false');
  return o.on;
}

export function decodeControl(unpackr: Unpackr, frame: Uint8Array): ControlMessage {
  const o = decodeObject(unpackr, frame, 'CONTROL');
  if (typeof o.type !== 'string' || o.type.length === 0) throw linkError(CloseCode.FRAME_MALFORMED, 'CONTROL.type must be a non-empty string');
  return o as ControlMessage;
}

// ---- TUPLES: encoding ------------------------------------------------------------------------

/** Told how many tuples could not be sent, and why. */
export type DropHandler = (count: number, code: ErrorCode, why: string) => void;

/** Fixed fields of a tuple record before its anchors: destTask, srcTask, streamIndex, values, anchorCount. */
const TUPLE_HEAD = 5;

/**
 * One destination's records for the next TUPLES frame: `tuples` is the flat array of tuple
 * records, `acks` the flat array of 6-number acker records (the AckQueue's layout).
 */
export class TupleBatch {
  tuples: unknown[] = [];
  acks: number[] = [];
  tupleCount = 0;

  addTuple(destTask: number, t: TupleImpl): void {
    const more = t.moreAnchors;
    const f = this.tuples;
    if (t.root0 === 0 && more === null) f.push(destTask, t.sourceTask, t.streamIndex, t.values, 0);
    else if (more === null) f.push(destTask, t.sourceTask, t.streamIndex, t.values, 1, t.root0, t.edgeHi0, t.edgeLo0);
    else {
      const first = t.root0 === 0 ? 0 : 1;
      f.push(destTask, t.sourceTask, t.streamIndex, t.values, first + more.length / 3);
      if (first) f.push(t.root0, t.edgeHi0, t.edgeLo0);
      for (let i = 0; i < more.length; i++) f.push(more[i]);
    }
    this.tupleCount++;
  }

  addAck(kind: number, destTask: number, root: number, hi: number, lo: number, spoutTask: number): void {
    this.acks.push(kind, destTask, root, hi, lo, spoutTask);
  }

  get ackCount(): number {
    return this.acks.length / ACK_RECORD;
  }

  isEmpty(): boolean {
    return this.tupleCount === 0 && this.acks.length === 0;
  }

  clear(): void {
    this.tuples = [];
    this.acks = [];
    this.tupleCount = 0;
  }

  /**
   * Encodes what was added into frames of at most `frameBytesMax` bytes (normally exactly one)
   * and empties the batch. Tuples that cannot be sent (a value msgpack cannot encode, or a single
   * tuple over the cap) are left out and reported through `onDropped`; their trees time out and
   * the spout replays them.
   */
  encode(packr: Packr, frameBytesMax: number, onDropped: DropHandler): Buffer[] {
    const tuples = this.tuples;
    const acks = this.acks;
    // fresh arrays rather than `length = 0`: the old ones are handed to the encoder, and V8 would
    // shrink and regrow a truncated array's backing store anyway
    this.tuples = [];
    this.acks = [];
    this.tupleCount = 0;
    const out: Buffer[] = [];
    encodeSplitting(packr, tuples, acks, frameBytesMax, out, onDropped);
    return out;
  }
}

/** Encodes one TUPLES frame from flat records (tests and the self-check use it directly). */
export function encodeTuples(packr: Packr, tuples: readonly unknown[], acks: readonly number[]): Buffer {
  return encodeFrame(packr, FrameKind.TUPLES, [tuples, acks]);
}

/**
 * The fast path is one encode. Only when that throws or comes out over the cap are the records
 * split in halves (at tuple boundaries) until each half fits or is a single unsendable tuple.
 */
function encodeSplitting(
  packr: Packr,
  tuples: unknown[],
  acks: number[],
  frameBytesMax: number,
  out: Buffer[],
  onDropped: DropHandler,
): void {
  let why = '';
  let code: ErrorCode = 'ERR_FRAME_TOO_LARGE';
  try {
    const frame = encodeTuples(packr, tuples, acks);
    if (frame.length <= frameBytesMax) {
      out.push(frame);
      return;
    }
    why = `a frame of ${frame.length} bytes is over the cap of ${frameBytesMax}`;
  } catch (err) {
    code = 'ERR_VALUE_TYPE';
    why = `a value cannot be encoded: ${(err as Error).message}`;
  }
  const starts = recordStarts(tuples);
  if (starts.length >= 2) {
    const mid = starts[starts.length >> 1];
    encodeSplitting(packr, tuples.slice(0, mid), acks, frameBytesMax, out, onDropped);
    encodeSplitting(packr, tuples.slice(mid), [], frameBytesMax, out, onDropped);
  } else if (starts.length === 1 && acks.length > 0) {
    encodeSplitting(packr, [], acks, frameBytesMax, out, onDropped);
    encodeSplitting(packr, tuples, [], frameBytesMax, out, onDropped);
  } else if (acks.length > ACK_RECORD) {
    const mid = Math.floor(acks.length / ACK_RECORD / 2) * ACK_RECORD;
    encodeSplitting(packr, [], acks.slice(0, mid), frameBytesMax, out, onDropped);
    encodeSplitting(packr, [], acks.slice(mid), frameBytesMax, out, onDropped);
  } else if (starts.length === 1) onDropped(1, code, why);
}

/** Offsets of the tuple records in a flat tuple array. */
function recordStarts(tuples: readonly unknown[]): number[] {
  const starts: number[] = [];
  for (let i = 0; i < tuples.length; i += TUPLE_HEAD + 3 * (tuples[i + 4] as number)) starts.push(i);
  return starts;
}

// ---- TUPLES: decoding ------------------------------------------------------------------------

/** What the receiving worker knows of one stream: one Fields object per stream, shared by every tuple. */
export interface StreamEntry {
  readonly fields: Fields;
  readonly component: string;
  readonly stream: string;
  readonly arity: number;
}

/** The receiving worker's tables for decoding: streams by index and the component of each task. */
export interface StreamTable {
  readonly streams: readonly StreamEntry[];
  /** Component of each task id; index 0 is unused. */
  readonly taskComponent: readonly string[];
}

export function buildStreamTable(
  layout: Pick<TopologyLayout, 'streams' | 'taskComponent'>,
  fieldsOf: (streamIndex: number) => { fields: Fields; component: string; stream: string } | undefined,
): StreamTable {
  const streams: StreamEntry[] = layout.streams.map((s, i) => {
    const f = fieldsOf(i);
    if (f === undefined) throw new Error(`no fields for stream ${i}`);
    return Object.freeze({ fields: f.fields, component: f.component, stream: f.stream, arity: s.fields.length });
  });
  return Object.freeze({ streams: Object.freeze(streams), taskComponent: layout.taskComponent });
}

/** A decoded TUPLES frame: tuple i goes to `tasks[i]`; `acks` holds 6-number records. */
export interface DecodedTuples {
  tasks: number[];
  tuples: TupleImpl[];
  acks: number[];
}

const ROOT_MAX = 2 ** 53 - 1;
/** The acker's kinds are 1..7; the checkpoint protocol's control records (16..22) share the layout. */
const ACK_KIND_MAX = 7;

/**
 * Decodes a TUPLES frame (header included) and validates every field; any violation makes the
 * whole frame malformed, so nothing of a bad frame is delivered. Allocates the TupleImpls (values
 * arrays are msgpackr's, used as they are) and, per frame, the arrays returned.
 */
export function decodeTuples(unpackr: Unpackr, table: StreamTable, frame: Uint8Array): DecodedTuples {
  let msg: unknown;
  try {
    msg = unpackr.unpack(frame.subarray(FRAME_HEADER_BYTES));
  } catch (err) {
    throw malformed(`payload: ${(err as Error).message}`);
  }
  if (!Array.isArray(msg) || msg.length !== 2) throw malformed('payload is not [tuples, acks]');
  const flat: unknown = msg[0];
  const acks: unknown = msg[1];
  if (!Array.isArray(flat) || !Array.isArray(acks)) throw malformed('payload is not [tuples, acks]');
  const decoded: DecodedTuples = { tasks: [], tuples: [], acks: acks as number[] };
  decodeTupleRecords(flat, table, decoded);
  checkAcks(acks, table.taskComponent.length);
  return decoded;
}

function decodeTupleRecords(flat: unknown[], table: StreamTable, out: DecodedTuples): void {
  const streams = table.streams;
  const taskComponent = table.taskComponent;
  const taskEnd = taskComponent.length;
  const n = flat.length;
  let i = 0;
  while (i < n) {
    if (i + TUPLE_HEAD > n) throw malformed(`truncated tuple record at ${i}`);
    const dest = flat[i] as number;
    const src = flat[i + 1] as number;
    const si = flat[i + 2] as number;
    const values = flat[i + 3];
    const anchors = flat[i + 4] as number;
    if (!isTask(dest, taskEnd) || !isTask(src, taskEnd)) throw malformed(`tuple record at ${i}: bad task id`);
    if ((si | 0) !== si || si < 0 || si >= streams.length) throw malformed(`tuple record at ${i}: stream index ${String(si)} out of range`);
    const s = streams[si];
    if (!Array.isArray(values) || values.length !== s.arity) throw malformed(`tuple record at ${i}: stream "${s.stream}" has ${s.arity} field(s)`);
    if (taskComponent[src] !== s.component) throw malformed(`tuple record at ${i}: task ${src} does not emit stream "${s.stream}"`);
    if ((anchors | 0) !== anchors || anchors < 0 || i + TUPLE_HEAD + 3 * anchors > n) throw malformed(`tuple record at ${i}: bad anchor count`);
    let p = i + TUPLE_HEAD;
    let r0 = 0;
    let h0 = 0;
    let l0 = 0;
    let more: number[] | null = null;
    if (anchors > 0) {
      r0 = anchorAt(flat, p);
      h0 = flat[p + 1] as number;
      l0 = flat[p + 2] as number;
      p += 3;
      if (anchors > 1) {
        more = new Array<number>(3 * (anchors - 1));
        for (let k = 0; k < more.length; k += 3, p += 3) {
          more[k] = anchorAt(flat, p);
          more[k + 1] = flat[p + 1] as number;
          more[k + 2] = flat[p + 2] as number;
        }
      }
    }
    const t = new TupleImpl(values, s.fields, s.component, src, s.stream, r0, h0, l0, more);
    t.streamIndex = si;
    out.tasks.push(dest);
    out.tuples.push(t);
    i = p;
  }
}

/** Validates the anchor triple at `p` and returns its root. */
function anchorAt(flat: unknown[], p: number): number {
  const root = flat[p];
  const hi = flat[p + 1];
  const lo = flat[p + 2];
  if (!isRoot(root) || ((hi as number) | 0) !== hi || ((lo as number) | 0) !== lo) throw malformed(`anchor at ${p}: root must be an integer in [1, 2^53), edge halves int32`);
  return root;
}

function checkAcks(acks: unknown[], taskEnd: number): void {
  if (acks.length % ACK_RECORD !== 0) throw malformed(`acks hold ${acks.length} numbers, not a multiple of ${ACK_RECORD}`);
  for (let i = 0; i < acks.length; i += ACK_RECORD) {
    const kind = acks[i] as number;
    const spoutTask = acks[i + 5] as number;
    const hi = acks[i + 3] as number;
    const lo = acks[i + 4] as number;
    if (
      (kind | 0) !== kind ||
      kind < 1 ||
      (kind > ACK_KIND_MAX && !isControlKind(kind)) ||
      !isTask(acks[i + 1], taskEnd) ||
      !isRoot(acks[i + 2]) ||
      (hi | 0) !== hi ||
      (lo | 0) !== lo ||
      (spoutTask !== 0 && !isTask(spoutTask, taskEnd))
    ) {
      throw malformed(`ack record at ${i} is invalid`);
    }
  }
}

function isTask(x: unknown, taskEnd: number): x is number {
  return ((x as number) | 0) === x && (x as number) > 0 && (x as number) < taskEnd;
}

function isRoot(x: unknown): x is number {
  return typeof x === 'number' && x >= 1 && x <= ROOT_MAX && Math.floor(x) === x;
}

function malformed(detail: string) {
  return linkError(CloseCode.FRAME_MALFORMED, `TUPLES ${detail}`);
}
