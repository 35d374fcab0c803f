import net from 'node:net';
import { Writable } from 'node:stream';
import { WebSocket } from 'ws';
import { ManualClock, type Clock } from '../../../common/clock';
import { createLogger } from '../../../common/logging';
import { Random } from '../../../common/random';
import { createPackr, createUnpackr, decodeChallenge, encodeAuth, encodeFrame, encodeTuples } from '../../../worker/transport/codec';
import { CloseCode, FrameKind } from '../../../worker/transport/frames';
import { CLIENT_LABEL, handshakeMac, newNonce } from '../../../worker/transport/handshake';
import type { PeerAddress } from '../../../worker/transport/types';
import { WsTransport, type WsTransportOptions } from '../../../worker/transport/ws-transport';
import { FakeReceiver, testStreams, waitFor, wordTuple } from '../../unit/transport/helpers';

const SECRET = 'cluster-secret';
const TOPOLOGY = 'wc-1';
const packr = createPackr();
const unpackr = createUnpackr();

interface LogLine {
  level: number;
  msg: string;
  code?: string;
  closeCode?: number;
}

function capture(): { lines: LogLine[]; logger: ReturnType<typeof createLogger> } {
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, logger: createLogger({ level: 'info', destination }) };
}

const open: WsTransport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function worker(key: string, receiver: FakeReceiver, opts: Partial<WsTransportOptions> = {}): Promise<WsTransport> {
  const t = new WsTransport({ workerKey: key, topologyId: TOPOLOGY, secret: SECRET, port: 0, random: new Random(1), backoff: { baseMs: 10, maxMs: 100 }, ...opts });
  t.attach({ receiver, streams: testStreams(), onWritable: () => {} });
  open.push(t);
  await t.listen();
  return t;
}

const addr = (port: number): PeerAddress => ({ host: '127.0.0.1', port });

/** A sender A linked to a receiver B. */
async function linked(optsB: Partial<WsTransportOptions> = {}, capacity?: number) {
  const rb = new FakeReceiver([1, 2], capacity);
  const b = await worker('B', rb, optsB);
  const a = await worker('A', new FakeReceiver([3]));
  a.setPeers(new Map([['B', addr(b.port)]]));
  await waitFor('link A→B open', () => a.linkState('B') === 'open');
  return { a, b, rb };
}

/** Sends one tuple A→B and waits for it: the good link still works. */
async function stillWorks(a: WsTransport, rb: FakeReceiver, word: string): Promise<void> {
  const before = rb.tuplesIn;
  a.outbox('B')!.addTuple(1, wordTuple(word));
  a.flush();
  await waitFor(`tuple "${word}" over the good link`, () => rb.tuplesIn === before + 1);
}

/** A hand-driven client: the test plays the sending worker's part of the protocol. */
class RawClient {
  readonly ws: WebSocket;
  readonly frames: Buffer[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;

  constructor(port: number) {
    this.ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
    this.ws.on('message', (d: Buffer) => this.frames.push(d));
    this.ws.on('error', () => {});
    this.opened = new Promise((resolve) => this.ws.once('open', () => resolve()));
    this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  async challenge(): Promise<{ nonce: Uint8Array; serverId: string }> {
    await waitFor('CHALLENGE', () => this.frames.length > 0);
    return decodeChallenge(unpackr, this.frames[0]);
  }

  /** Completes the handshake with the given secret and topology. */
  async auth(secret = SECRET, topologyId = TOPOLOGY, clientId = 'raw'): Promise<void> {
    const c = await this.challenge();
    const clientNonce = newNonce();
    const mac = handshakeMac(Buffer.from(secret), CLIENT_LABEL, { serverNonce: c.nonce, clientNonce, serverId: c.serverId, clientId, topologyId });
    this.ws.send(encodeAuth(packr, { clientId, topologyId, clientNonce, mac }));
  }

  async authed(): Promise<void> {
    await this.auth();
    await waitFor('AUTH_OK', () => this.frames.length > 1);
    expect(this.frames[1][1]).toBe(FrameKind.AUTH_OK);
  }
}

function rejections(lines: LogLine[]): LogLine[] {
  return lines.filter((l) => l.level === 40 && l.msg.startsWith('link closed'));
}

describe('handshake', () => {
  test('peers with the same secret and topology link up', async () => {
    const { a, b } = await linked();
    expect(b.stats().inboundLinks).toBe(1);
    expect(a.stats().outboxes[0]).toMatchObject({ peer: 'B', connected: true, full: false });
  });

  test('a wrong secret is refused with 4001 before any tuple is accepted', async () => {
    const { lines, logger } = capture();
    const rb = new FakeReceiver();
    const b = await worker('B', rb, { logger });
    const c = new RawClient(b.port);
    await c.auth('not-the-secret');
    c.ws.send(encodeTuples(packr, [1, 3, 1, ['sneaky'], 0], []));
    const { code, reason } = await c.closed;
    expect(code).toBe(CloseCode.HANDSHAKE_BAD_MAC);
    expect(reason).toMatch(/^ERR_HANDSHAKE_FAILED /);
    expect(rb.tuplesIn).toBe(0);
    expect(c.frames).toHaveLength(1); // no AUTH_OK
    expect(rejections(lines)).toEqual([expect.objectContaining({ code: 'ERR_HANDSHAKE_FAILED', closeCode: 4001 })]);
  });

  test('a worker with the wrong secret never gets a link', async () => {
    const b = await worker('B', new FakeReceiver());
    const a = await worker('A', new FakeReceiver(), { secret: 'other' });
    a.setPeers(new Map([['B', addr(b.port)]]));
    await waitFor('two refused attempts', () => b.stats().rejectedConnections >= 2);
    expect(a.linkState('B')).not.toBe('open');
  });

  test('a worker of another topology is refused with 4002', async () => {
    const b = await worker('B', new FakeReceiver());
    const c = new RawClient(b.port);
    await c.auth(SECRET, 'some-other-topology');
    expect((await c.closed).code).toBe(CloseCode.HANDSHAKE_WRONG_TOPOLOGY);
  });

  test('no AUTH within the handshake timeout closes with 4003 (manual clock)', async () => {
    const clock = new ManualClock();
    const b = await worker('B', new FakeReceiver(), { clock: clock as Clock, handshakeTimeoutMs: 5000 });
    const c = new RawClient(b.port);
    await c.challenge();
    clock.advance(4999);
    clock.advance(1);
    const { code, reason } = await c.closed;
    expect(code).toBe(CloseCode.HANDSHAKE_TIMEOUT);
    expect(reason).toMatch(/ERR_HANDSHAKE_FAILED no AUTH within 5000 ms/);
    expect(clock.pendingTimers()).toBe(0);
  });

  test.each([
    ['TUPLES', () => encodeTuples(packr, [1, 3, 1, ['w'], 0], [])],
    ['CONTROL', () => encodeFrame(packr, FrameKind.CONTROL, { type: 'x' })],
    ['AUTH_OK', () => encodeFrame(packr, FrameKind.AUTH_OK, { mac: Buffer.alloc(32) })],
  ])('%s before AUTH is refused with 4004', async (_kind, frame) => {
    const rb = new FakeReceiver();
    const b = await worker('B', rb);
    const c = new RawClient(b.port);
    await c.challenge();
    c.ws.send(frame());
    expect((await c.closed).code).toBe(CloseCode.HANDSHAKE_UNEXPECTED);
    expect(rb.tuplesIn).toBe(0);
  });

  test('a link pointed at the wrong worker (id mismatch) does not open', async () => {
    const { lines, logger } = capture();
    const c = await worker('C', new FakeReceiver());
    const a = await worker('A', new FakeReceiver(), { logger });
    a.setPeers(new Map([['B', addr(c.port)]]));
    await waitFor('a failed attempt', () => lines.some((l) => l.msg.includes('expected worker "B", found "C"')));
    expect(a.linkState('B')).not.toBe('open');
  });
});

describe('garbage on the port closes only that connection, with a coded reason and one log line', () => {
  async function setup() {
    const { lines, logger } = capture();
    const parts = await linked({ logger, limits: { frameBytesMax: 4096 } });
    return { ...parts, lines };
  }

  async function rawTcp(port: number, data: Buffer | string): Promise<string> {
    return new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.write(data));
      let got = '';
      s.on('data', (d) => (got += d.toString()));
      s.on('error', () => {});
      s.on('close', () => resolve(got));
    });
  }

  test('random bytes', async () => {
    const { a, b, rb, lines } = await setup();
    const answer = await rawTcp(b.port, Buffer.from(new Random(3).shuffle([...Array(256).keys()]).map((x) => x & 0xff)));
    expect(answer).toMatch(/^HTTP\/1.1 400 .*ERR_FRAME_MALFORMED/s);
    expect(rejections(lines)).toEqual([expect.objectContaining({ code: 'ERR_FRAME_MALFORMED' })]);
    await stillWorks(a, rb, 'after-random-bytes');
  });

  test('plain HTTP GET without an upgrade', async () => {
    const { a, b, rb, lines } = await setup();
    const answer = await rawTcp(b.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1.1 426 .*ERR_FRAME_MALFORMED/s);
    expect(rejections(lines)).toHaveLength(1);
    await stillWorks(a, rb, 'after-get');
  });

  test('an upgrade request without a websocket key', async () => {
    const { a, b, rb, lines } = await setup();
    const answer = await rawTcp(b.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1.1 400 /);
    expect(rejections(lines)).toHaveLength(1);
    await stillWorks(a, rb, 'after-bad-upgrade');
  });

  const afterAuth: Array<[string, number, string, (c: RawClient) => void]> = [
    ['a text message', CloseCode.FRAME_MALFORMED, 'ERR_FRAME_MALFORMED', (c) => c.ws.send('hello')],
    ['malformed msgpack', CloseCode.FRAME_MALFORMED, 'ERR_FRAME_MALFORMED', (c) => c.ws.send(Buffer.from([1, 4, 0xc1, 0xc1]))],
    ['a frame that breaks the TUPLES rules', CloseCode.FRAME_MALFORMED, 'ERR_FRAME_MALFORMED', (c) => c.ws.send(encodeTuples(packr, [1, 3, 7, ['w'], 0], []))],
    ['an unknown kind', CloseCode.FRAME_KIND, 'ERR_FRAME_KIND', (c) => c.ws.send(Buffer.from([1, 99, 0x90]))],
    ['a kind the receiver never accepts', CloseCode.FRAME_KIND, 'ERR_FRAME_KIND', (c) => c.ws.send(encodeFrame(packr, FrameKind.BACKPRESSURE, { on: true }))],
    ['an unknown version', CloseCode.FRAME_VERSION, 'ERR_FRAME_VERSION', (c) => c.ws.send(Buffer.from([2, 4, 0x92, 0x90, 0x90]))],
    ['a frame over the cap (ws maxPayload)', 1009, 'ERR_FRAME_TOO_LARGE', (c) => c.ws.send(Buffer.alloc(5000, 1))],
  ];
  test.each(afterAuth)('%s after auth', async (_what, closeCode, code, send) => {
    const { a, rb, b, lines } = await setup();
    const c = new RawClient(b.port);
    await c.authed();
    const before = rb.tuplesIn;
    send(c);
    expect((await c.closed).code).toBe(closeCode);
    expect(rb.tuplesIn).toBe(before);
    expect(rejections(lines)).toEqual([expect.objectContaining({ code })]);
    await stillWorks(a, rb, 'after-garbage');
    expect(b.stats().rejectedConnections).toBe(1);
  });

  test('a text message before auth', async () => {
    const { a, b, rb, lines } = await setup();
    const c = new RawClient(b.port);
    await c.challenge();
    c.ws.send('hi');
    expect((await c.closed).code).toBe(CloseCode.FRAME_MALFORMED);
    expect(rejections(lines)).toHaveLength(1);
    await stillWorks(a, rb, 'after-text');
  });

  test('a handshake frame over the pre-auth cap', async () => {
    const { a, b, rb } = await setup();
    const c = new RawClient(b.port);
    await c.challenge();
    c.ws.send(encodeFrame(packr, FrameKind.AUTH, { pad: 'x'.repeat(2000) }));
    // refused by ws itself at the length header (the connection's cap is the handshake size until AUTH)
    expect((await c.closed).code).toBe(1009);
    await stillWorks(a, rb, 'after-big-auth');
  });
});

describe('flow', () => {
  test('tuples for tasks B does not run are refused and counted; the link stays', async () => {
    const { lines, logger } = capture();
    const { a, b, rb } = await linked({ logger, refusedLogIntervalMs: 60_000 });
    const out = a.outbox('B')!;
    for (let i = 0; i < 5; i++) out.addTuple(3, wordTuple('not-mine'));
    a.flush();
    out.addTuple(3, wordTuple('not-mine'));
    a.flush();
    await stillWorks(a, rb, 'mine');
    expect(b.stats().refusedIn).toBe(6);
    expect(lines.filter((l) => l.code === 'ERR_TASK_NOT_OWNED')).toHaveLength(1); // once per link per interval
  });

  test('BACKPRESSURE pauses the sender (its outbox reports full) and resumes it', async () => {
    const { a, b, rb } = await linked({}, 10);
    const out = a.outbox('B')!;
    for (let i = 0; i < 15; i++) out.addTuple(1, wordTuple(`w${i}`));
    a.flush();
    await waitFor('sender full', () => out.isFull());
    expect(b.stats().pausedLinks).toBe(1);
    expect(a.stats().outboxes[0].remoteBackpressure).toBe(true);
    b.afterTurn();
    expect(out.isFull()).toBe(true);
    rb.inboxes.get(1)!.drain();
    b.afterTurn();
    await waitFor('sender resumed', () => !out.isFull());
    expect(b.stats().pausedLinks).toBe(0);
    await stillWorks(a, rb, 'after-resume');
  });

  test('a link reconnects after the receiver restarts on the same port', async () => {
    const { a, b, rb } = await linked();
    const port = b.port;
    await b.close();
    await waitFor('link lost', () => a.linkState('B') !== 'open');
    const b2 = await worker('B', rb, { port });
    expect(b2.port).toBe(port);
    await waitFor('link back', () => a.linkState('B') === 'open');
    await stillWorks(a, rb, 'after-restart');
  });

  test('tuples batched while the link is down go out once it is back', async () => {
    const { a, b, rb } = await linked();
    const port = b.port;
    await b.close();
    await waitFor('link lost', () => a.linkState('B') !== 'open');
    const out = a.outbox('B')!;
    out.addTuple(1, wordTuple('queued'));
    a.flush();
    expect(out.stats().pendingFrames).toBe(1);
    await worker('B', rb, { port });
    await waitFor('queued tuple delivered', () => rb.tuplesIn === 1);
  });

  test('setPeers re-points a link to a new port without restarting anything', async () => {
    const { a, rb } = await linked();
    const rb2 = new FakeReceiver([1, 2]);
    const b2 = await worker('B', rb2);
    a.setPeers(new Map([['B', addr(b2.port)]]));
    await waitFor('link to the new B', () => a.linkState('B') === 'open' && b2.stats().inboundLinks === 1);
    await stillWorks(a, rb2, 'to-new-port');
    expect(rb.tuplesIn).toBe(0);
    a.setPeers(new Map());
    expect(a.outbox('B')).toBeUndefined();
    await waitFor('B2 sees it go', () => b2.stats().inboundLinks === 0);
  });

  test('close is idempotent and ends every socket', async () => {
    const { a, b } = await linked();
    await Promise.all([a.close(), a.close(), b.close()]);
    await b.close();
    expect(a.linkState('B')).toBeUndefined();
  });
});

describe('limits on unauthenticated peers', () => {
  test('a large message before AUTH is refused at its length header (1009), a good link keeps working', async () => {
    const { a, b, rb } = await linked();
    const c = new RawClient(b.port);
    await c.challenge();
    c.ws.send(Buffer.alloc(1 << 20, 7)); // 1 MiB: far over the handshake cap, well under the frame cap
    const { code } = await c.closed;
    expect(code).toBe(1009);
    await stillWorks(a, rb, 'after-oversize-preauth');
  });

  test('after AUTH the full frame cap applies again', async () => {
    const rb = new FakeReceiver([1, 2]);
    const b = await worker('B', rb);
    const c = new RawClient(b.port);
    await c.authed();
    const big = 'x'.repeat(300_000);
    c.ws.send(encodeTuples(packr, [1, 3, 1, [big], 0], []));
    await waitFor('a 300 kB tuple over an authenticated link', () => rb.tuplesIn === 1);
  });

  test('at most 32 handshakes wait at once; more connections are closed at once and a good link still works', async () => {
    const { a, b, rb } = await linked();
    const idle: RawClient[] = [];
    for (let i = 0; i < 32; i++) idle.push(new RawClient(b.port));
    await Promise.all(idle.map((c) => c.challenge()));
    const extra = new RawClient(b.port);
    const { code } = await extra.closed;
    expect(code).toBe(CloseCode.HANDSHAKE_TIMEOUT);
    await stillWorks(a, rb, 'during-handshake-flood');
    for (const c of idle) c.ws.terminate();
    await Promise.all(idle.map((c) => c.closed));
    const late = new RawClient(b.port);
    await late.authed(); // room again once the idle ones are gone
    late.ws.terminate();
  });
});
