/**
 * NATS JetStream connector benchmarks (run by bench/connectors/harness.ts), on a throwaway
 * `nats-server -js` (file storage):
 *
 * - `connectors/nats-spout`: JetStreamSpout (a durable pull consumer, explicit acks sent when the
 *   tree completes) → null bolt, from a stream pre-filled with BACKLOG messages; raw: a second
 *   durable pull consumer on the same stream, `consume()`d FEED at a time (the spout's feed size)
 *   with an `ack()` of every message, those of one event-loop turn sent together.
 * - `connectors/nats-sink`: numbered spout → JetStreamSinkBolt (batches of 500 published at once,
 *   inputs acked on the PubAcks); raw: `js.publish` of 500 at a time, awaiting all 500 PubAcks.
 *
 * Both sides send the same payload string (the sink writes the tuple's payload field alone).
 */
import { AckPolicy, connect, type JsMsg, type NatsConnection } from 'nats';
import { stringScheme } from '../../connectors/core';
import { JetStreamSinkBolt, JetStreamSpout } from '../../connectors/nats';
import type { NatsServer } from '../servers/nats';
import { BROKER_WINDOW, PAYLOAD, payloadOf, rawRanOut, sinkTopology, spoutTopology, type BenchSession } from './harness';

/**
 * The spout acked 1.0–1.06M by its last window here (140–155k/s, a busy machine): room for a
 * machine more than twice as fast. Filled in about 6 s.
 */
const BACKLOG = 2_500_000;
/** Messages one pull request of the spout asks for ahead (connectors/nats/spout.ts DEFAULT_FEED). */
const FEED = 256;
const BATCH = 500;

export async function natsSpout(server: NatsServer): Promise<BenchSession> {
  const nc = await connect({ servers: server.url, noEcho: true });
  try {
    await (await nc.jetstreamManager()).streams.add({ name: 'SPOUT', subjects: ['spout.>'] });
    await fill(nc, 'SPOUT', 'spout.bench');
  } catch (err) {
    await nc.close();
    throw err;
  }
  return {
    topology: spoutTopology(() => new JetStreamSpout({ servers: server.url, stream: 'SPOUT', consumer: 'bench', scheme: stringScheme() })),
    backlog: BACKLOG,
    raw: (ms) => rawConsume(nc, 'SPOUT', ms),
    close: () => nc.close(),
  };
}

export async function natsSink(server: NatsServer): Promise<BenchSession> {
  const nc = await connect({ servers: server.url, noEcho: true });
  // bounded as the Redis sink's stream is (MAXLEN): the oldest go
  await (await nc.jetstreamManager()).streams.add({ name: 'SINK', subjects: ['sink.>'], max_msgs: 1_000_000 }).catch(async (err: unknown) => {
    await nc.close();
    throw err;
  });
  return {
    topology: sinkTopology(() => new JetStreamSinkBolt({ servers: server.url, subject: 'sink.topology', toMessage: (t) => ({ data: payloadOf(t) }), batchSize: BATCH })),
    raw: (ms) => rawPublish(nc, 'sink.raw', ms),
    close: () => nc.close(),
  };
}

/** `js.publish` of PAYLOAD, BATCH at once awaiting all their PubAcks, for `ms`: messages/s. */
async function rawPublish(nc: NatsConnection, subject: string, ms: number): Promise<number> {
  const js = nc.jetstream();
  const acks = new Array<Promise<unknown>>(BATCH);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < BATCH; i++) acks[i] = js.publish(subject, PAYLOAD);
    await Promise.all(acks);
    n += BATCH;
  }
  return (n / (performance.now() - t0)) * 1000;
}

/**
 * BACKLOG core publishes (no PubAck each), flushed every 10,000: 1.2M took 3.6 s here, against 40 s
 * with pipelined `js.publish`; the server stored every one (checked after).
 */
async function fill(nc: NatsConnection, stream: string, subject: string): Promise<void> {
  for (let i = 1; i <= BACKLOG; i++) {
    nc.publish(subject, PAYLOAD);
    if (i % 10_000 === 0) await nc.flush();
  }
  await nc.flush();
  const stored = (await (await nc.jetstreamManager()).streams.info(stream)).state.messages;
  if (stored !== BACKLOG) throw new Error(`stream ${stream} holds ${stored} messages, not the ${BACKLOG} published`);
}

/**
 * A durable pull consumer from the start of `stream`, consumed FEED at a time, every message
 * acked: messages/s over `ms`. The acks of one event-loop turn go out together (as the spout's
 * do): `ack()` inside the `for await` wrote each one on its own and held the loop to 95k/s here,
 * against 224k/s batched per turn.
 */
async function rawConsume(nc: NatsConnection, stream: string, ms: number): Promise<number> {
  await (await nc.jetstreamManager()).consumers.add(stream, { durable_name: 'raw', ack_policy: AckPolicy.Explicit, max_ack_pending: BROKER_WINDOW });
  const msgs = await (await nc.jetstream().consumers.get(stream, 'raw')).consume({ max_messages: FEED });
  const t0 = performance.now();
  const timer = setTimeout(() => msgs.stop(), ms);
  let held: JsMsg[] = [];
  const ackHeld = (): void => {
    for (const m of held) m.ack();
    held = [];
  };
  let n = 0;
  try {
    for await (const m of msgs) {
      if (held.length === 0) setImmediate(ackHeld);
      held.push(m);
      if (++n === BACKLOG) throw rawRanOut(BACKLOG);
    }
  } finally {
    clearTimeout(timer);
    msgs.stop();
  }
  ackHeld();
  return (n / (performance.now() - t0)) * 1000;
}
