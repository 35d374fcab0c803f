/**
 * The NATS JetStream connectors against a real nats-server 2.9 (Debian's; bench/servers), one
 * server per file: every client API the connectors use is exercised here on that server version.
 *
 * Spout: a durable pull consumer shared by tasks (max_ack_pending from max spout pending, explicit
 * acks only after the tree completes, +WPI for held messages, nak with delay on a hand-back, term
 * for dead letters with a copy on a dead-letter subject), undecodable messages, a server killed and
 * restarted mid-run, wrong credentials and an unreachable server at start, and exactly-once replay
 * by stream sequence (ordered consumers, offsets()/seek()). Sink: JetStream publish with PubAcks,
 * through a server restart.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AckPolicy, connect, headers, type NatsConnection } from 'nats';
import { startNats, natsAvailable, type NatsServer } from '../../../bench/servers/nats';
import { JetStreamSinkBolt, JetStreamSpout, jsonScheme, stringScheme } from '../../../connectors/nats';
import { RecordingBoltCollector, fakeContext, tuple } from '../../unit/connectors/helpers';
import { SpoutDriver, sleep, tally, textOf, until } from './broker-driver';

jest.setTimeout(60_000);

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const FAST = { reconnectBackoff: { initialMs: 50, maxMs: 500 }, retryBackoff: { initialMs: 10, maxMs: 100 }, pollWaitMs: 100 };

if (!natsAvailable()) {
  test('nats-server is installed', () => {
    throw new Error('nats-server is missing: run scripts/ensure-packages.sh');
  });
} else {
  describe('NATS JetStream connectors', () => {
    let server: NatsServer;
    let nc: NatsConnection;
    let n = 0;
    /** A fresh stream (and subject prefix) per test. */
    const fresh = async (): Promise<{ stream: string; subject: string }> => {
      n++;
      const stream = `S${n}`;
      const subject = `t${n}`;
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: stream, subjects: [`${subject}.>`] });
      return { stream, subject };
    };
    const publish = async (subject: string, bodies: string[]): Promise<void> => {
      const js = nc.jetstream();
      await Promise.all(bodies.map((b) => js.publish(subject, enc(b))));
    };
    const consumerInfo = async (stream: string, consumer: string) => (await nc.jetstreamManager()).consumers.info(stream, consumer);

    beforeAll(async () => {
      server = await startNats({ user: 'squall', password: 'secret' });
      nc = await connect({ servers: server.url, user: 'squall', pass: 'secret', maxReconnectAttempts: -1, reconnectTimeWait: 50 });
    });

    afterAll(async () => {
      await nc?.close();
      await server?.stop();
    });

    const opts = { servers: '', user: 'squall', password: 'secret' };
    beforeEach(() => {
      opts.servers = server.url;
    });

    it('acks each message at the server only when its tree completes, within max_ack_pending from max spout pending', async () => {
      const { stream, subject } = await fresh();
      await publish(`${subject}.a`, Array.from({ length: 300 }, (_, i) => `m${i}`));
      const spout = new JetStreamSpout({ ...opts, ...FAST, stream, consumer: 'workers', scheme: stringScheme() });
      // hold every tuple: the spout must stop at max spout pending, and the server must see no ack
      const d = new SpoutDriver(spout, { 'topology.max.spout.pending': 40, 'topology.message.timeout.secs': 30 }, () => 'hold').start();
      try {
        await until('40 tuples in flight', () => d.pending.size === 40);
        await sleep(200);
        expect(d.emitted.length).toBe(40);
        const info = await consumerInfo(stream, 'workers');
        expect(info.config.ack_policy).toBe(AckPolicy.Explicit);
        // one task: its in-flight limit + its prefetch buffer + what its feed may request ahead
        expect(info.config.max_ack_pending).toBeGreaterThanOrEqual(40);
        expect(info.num_ack_pending).toBeGreaterThanOrEqual(40);
        expect(info.ack_floor.stream_seq).toBe(0);
        // complete them: the server sees the acks, the spout goes on
        d.settleHeld('ack');
        await until('all 300 emitted and acked', () => (d.settleHeld('ack'), d.emitted.length >= 300 && d.pending.size === 0));
        await until('the server has every ack', async () => {
          const i = await consumerInfo(stream, 'workers');
          return i.num_ack_pending === 0 && i.num_pending === 0 && i.ack_floor.stream_seq === 300;
        });
        const { distinct, duplicates } = tally(d.texts());
        expect(distinct.size).toBe(300);
        expect(duplicates).toBe(0);
        expect(d.maxPendingSeen).toBe(40);
      } finally {
        await d.stop();
      }
    });

    it('retries a failed tuple and dead-letters one that keeps failing: copy on the dead-letter subject, +TERM at the server', async () => {
      const { stream, subject } = await fresh();
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: `${stream}_DLQ`, subjects: [`dlq${n}`] });
      await publish(`${subject}.a`, ['ok-1', 'poison', 'ok-2']);
      const spout = new JetStreamSpout({ ...opts, ...FAST, stream, consumer: 'c', scheme: stringScheme(), maxRetries: 2, deadLetterSubject: `dlq${n}` });
      const d = new SpoutDriver(spout, { 'topology.max.spout.pending': 10 }, (e) => (textOf(e.values[0]) === 'poison' ? 'fail' : 'ack')).start();
      try {
        await until('the poison message dead-lettered', () => d.deadLetters.length === 1);
        expect(d.texts().filter((t) => t === 'poison')).toHaveLength(3); // first try + 2 retries
        expect(d.codes()).toContain('ERR_CONNECTOR_DEAD_LETTER');
        await until('the server has settled all three', async () => {
          const i = await consumerInfo(stream, 'c');
          return i.num_ack_pending === 0 && i.num_pending === 0;
        });
        const copy = await jsm.streams.getMessage(`${stream}_DLQ`, { seq: 1 });
        expect(textOf(copy.data)).toBe('poison');
        expect(copy.header.get('Squall-Failures')).toBe('3');
        expect(copy.header.get('Squall-Sequence')).toBe('2');
        // termed, not acked-and-redelivered: nothing comes back
        await sleep(300);
        expect(d.texts().filter((t) => t === 'poison')).toHaveLength(3);
      } finally {
        await d.stop();
      }
    });

    it('dead-letters an undecodable message at once, counts it and does not stall', async () => {
      const { stream, subject } = await fresh();
      await publish(`${subject}.a`, ['{"id":1}', 'not json', '{"id":2}', '[1,2]', '{"id":3}']);
      const spout = new JetStreamSpout({ ...opts, ...FAST, stream, consumer: 'c', scheme: jsonScheme(['id']) });
      const d = new SpoutDriver(spout, { 'topology.max.spout.pending': 10 }).start();
      try {
        await until('three good tuples', () => d.emitted.length === 3);
        await until('two dead letters', () => d.deadLetters.length === 2);
        expect(d.emitted.map((e) => e.values[0])).toEqual([1, 2, 3]);
        expect(spout.counters.decodeFailed).toBe(2);
        expect(d.codes().filter((c) => c === 'ERR_CONNECTOR_DECODE')).toHaveLength(2);
        await until('all settled at the server', async () => (await consumerInfo(stream, 'c')).num_ack_pending === 0);
      } finally {
        await d.stop();
      }
    });

    it('rides out a server killed and restarted mid-run: coded error, reconnect, nothing acked lost, nothing un-acked dropped', async () => {
      const { stream, subject } = await fresh();
      await publish(`${subject}.a`, Array.from({ length: 200 }, (_, i) => `a${i}`));
      // acks sent into the outage are lost: the server redelivers those after ack_wait
      const spout = new JetStreamSpout({ ...opts, ...FAST, stream, consumer: 'c', ackWaitMs: 2000, scheme: stringScheme() });
      let held = 0;
      // hold a few tuples across the outage: they are acked after the restart, on the same consumer
      const d = new SpoutDriver(spout, { 'topology.max.spout.pending': 50 }, () => (held++ < 10 ? 'hold' : 'ack')).start();
      try {
        await until('the first 200', () => d.emitted.length >= 200);
        await server.kill9();
        await until('the outage reported', () => d.codes().includes('ERR_CONNECTOR_CONNECT'), 20_000);
        await server.restart();
        await until('the test client back', () => !nc.isClosed() && (nc as unknown as { protocol: { connected: boolean } }).protocol.connected);
        await publish(`${subject}.a`, Array.from({ length: 200 }, (_, i) => `b${i}`));
        d.settleHeld('ack');
        await until('all 400 processed', () => tally(d.texts()).distinct.size === 400, 30_000);
        await until('every message acked at the server', async () => {
          const i = await consumerInfo(stream, 'c');
          return i.num_ack_pending === 0 && i.num_pending === 0 ? i : false;
        });
        expect(spout.counters.connects).toBeGreaterThanOrEqual(1);
      } finally {
        await d.stop();
      }
    });

    it('a spout holding all it may learns at once that the server went away, and resumes after it is back', async () => {
      const { stream, subject } = await fresh();
      await publish(`${subject}.a`, Array.from({ length: 40 }, (_, i) => `m${i}`));
      const spout = new JetStreamSpout({ ...opts, ...FAST, stream, consumer: 'c', ackWaitMs: 2000, prefetch: 5, scheme: stringScheme() });
      const d = new SpoutDriver(spout, { 'topology.max.spout.pending': 5 }, () => 'hold').start();
      try {
        // 5 in flight and the prefetch buffer full: no room, so the spout neither polls nor acks
        await until('5 in flight and the buffer full', () => d.pending.size === 5 && spout.heldCount() >= 10);
        expect(d.codes()).toEqual([]);
        await server.kill9();
        await until('the outage reported', () => d.codes().includes('ERR_CONNECTOR_CONNECT'), 20_000);
        await server.restart();
        await until('the test client back', () => !nc.isClosed() && (nc as unknown as { protocol: { connected: boolean } }).protocol.connected);
        await until('all 40 processed', () => (d.settleHeld('ack'), tally(d.texts()).distinct.size === 40), 30_000);
      } finally {
        await d.stop();
      }
    });

    it('wrong credentials and an unreachable server at start: coded errors, retried with backoff, no throw', async () => {
      const bad = new SpoutDriver(new JetStreamSpout({ ...opts, ...FAST, password: 'wrong', stream: 'S1', consumer: 'c' }), {}).start();
      const away = new SpoutDriver(new JetStreamSpout({ ...FAST, servers: 'nats://127.0.0.1:1', stream: 'S1', consumer: 'c' }), {}).start();
      try {
        await until('the auth error reported twice', () => bad.codes().filter((c) => c === 'ERR_CONNECTOR_AUTH').length >= 2);
        await until('the connect error reported twice', () => away.codes().filter((c) => c === 'ERR_CONNECTOR_CONNECT').length >= 2);
        expect(String((bad.collector.errors[0] as Error).stack)).toMatch(/^SquallError \[ERR_CONNECTOR_AUTH\]/);
        expect(bad.emitted).toHaveLength(0);
      } finally {
        await bad.stop();
        await away.stop();
      }
    });

    it('exactly-once: ordered consumers per partition, offsets() by stream sequence, seek() replays after them', async () => {
      const { stream, subject } = await fresh();
      const h = headers();
      h.set('k', 'v');
      for (let i = 0; i < 10; i++) await nc.jetstream().publish(`${subject}.${i % 2 === 0 ? 'even' : 'odd'}`, enc(`m${i}`), { headers: h });
      const spout = new JetStreamSpout({ ...opts, ...FAST, stream, guarantee: 'exactly-once', partitions: [`${subject}.even`, `${subject}.odd`], scheme: stringScheme() });
      const d = new SpoutDriver(spout, { 'topology.max.spout.pending': 100 }).start();
      try {
        await until('10 emitted', () => d.emitted.length === 10);
        const offsets = spout.offsets();
        expect(offsets).toEqual({ [`${subject}.even`]: 9, [`${subject}.odd`]: 10 });
        // a checkpoint in the middle: only the evens up to seq 5 and the odds up to seq 4
        spout.seek({ [`${subject}.even`]: 5, [`${subject}.odd`]: 4 });
        await until('the replay', () => d.emitted.length === 10 + 5);
        // evens after seq 5 (m6, m8), odds after seq 4 (m5, m7, m9)
        expect(d.texts().slice(10).sort()).toEqual(['m5', 'm6', 'm7', 'm8', 'm9']);
        spout.seek(null);
        await until('the replay from the start', () => d.emitted.length === 25);
        // parallelism: task 1 of 2 reads only the second partition
        const other = new SpoutDriver(new JetStreamSpout({ ...opts, ...FAST, stream, guarantee: 'exactly-once', partitions: [`${subject}.even`, `${subject}.odd`], scheme: stringScheme() }), {}, () => 'ack', 1, 2).start();
        await until('task 1 read the odds', () => other.emitted.length === 5);
        expect(other.texts()).toEqual(['m1', 'm3', 'm5', 'm7', 'm9']);
        await other.stop();
      } finally {
        await d.stop();
      }
    });

    it('sink: publishes in batches, acks each input after its PubAck, and retries through a restart', async () => {
      const { stream, subject } = await fresh();
      const sink = new JetStreamSinkBolt({ ...opts, subject: `${subject}.out`, batchSize: 50, flushIntervalMs: 5, reconnectBackoff: { initialMs: 50, maxMs: 500 }, writeAttempts: 50 });
      const collector = new RecordingBoltCollector();
      sink.prepare({}, fakeContext(0, 1, 'sink'), collector);
      const fields = ['id', 'word'];
      for (let i = 0; i < 120; i++) void sink.execute(tuple([i, `w${i}`], fields));
      await sink.drained();
      expect(collector.acked).toHaveLength(120);
      const jsm = await nc.jetstreamManager();
      expect((await jsm.streams.info(stream)).state.messages).toBe(120);
      expect(JSON.parse(textOf((await jsm.streams.getMessage(stream, { seq: 1 })).data))).toEqual({ id: 0, word: 'w0' });
      await server.kill9();
      for (let i = 120; i < 150; i++) void sink.execute(tuple([i, `w${i}`], fields));
      const written = sink.drained();
      await until('the write failure reported', () => collector.errors.length > 0);
      expect(collector.acked).toHaveLength(120);
      await server.restart();
      await written;
      expect(collector.acked).toHaveLength(150);
      expect(collector.failed).toHaveLength(0);
      await until('150 stored', async () => (await jsm.streams.info(stream)).state.messages === 150);
      await sink.cleanup();
    });

    it('the nats-orders example runs with one command against the server and every hop is acknowledged', async () => {
      const root = path.resolve(__dirname, '../../..');
      if (!fs.existsSync(path.join(root, 'dist/cli/main.js'))) throw new Error('dist/ is not built: run `node scripts/build.js` (npm test does)');
      // the example's server has no credentials: point it at an open listener of ours
      const open = await startNats();
      try {
        const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
          execFile(process.execPath, [path.join(root, 'bin/squall.js'), 'local', 'examples/nats-orders/topology.ts', '--duration', '4', '--no-progress'], { cwd: root, env: { ...process.env, NATS_URL: open.url }, timeout: 60_000 }, (err, stdout, stderr) =>
            resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
          );
        });
        expect(run).toMatchObject({ code: 0 });
        const c = await connect({ servers: open.url });
        try {
          const jsm = await c.jetstreamManager();
          const orders = (await jsm.streams.info('ORDERS')).state.messages;
          const totals = (await jsm.streams.info('TOTALS')).state.messages;
          expect(orders).toBeGreaterThan(100);
          expect(totals).toBeGreaterThan(0);
          const consumer = await jsm.consumers.info('ORDERS', 'customer-totals');
          // every order the spout took was acked after its total was stored (or handed back at shutdown)
          expect(consumer.delivered.stream_seq).toBeGreaterThan(0);
        } finally {
          await c.close();
        }
      } finally {
        await open.stop();
      }
    });
  });
}
