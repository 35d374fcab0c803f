/**
 * The RabbitMQ connectors against a real rabbitmq-server 3.10 (Debian's; bench/servers), started
 * once for the file (it boots in ~20 s): every amqplib call the connectors use runs here.
 *
 * Spout on classic and quorum queues: prefetch from max spout pending, basic.ack only when the tree
 * completes, a closing task's un-acked deliveries requeued for another, dead letters published with
 * confirms to a dead-letter exchange, undecodable messages, the broker stopped and restarted
 * mid-run, wrong credentials and an unreachable broker at start. Spout on stream queues: offsets
 * from `x-stream-offset`, seek() replays, the committed offset stored and resumed after. Sink:
 * publisher confirms, through a broker restart.
 */
import { connect, type Channel, type ChannelModel } from 'amqplib';
import { rabbitmqAvailable, startRabbitMq, type RabbitMqServer } from '../../../bench/servers/rabbitmq';
import { jsonScheme, offsetStoreQueue, RabbitMqSinkBolt, RabbitMqSpout, stringScheme } from '../../../connectors/rabbitmq';
import { RecordingBoltCollector, fakeContext, tuple } from '../../unit/connectors/helpers';
import { SpoutDriver, sleep, tally, textOf, until, within } from './broker-driver';

jest.setTimeout(120_000);

const FAST = { reconnectBackoff: { initialMs: 50, maxMs: 500 }, retryBackoff: { initialMs: 10, maxMs: 100 }, pollWaitMs: 100 };

if (!rabbitmqAvailable()) {
  test('rabbitmq-server is installed', () => {
    throw new Error('rabbitmq-server is missing: run scripts/ensure-packages.sh');
  });
} else {
  describe('RabbitMQ connectors', () => {
    let server: RabbitMqServer;
    let conn: ChannelModel;
    let ch: Channel;
    let n = 0;

    const reconnectAdmin = async (): Promise<void> => {
      conn = await connect(server.url);
      conn.on('error', () => undefined);
      ch = await conn.createConfirmChannel();
      ch.on('error', () => undefined);
    };
    const queue = async (type: 'classic' | 'quorum' | 'stream', bodies: string[] = []): Promise<string> => {
      const q = `${type}-${++n}`;
      await ch.assertQueue(q, { durable: true, arguments: { 'x-queue-type': type } });
      await send(q, bodies);
      return q;
    };
    const send = async (q: string, bodies: string[]): Promise<void> => {
      for (const b of bodies) ch.sendToQueue(q, Buffer.from(b), { persistent: true });
      await (ch as unknown as { waitForConfirms(): Promise<void> }).waitForConfirms();
    };
    const counts = (q: string) => ch.checkQueue(q);

    beforeAll(async () => {
      server = await startRabbitMq();
      await reconnectAdmin();
    }, 180_000);

    afterAll(async () => {
      await conn?.close().catch(() => undefined);
      await server?.stop();
    }, 60_000);

    const url = (): string => server.url;

    it.each(['classic', 'quorum'] as const)('%s queue: prefetch from max spout pending, basic.ack only when the tree completes', async (type) => {
      const q = await queue(type, Array.from({ length: 200 }, (_, i) => `m${i}`));
      const spout = new RabbitMqSpout({ ...FAST, url: url(), queue: q, queueType: type, scheme: stringScheme(), prefetch: 10 });
      const d = new SpoutDriver(spout, { 'topology.max.spout.pending': 30 }, () => 'hold').start();
      try {
        await until('30 in flight', () => d.pending.size === 30);
        await sleep(200);
        expect(d.emitted).toHaveLength(30);
        // unacked at the broker: in flight + the prefetch buffer, never more than basic.qos
        const before = await counts(q);
        expect(before.messageCount).toBeGreaterThanOrEqual(200 - 40);
        d.settleHeld('ack');
        await until('all 200 processed', () => (d.settleHeld('ack'), tally(d.texts()).distinct.size === 200));
        expect(tally(d.texts()).duplicates).toBe(0);
        // closed right after the last acks: none of them may be lost (the channel closes before
        // the connection, so no ack is overtaken), so nothing comes back to the queue
        await d.stop();
        await until('the queue empty after close', async () => (await counts(q)).messageCount === 0, 5_000);
      } finally {
        await d.stop();
      }
    });

    it('a spout holding all it may learns at once that the broker cancelled its consumer (queue deleted)', async () => {
      const q = await queue('classic', Array.from({ length: 20 }, (_, i) => `m${i}`));
      const spout = new RabbitMqSpout({ ...FAST, url: url(), queue: q, queueType: 'classic', scheme: stringScheme(), prefetch: 5 });
      const d = new SpoutDriver(spout, { 'topology.max.spout.pending': 5 }, () => 'hold').start();
      try {
        // 5 in flight and 5 in the prefetch buffer: no room, so the spout neither polls nor acks
        await until('10 held', () => d.pending.size === 5 && spout.heldCount() === 10);
        expect(d.codes()).toEqual([]);
        await ch.deleteQueue(q);
        await until('the lost consumer reported', () => d.codes().includes('ERR_CONNECTOR_CONNECT'), 10_000);
      } finally {
        await d.stop();
      }
    });

    it('a closing task\'s un-acked deliveries go back to the queue for another task; failures are retried', async () => {
      const q = await queue('quorum', Array.from({ length: 20 }, (_, i) => `m${i}`));
      const one = new SpoutDriver(new RabbitMqSpout({ ...FAST, url: url(), queue: q, queueType: 'quorum', scheme: stringScheme() }), { 'topology.max.spout.pending': 5 }, () => 'hold', 0, 2).start();
      await until('task 0 holds 5', () => one.pending.size === 5);
      await one.stop();
      let failedOnce = false;
      const two = new SpoutDriver(new RabbitMqSpout({ ...FAST, url: url(), queue: q, queueType: 'quorum', scheme: stringScheme() }), { 'topology.max.spout.pending': 100 }, () => {
        if (failedOnce) return 'ack';
        failedOnce = true;
        return 'fail';
      }, 1, 2).start();
      try {
        await until('task 1 got all 20', () => tally(two.texts()).distinct.size === 20, 20_000);
        expect(two.texts()).toEqual(expect.arrayContaining(one.texts()));
        expect(two.spout.counters.retried).toBe(1);
        await until('queue drained', async () => (await counts(q)).messageCount === 0);
      } finally {
        await two.stop();
      }
    });

    it('dead letters: undecodable at once, failing after maxRetries; published with confirms to the dead-letter exchange', async () => {
      const q = await queue('classic', ['{"id":1}', 'garbage', '{"id":2}', '{"id":666}', '{"id":3}']);
      await ch.assertExchange('dlx', 'fanout', { durable: true });
      const dlq = await queue('classic');
      await ch.bindQueue(dlq, 'dlx', '');
      const spout = new RabbitMqSpout({ ...FAST, url: url(), queue: q, scheme: jsonScheme(['id']), maxRetries: 1, deadLetterExchange: 'dlx' });
      const d = new SpoutDriver(spout, { 'topology.max.spout.pending': 10 }, (e) => (e.values[0] === 666 ? 'fail' : 'ack')).start();
      try {
        await until('two dead letters', () => d.deadLetters.length === 2);
        expect(spout.counters.decodeFailed).toBe(1);
        expect(d.codes()).toEqual(expect.arrayContaining(['ERR_CONNECTOR_DECODE', 'ERR_CONNECTOR_DEAD_LETTER']));
        expect(d.emitted.map((e) => e.values[0]).filter((v) => v !== 666)).toEqual([1, 2, 3]);
        await until('both in the dead-letter queue', async () => (await counts(dlq)).messageCount === 2);
        const got = await ch.get(dlq, { noAck: true });
        expect(got && got.properties.headers?.['x-squall-error']).toMatch(/cannot decode/);
        await until('source queue drained', async () => (await counts(q)).messageCount === 0);
      } finally {
        await d.stop();
      }
    });

    // A clean shutdown, not kill -9: after a kill -9, this single-node RabbitMQ 3.10 never brings
    // the quorum queue back (declaring it hangs ~65 s, then 541 INTERNAL_ERROR, for minutes; a
    // classic queue and a clean restart are fine) — the broker's recovery, not the connectors'.
    it('rides out the broker stopped and restarted mid-run: outage reported, reconnect, nothing acked lost, nothing un-acked dropped; the sink retries through it', async () => {
      const q = await queue('quorum', Array.from({ length: 100 }, (_, i) => `a${i}`));
      const out = await queue('quorum');
      let held = 0;
      // hold a few across the outage: their tags die with the connection, so the broker redelivers them
      const d = new SpoutDriver(new RabbitMqSpout({ ...FAST, url: url(), queue: q, queueType: 'quorum', scheme: stringScheme() }), { 'topology.max.spout.pending': 50 }, () =>
        held++ < 10 ? 'hold' : 'ack',
      ).start();
      const sink = new RabbitMqSinkBolt({ url: url(), routingKey: out, batchSize: 20, flushIntervalMs: 5, reconnectBackoff: { initialMs: 50, maxMs: 500 }, writeAttempts: 100 });
      const collector = new RecordingBoltCollector();
      sink.prepare({}, fakeContext(0, 1, 'sink'), collector);
      const fields = ['id'];
      try {
        await until('the first 100', () => tally(d.texts()).distinct.size === 100);
        for (let i = 0; i < 40; i++) void sink.execute(tuple([i], fields));
        await within('the first 40 written', sink.drained(), 15_000);
        expect(collector.acked).toHaveLength(40);
        await server.shutdown();
        await until('the outage reported', () => d.codes().includes('ERR_CONNECTOR_CONNECT'), 20_000);
        for (let i = 40; i < 60; i++) void sink.execute(tuple([i], fields));
        const written = sink.drained();
        await until('the write failure reported', () => collector.errors.length > 0, 20_000);
        await server.restart();
        await within('the test client reconnected', reconnectAdmin(), 15_000);
        await within('the 20 written into the outage', written, 60_000);
        expect(collector.acked).toHaveLength(60);
        expect(collector.failed).toHaveLength(0);
        await within('100 more sent', send(q, Array.from({ length: 100 }, (_, i) => `b${i}`)), 15_000);
        d.settleHeld('ack');
        await until('all 200 processed', () => (d.settleHeld('ack'), tally(d.texts()).distinct.size === 200), 60_000);
        await until('the source queue drained', async () => {
          const c = await counts(q);
          return c.messageCount === 0 ? c : false;
        }, 30_000);
        await until('60 in the sink queue', async () => (await counts(out)).messageCount === 60);
        await within('the spout closed', d.stop(), 15_000);
        await within('the sink closed', Promise.resolve(sink.cleanup()), 15_000);
      } catch (err) {
        // what each side went through, so a failure here says where it stopped
        const state = `spout: ${d.codes().join(',')} ${JSON.stringify(d.spout.counters)}; sink: ${collector.codes().join(',')} ${JSON.stringify(sink.counters)}, ${collector.acked.length} acked`;
        throw new Error(`${err instanceof Error ? err.message : String(err)} [${state}]`, { cause: err });
      } finally {
        // after a failure above: close without hiding it (a close that hangs is reported above)
        void d.stop();
        void sink.cleanup();
      }
    }, 300_000); // a backstop above the bounded waits (the broker's restart alone may take two minutes)

    it('wrong credentials and an unreachable broker at start: coded errors, retried with backoff, no throw', async () => {
      const bad = new SpoutDriver(new RabbitMqSpout({ ...FAST, url: url().replace('guest:guest', 'guest:wrong'), queue: 'x' }), {}).start();
      const away = new SpoutDriver(new RabbitMqSpout({ ...FAST, url: 'amqp://guest:guest@127.0.0.1:1', queue: 'x' }), {}).start();
      try {
        await until('the auth error reported twice', () => bad.codes().filter((c) => c === 'ERR_CONNECTOR_AUTH').length >= 2, 30_000);
        await until('the connect error reported twice', () => away.codes().filter((c) => c === 'ERR_CONNECTOR_CONNECT').length >= 2);
        expect(String((bad.collector.errors[0] as Error).stack)).not.toContain('guest:wrong');
      } finally {
        await bad.stop();
        await away.stop();
      }
    });

    it('stream queues: offsets from x-stream-offset, exactly-once replay by seek()', async () => {
      const s1 = await queue('stream', Array.from({ length: 10 }, (_, i) => `a${i}`));
      const s2 = await queue('stream', Array.from({ length: 10 }, (_, i) => `b${i}`));
      const spout = new RabbitMqSpout({ ...FAST, url: url(), queue: [s1, s2], queueType: 'stream', guarantee: 'exactly-once', scheme: stringScheme() });
      const d = new SpoutDriver(spout, { 'topology.max.spout.pending': 100 }).start();
      try {
        await until('20 read', () => d.emitted.length === 20);
        expect(spout.offsets()).toEqual({ [s1]: 9, [s2]: 9 });
        spout.seek({ [s1]: 6, [s2]: 8 });
        await until('the replay', () => d.emitted.length === 24);
        expect(d.texts().slice(20).sort()).toEqual(['a7', 'a8', 'a9', 'b9']);
        // task 1 of 2 reads the second stream only
        const other = new SpoutDriver(new RabbitMqSpout({ ...FAST, url: url(), queue: [s1, s2], queueType: 'stream', guarantee: 'exactly-once', scheme: stringScheme() }), {}, () => 'ack', 1, 2).start();
        await until('task 1 read its stream', () => other.emitted.length === 10);
        expect(new Set(other.texts().map((t) => t[0]))).toEqual(new Set(['b']));
        await other.stop();
      } finally {
        await d.stop();
      }
    });

    it('stream queues, at-least-once: the contiguous acked prefix is stored and a restarted task resumes after it', async () => {
      const s = await queue('stream', Array.from({ length: 30 }, (_, i) => `m${i}`));
      const opts = { ...FAST, url: url(), queue: s, queueType: 'stream' as const, consumerName: 'app', offsetCommitMs: 20, scheme: stringScheme() };
      // ack everything but m12: the committed prefix ends at offset 11
      const one = new SpoutDriver(new RabbitMqSpout(opts), { 'topology.max.spout.pending': 100 }, (e) => (textOf(e.values[0]) === 'm12' ? 'hold' : 'ack')).start();
      await until('30 read', () => one.emitted.length === 30);
      await until('offset 11 stored', async () => {
        const m = await ch.get(offsetStoreQueue(s, 'app'), { noAck: false });
        if (m === false) return false;
        ch.nack(m, false, true);
        return JSON.parse(m.content.toString()).offset === 11;
      });
      await one.stop();
      await send(s, ['m30']);
      const two = new SpoutDriver(new RabbitMqSpout(opts), { 'topology.max.spout.pending': 100 }).start();
      try {
        await until('resumed after the committed prefix', () => two.emitted.length === 19);
        expect(two.texts()).toEqual(Array.from({ length: 19 }, (_, i) => `m${i + 12}`));
      } finally {
        await two.stop();
      }
    });
  });
}
