/**
 * RabbitMQ connector benchmarks (run by bench/connectors/harness.ts), on a throwaway
 * rabbitmq-server 3.10 (one boot per scenario, 7–20 s), classic durable queues:
 *
 * - `connectors/rabbitmq-spout`: RabbitMqSpout on a classic queue (basic.qos = the task's in-flight
 *   limit plus its prefetch buffer, basic.ack when the tree completes) → null bolt, from a
 *   pre-filled backlog; raw: `basic.consume` of a second queue filled with the same messages
 *   (one fanout publish fills both), the same prefetch, a `basic.ack` per delivery as it arrives.
 *   A classic queue rather than a quorum one: the connector's common case, and no Raft log write
 *   per message to dominate both figures. The backlog is transient messages (see FILL_MS).
 * - `connectors/rabbitmq-sink`: numbered spout → RabbitMqSinkBolt (publisher confirms, batches of
 *   500, inputs acked on the confirms); raw: 500 publishes on a confirm channel, then
 *   `waitForConfirms`, in a loop.
 *
 * Both sides send the same payload (the sink publishes the tuple's payload field alone).
 */
import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { stringScheme } from '../../connectors/core';
import { RabbitMqSinkBolt, RabbitMqSpout } from '../../connectors/rabbitmq';
import type { RabbitMqServer } from '../servers/rabbitmq';
import { BROKER_WINDOW, PAYLOAD, payloadOf, rawRanOut, sinkTopology, spoutTopology, type BenchSession } from './harness';

/**
 * The backlog is what the broker takes in this long, not a fixed count: it hands messages out at
 * about the rate it takes them in, so the margin holds on a faster machine too (here 12 s of
 * filling lasted the spout's 7 s 1.3 times over). Transient: the broker took persistent ones
 * into two queues at ~20k/s here (400k: 25 s, most of the scenario's time budget), transient ones
 * at ~48k/s, while the spout read 45k/s (persistent) to 61k/s (transient).
 */
const FILL_MS = 15_000;
const BATCH = 500;
/** Publishes in flight at once while filling. */
const FILL_BATCH = 5000;
const CONTENT = Buffer.from(PAYLOAD);

export async function rabbitmqSpout(server: RabbitMqServer): Promise<BenchSession> {
  const conn = await open(server.url);
  let backlog: number;
  try {
    const ch = await conn.createConfirmChannel();
    await ch.assertExchange('fill', 'fanout', { durable: false });
    for (const q of ['spout', 'raw']) {
      await ch.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'classic' } });
      await ch.bindQueue(q, 'fill', '');
    }
    const t0 = performance.now();
    backlog = await publishBatches(ch, 'fill', '', FILL_BATCH, false, () => performance.now() - t0 < FILL_MS);
    await ch.close();
  } catch (err) {
    await conn.close().catch(() => undefined);
    throw err;
  }
  return {
    topology: spoutTopology(() => new RabbitMqSpout({ url: server.url, queue: 'spout', queueType: 'classic', scheme: stringScheme() })),
    backlog,
    raw: (ms) => rawConsume(conn, 'raw', backlog, ms),
    close: () => conn.close(),
  };
}

export async function rabbitmqSink(server: RabbitMqServer): Promise<BenchSession> {
  const conn = await open(server.url);
  let ch: ConfirmChannel;
  try {
    ch = await conn.createConfirmChannel();
    // bounded as the Redis sink's stream is (MAXLEN): the oldest go
    for (const q of ['sink', 'raw']) await ch.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'classic', 'x-max-length': 1_000_000 } });
  } catch (err) {
    await conn.close().catch(() => undefined);
    throw err;
  }
  return {
    topology: sinkTopology(() => new RabbitMqSinkBolt({ url: server.url, routingKey: 'sink', toMessage: (t) => ({ content: payloadOf(t) }), batchSize: BATCH })),
    raw: async (ms) => {
      const t0 = performance.now();
      const n = await publishBatches(ch, '', 'raw', BATCH, true, () => performance.now() - t0 < ms);
      return (n / (performance.now() - t0)) * 1000;
    },
    close: () => conn.close(),
  };
}

async function open(url: string): Promise<ChannelModel> {
  const conn = await connect(url);
  conn.on('error', () => undefined);
  return conn;
}

/**
 * Publishes of PAYLOAD, `batch` at a time (waiting for `drain` when the socket buffer is full)
 * followed by `waitForConfirms`, while `more(published)`: how many were published.
 */
async function publishBatches(ch: ConfirmChannel, exchange: string, routingKey: string, batch: number, persistent: boolean, more: (published: number) => boolean): Promise<number> {
  let n = 0;
  while (more(n)) {
    for (let i = 0; i < batch; i++) {
      if (!ch.publish(exchange, routingKey, CONTENT, { persistent })) await new Promise<void>((resolve) => ch.once('drain', resolve));
    }
    await ch.waitForConfirms();
    n += batch;
  }
  return n;
}

/** `basic.consume` of `queue` with the spout's prefetch, a `basic.ack` per delivery: deliveries/s over `ms`. */
async function rawConsume(conn: ChannelModel, queue: string, backlog: number, ms: number): Promise<number> {
  const ch = await conn.createChannel();
  await ch.prefetch(BROKER_WINDOW);
  let n = 0;
  let t0 = 0;
  let ranOut = false;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    t0 = performance.now();
    ch.consume(queue, (m) => {
      if (m === null) return;
      ch.ack(m);
      if (++n === backlog) {
        ranOut = true;
        clearTimeout(timer);
        resolve();
      }
    }).catch((err: unknown) => {
      clearTimeout(timer);
      reject(err instanceof Error ? err : new Error(String(err)));
    });
  });
  const perSec = (n / (performance.now() - t0)) * 1000;
  await ch.close();
  if (ranOut) throw rawRanOut(backlog);
  return perSec;
}
