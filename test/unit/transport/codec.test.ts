import { Packr } from 'msgpackr';
import { TupleImpl } from '../../../topology-api';
import { TupleBatch, createPackr, createUnpackr, decodeAuth, decodeTuples, encodeFrame, encodeTuples } from '../../../worker/transport/codec';
import { CloseCode, FRAME_VERSION, FrameKind, closeReason, frameKind, type LinkError } from '../../../worker/transport/frames';
import { isPlainMsgpack } from '../../../worker/transport/msgpack-shape';
import { testStreams, wordTuple } from './helpers';

const packr = createPackr();
const unpackr = createUnpackr();
const table = testStreams();

function encodeBatch(batch: TupleBatch, frameBytesMax = 1 << 24): { frames: Buffer[]; dropped: Array<[number, string]> } {
  const dropped: Array<[number, string]> = [];
  const frames = batch.encode(packr, frameBytesMax, (n, code) => dropped.push([n, code]));
  return { frames, dropped };
}

function codeOf(fn: () => unknown): [string, number] | undefined {
  try {
    fn();
  } catch (err) {
    return [(err as LinkError).code, (err as LinkError).closeCode];
  }
  return undefined;
}

describe('TUPLES round trip', () => {
  test('untracked, single-anchor and multi-anchor tuples, and acks, come back identical', () => {
    const batch = new TupleBatch();
    const plain = wordTuple('a');
    const one = wordTuple('b', 2 ** 53 - 1, -(2 ** 31), 2 ** 31 - 1);
    const multi = wordTuple('c', 17, 1, 2, [18, 3, 4, 19, -5, -6]);
    const onlyMore = wordTuple('d', 0, 0, 0, [20, 7, 8]); // no first anchor, one more
    const counted = new TupleImpl(['w', 3], table.streams[0].fields, 'count', 1, 'default', 0, 0, 0, null);
    counted.streamIndex = 0;
    batch.addTuple(1, plain);
    batch.addTuple(2, one);
    batch.addTuple(1, multi);
    batch.addTuple(2, onlyMore);
    batch.addTuple(4, counted);
    batch.addAck(1, 4, 123, -1, 1, 3);
    batch.addAck(5, 3, 2 ** 53 - 1, 0, 0, 0);
    expect(batch.tupleCount).toBe(5);
    expect(batch.ackCount).toBe(2);

    const { frames, dropped } = encodeBatch(batch);
    expect(dropped).toEqual([]);
    expect(frames).toHaveLength(1);
    expect(batch.isEmpty()).toBe(true);

    const d = decodeTuples(unpackr, table, frames[0]);
    expect(d.tasks).toEqual([1, 2, 1, 2, 4]);
    const anchors = (t: TupleImpl): unknown[] => [t.root0, t.edgeHi0, t.edgeLo0, t.moreAnchors];
    expect(d.tuples.map(anchors)).toEqual([
      [0, 0, 0, null],
      [2 ** 53 - 1, -(2 ** 31), 2 ** 31 - 1, null],
      [17, 1, 2, [18, 3, 4, 19, -5, -6]],
      [20, 7, 8, null],
      [0, 0, 0, null],
    ]);
    expect(d.tuples.map((t) => t.values)).toEqual([['a'], ['b'], ['c'], ['d'], ['w', 3]]);
    expect(d.tuples[4].sourceComponent).toBe('count');
    expect(d.tuples[4].getIntegerByField('count')).toBe(3);
    expect(d.acks).toEqual([1, 4, 123, -1, 1, 3, 5, 3, 2 ** 53 - 1, 0, 0, 0]);
  });

  test('decoded tuples share one Fields object per stream', () => {
    const batch = new TupleBatch();
    for (let i = 0; i < 10; i++) batch.addTuple(1, wordTuple(`w${i}`));
    const d = decodeTuples(unpackr, table, encodeBatch(batch).frames[0]);
    for (const t of d.tuples) expect(t.fields).toBe(table.streams[1].fields);
  });

  test('values of every msgpack type survive (binary as a Uint8Array)', () => {
    const values: unknown[] = [null, true, -1.5, 'ünïcödé', Buffer.from([1, 2, 3]), [1, [2]], { a: 1 }, 2 ** 40];
    const flat = values.flatMap((v) => [1, 3, 1, [v], 0]);
    const d = decodeTuples(unpackr, table, encodeTuples(packr, flat, []));
    expect(d.tuples.map((t) => t.values[0])).toEqual(values);
    expect(d.tuples[4].getBinary(0)).toBeInstanceOf(Uint8Array);
  });

  test('a batch over the frame cap is split at tuple boundaries, in order', () => {
    const batch = new TupleBatch();
    const big = 'x'.repeat(1000);
    for (let i = 0; i < 40; i++) batch.addTuple(1, wordTuple(`${i}:${big}`));
    batch.addAck(2, 4, 9, 1, 1, 3);
    const { frames, dropped } = encodeBatch(batch, 8 * 1024);
    expect(dropped).toEqual([]);
    expect(frames.length).toBeGreaterThan(4);
    for (const f of frames) expect(f.length).toBeLessThanOrEqual(8 * 1024);
    const decoded = frames.map((f) => decodeTuples(unpackr, table, f));
    expect(decoded.flatMap((d) => d.tuples.map((t) => Number((t.values[0] as string).split(':')[0])))).toEqual([...Array(40).keys()]);
    expect(decoded.flatMap((d) => d.acks)).toEqual([2, 4, 9, 1, 1, 3]);
  });

  test('a single tuple over the cap, or with a value msgpack cannot encode, is dropped and reported; the rest go', () => {
    const batch = new TupleBatch();
    batch.addTuple(1, wordTuple('ok-1'));
    batch.addTuple(1, wordTuple('y'.repeat(10_000)));
    const sym = new TupleImpl([Symbol('nope')], table.streams[1].fields, 'split', 3, 'default', 0, 0, 0, null);
    sym.streamIndex = 1;
    batch.addTuple(2, sym);
    batch.addTuple(2, wordTuple('ok-2'));
    const { frames, dropped } = encodeBatch(batch, 4096);
    expect(dropped.sort()).toEqual([
      [1, 'ERR_FRAME_TOO_LARGE'],
      [1, 'ERR_VALUE_TYPE'],
    ]);
    const words = frames.flatMap((f) => decodeTuples(unpackr, table, f).tuples.map((t) => t.values[0]));
    expect(words).toEqual(['ok-1', 'ok-2']);
  });
});

describe('TUPLES validation: any violation makes the frame malformed', () => {
  const good = [1, 3, 1, ['w'], 0];
  const cases: Array<[string, unknown]> = [
    ['payload not an array', { tuples: [] }],
    ['payload of three', [[], [], []]],
    ['tuples not an array', [5, []]],
    ['acks not an array', [[], 'x']],
    ['truncated record', [[1, 3, 1, ['w']], []]],
    ['dest task 0', [[0, 3, 1, ['w'], 0], []]],
    ['dest task past the table', [[5, 3, 1, ['w'], 0], []]],
    ['dest task not an integer', [[1.5, 3, 1, ['w'], 0], []]],
    ['dest task a string', [['1', 3, 1, ['w'], 0], []]],
    ['src task invalid', [[1, -3, 1, ['w'], 0], []]],
    ['stream index out of range', [[1, 3, 2, ['w'], 0], []]],
    ['stream index negative', [[1, 3, -1, ['w'], 0], []]],
    ['values not an array', [[1, 3, 1, 'w', 0], []]],
    ['values of the wrong arity', [[1, 3, 1, ['w', 1], 0], []]],
    ['source task of another component', [[1, 1, 1, ['w'], 0], []]],
    ['anchor count negative', [[1, 3, 1, ['w'], -1], []]],
    ['anchor count past the end', [[1, 3, 1, ['w'], 2, 5, 1, 1], []]],
    ['root zero', [[1, 3, 1, ['w'], 1, 0, 1, 1], []]],
    ['root 2^53', [[1, 3, 1, ['w'], 1, 2 ** 53, 1, 1], []]],
    ['root fractional', [[1, 3, 1, ['w'], 1, 1.5, 1, 1], []]],
    ['root NaN', [[1, 3, 1, ['w'], 1, NaN, 1, 1], []]],
    ['edge half beyond int32', [[1, 3, 1, ['w'], 1, 5, 2 ** 31, 1], []]],
    ['edge half of a later anchor', [[1, 3, 1, ['w'], 2, 5, 1, 1, 6, 1, 0.5], []]],
    ['acks not a multiple of 6', [good, [1, 4, 5, 0, 0]]],
    ['ack kind 0', [good, [0, 4, 5, 0, 0, 0]]],
    ['ack kind 8', [good, [8, 4, 5, 0, 0, 0]]],
    ['ack dest task invalid', [good, [1, 9, 5, 0, 0, 0]]],
    ['ack root invalid', [good, [1, 4, -5, 0, 0, 0]]],
    ['ack hi not int32', [good, [1, 4, 5, 2 ** 32, 0, 0]]],
    ['ack spout task invalid', [good, [1, 4, 5, 0, 0, 7]]],
    ['ack number as a string', [good, [1, 4, '5', 0, 0, 0]]],
  ];
  test.each(cases)('%s', (_name, payload) => {
    const frame = encodeFrame(packr, FrameKind.TUPLES, payload);
    expect(codeOf(() => decodeTuples(unpackr, table, frame))).toEqual(['ERR_FRAME_MALFORMED', CloseCode.FRAME_MALFORMED]);
  });

  test('bytes that are not msgpack, and trailing bytes', () => {
    const good1 = encodeTuples(packr, good, []);
    for (const frame of [Buffer.from([1, 4, 0xc1]), Buffer.from([1, 4, 0x93, 1]), Buffer.concat([good1, Buffer.from([0])])]) {
      expect(codeOf(() => decodeTuples(unpackr, table, frame))).toEqual(['ERR_FRAME_MALFORMED', CloseCode.FRAME_MALFORMED]);
    }
  });

  test('a good frame passes', () => {
    expect(codeOf(() => decodeTuples(unpackr, table, encodeTuples(packr, good, [1, 4, 5, 0, 0, 3])))).toBeUndefined();
  });
});

describe('frame header', () => {
  test('version, kind, size and length are checked, each with its code', () => {
    expect(codeOf(() => frameKind(Buffer.from([2, 4, 0x90]), 100))).toEqual(['ERR_FRAME_VERSION', CloseCode.FRAME_VERSION]);
    expect(codeOf(() => frameKind(Buffer.from([FRAME_VERSION, 0, 0x90]), 100))).toEqual(['ERR_FRAME_KIND', CloseCode.FRAME_KIND]);
    expect(codeOf(() => frameKind(Buffer.from([FRAME_VERSION, 7, 0x90]), 100))).toEqual(['ERR_FRAME_KIND', CloseCode.FRAME_KIND]);
    expect(codeOf(() => frameKind(Buffer.from([FRAME_VERSION, 4]), 100))).toEqual(['ERR_FRAME_MALFORMED', CloseCode.FRAME_MALFORMED]);
    expect(codeOf(() => frameKind(Buffer.alloc(101, 1), 100))).toEqual(['ERR_FRAME_TOO_LARGE', CloseCode.FRAME_TOO_LARGE]);
    expect(frameKind(Buffer.from([FRAME_VERSION, FrameKind.CONTROL, 0x80]), 100)).toBe(FrameKind.CONTROL);
  });

  test('close reasons carry the code and fit a close frame', () => {
    expect(closeReason(CloseCode.HANDSHAKE_BAD_MAC, 'x')).toBe('ERR_HANDSHAKE_FAILED x');
    const long = closeReason(CloseCode.FRAME_MALFORMED, 'é'.repeat(200));
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(123);
    expect(long.startsWith('ERR_FRAME_MALFORMED ')).toBe(true);
  });
});

describe('small frames before decoding', () => {
  const plain = (v: unknown): Buffer => new Packr({ useRecords: false }).pack(v);

  test('plain msgpack passes the shape check', () => {
    for (const v of [1, -1, 'x', null, true, 1.5, 2 ** 40, -(2 ** 40), Buffer.alloc(300), 'y'.repeat(70_000), [1, [2, [3]]], { a: { b: [1] } }]) {
      const b = plain(v);
      expect(isPlainMsgpack(b, 0, b.length)).toBe(true);
    }
  });

  test('containers claiming more elements than bytes, extensions, deep nesting and trailing bytes fail it', () => {
    for (const h of ['dd00ffffff', 'dc7fff', 'df0000ffff', '93', 'c1', 'd40000', 'c70165ff', 'd6ff00000000', '9191919191919191919191', '0000', 'a5616263']) {
      const b = Buffer.from(h, 'hex');
      expect([h, isPlainMsgpack(b, 0, b.length)]).toEqual([h, false]);
    }
  });

  test('an AUTH payload claiming 16M elements is refused without decoding it', () => {
    const frame = Buffer.from('0102dd00ffffff', 'hex');
    expect(codeOf(() => decodeAuth(unpackr, frame))).toEqual(['ERR_FRAME_MALFORMED', CloseCode.FRAME_MALFORMED]);
  });

  test('AUTH fields are type- and size-checked', () => {
    const n = Buffer.alloc(32);
    const bad = [
      { clientId: '', topologyId: 't', clientNonce: n, mac: n },
      { clientId: 'c', topologyId: 't'.repeat(300), clientNonce: n, mac: n },
      { clientId: 'c', topologyId: 't', clientNonce: Buffer.alloc(31), mac: n },
      { clientId: 'c', topologyId: 't', clientNonce: n, mac: 'x'.repeat(32) },
      [1, 2],
    ];
    for (const payload of bad) expect(codeOf(() => decodeAuth(unpackr, encodeFrame(packr, FrameKind.AUTH, payload)))?.[0]).toBe('ERR_FRAME_MALFORMED');
  });
});
