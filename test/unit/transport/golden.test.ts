import {
  createPackr,
  createUnpackr,
  decodeAuth,
  decodeAuthOk,
  decodeBackpressure,
  decodeChallenge,
  decodeControl,
  decodeTuples,
  encodeAuth,
  encodeAuthOk,
  encodeBackpressure,
  encodeChallenge,
  encodeControl,
  encodeTuples,
} from '../../../worker/transport/codec';
import { FrameKind, frameKind } from '../../../worker/transport/frames';
import { CLIENT_LABEL, SERVER_LABEL, handshakeMac } from '../../../worker/transport/handshake';
import { testStreams } from './helpers';

// The wire format, pinned. docs/protocol.md walks through these same bytes. A change here is a
// protocol change: bump FRAME_VERSION, do not just update the hex.
const serverNonce = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const clientNonce = Buffer.from(Array.from({ length: 32 }, (_, i) => 0x20 + i));
const fields = { serverNonce, clientNonce, serverId: 'node-1:6700', clientId: 'node-2:6701', topologyId: 'wc-1' };
const secret = Buffer.from('secret');

const GOLDEN = {
  challenge:
    '0101de0002a56e6f6e6365c420000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1fa87365727665724964ab6e6f64652d313a36373030',
  auth:
    '0102de0004a8636c69656e744964ab6e6f64652d323a36373031aa746f706f6c6f67794964a477632d31ab636c69656e744e6f6e6365c420202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3fa36d6163c4203a1c73916383d796eea7752b6f61d22ad2e7556e654092f0eb2abf89d2e60748',
  authOk: '0103de0001a36d6163c42081a5d6c3dde1c4006c1db0dc022a06ebca4ef4375b95d35045431c2129254454',
  tuples:
    '010492dc001801030191a37468650002030191a3636f7701cb4330000000000001ff0701030191a46d6f6f6e0205ce7fffffffd280000000cb433fffffffffffff01029c0204cb4330000000000001ff0700050305000000',
  bpOn: '0105de0001a26f6ec3',
  bpOff: '0105de0001a26f6ec2',
  control: '0106de0002a474797065b261737369676e6d656e742d6368616e676564a373657107',
};

const ROOT = 2 ** 52 + 1;
const TUPLES = [
  ...[1, 3, 1, ['the'], 0],
  ...[2, 3, 1, ['cow'], 1, ROOT, -1, 7],
  ...[1, 3, 1, ['moon'], 2, 5, 2 ** 31 - 1, -(2 ** 31), 2 ** 53 - 1, 1, 2],
];
const ACKS = [2, 4, ROOT, -1, 7, 0, 5, 3, 5, 0, 0, 0];

const packr = createPackr();
const unpackr = createUnpackr();
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Buffer => Buffer.from(h, 'hex');

describe('golden bytes', () => {
  test('CHALLENGE', () => {
    expect(hex(encodeChallenge(packr, { nonce: serverNonce, serverId: 'node-1:6700' }))).toBe(GOLDEN.challenge);
    const c = decodeChallenge(unpackr, bytes(GOLDEN.challenge));
    expect(hex(c.nonce)).toBe(hex(serverNonce));
    expect(c.serverId).toBe('node-1:6700');
  });

  test('AUTH (the mac pins the HMAC construction too)', () => {
    const mac = handshakeMac(secret, CLIENT_LABEL, fields);
    expect(hex(encodeAuth(packr, { clientId: 'node-2:6701', topologyId: 'wc-1', clientNonce, mac }))).toBe(GOLDEN.auth);
    const a = decodeAuth(unpackr, bytes(GOLDEN.auth));
    expect(a).toMatchObject({ clientId: 'node-2:6701', topologyId: 'wc-1' });
    expect(hex(a.clientNonce)).toBe(hex(clientNonce));
    expect(hex(a.mac)).toBe(hex(mac));
  });

  test('AUTH_OK', () => {
    const mac = handshakeMac(secret, SERVER_LABEL, fields);
    expect(hex(encodeAuthOk(packr, { mac }))).toBe(GOLDEN.authOk);
    expect(hex(decodeAuthOk(unpackr, bytes(GOLDEN.authOk)).mac)).toBe(hex(mac));
  });

  test('TUPLES', () => {
    expect(hex(encodeTuples(packr, TUPLES, ACKS))).toBe(GOLDEN.tuples);
    const d = decodeTuples(unpackr, testStreams(), bytes(GOLDEN.tuples));
    expect(d.tasks).toEqual([1, 2, 1]);
    expect(d.tuples.map((t) => [t.values, t.sourceTask, t.sourceComponent, t.sourceStreamId, t.streamIndex])).toEqual([
      [['the'], 3, 'split', 'default', 1],
      [['cow'], 3, 'split', 'default', 1],
      [['moon'], 3, 'split', 'default', 1],
    ]);
    expect(d.tuples.map((t) => [t.root0, t.edgeHi0, t.edgeLo0, t.moreAnchors])).toEqual([
      [0, 0, 0, null],
      [ROOT, -1, 7, null],
      [5, 2 ** 31 - 1, -(2 ** 31), [2 ** 53 - 1, 1, 2]],
    ]);
    expect(d.acks).toEqual(ACKS);
  });

  test('BACKPRESSURE on and off', () => {
    expect(hex(encodeBackpressure(packr, true))).toBe(GOLDEN.bpOn);
    expect(hex(encodeBackpressure(packr, false))).toBe(GOLDEN.bpOff);
    expect(decodeBackpressure(unpackr, bytes(GOLDEN.bpOn))).toBe(true);
    expect(decodeBackpressure(unpackr, bytes(GOLDEN.bpOff))).toBe(false);
  });

  test('CONTROL', () => {
    expect(hex(encodeControl(packr, { type: 'assignment-changed', seq: 7 }))).toBe(GOLDEN.control);
    expect(decodeControl(unpackr, bytes(GOLDEN.control))).toEqual({ type: 'assignment-changed', seq: 7 });
  });

  test('every golden frame has version 1 and its kind byte', () => {
    const kinds: Array<[string, number]> = [
      [GOLDEN.challenge, FrameKind.CHALLENGE],
      [GOLDEN.auth, FrameKind.AUTH],
      [GOLDEN.authOk, FrameKind.AUTH_OK],
      [GOLDEN.tuples, FrameKind.TUPLES],
      [GOLDEN.bpOn, FrameKind.BACKPRESSURE],
      [GOLDEN.control, FrameKind.CONTROL],
    ];
    for (const [h, kind] of kinds) expect(frameKind(bytes(h), 1 << 20)).toBe(kind);
  });
});
