/**
 * MQTT connector benchmarks (run by bench/connectors/harness.ts), on a throwaway mosquitto 2.0,
 * MQTT 5, QoS 1 throughout:
 *
 * - `connectors/mqtt-spout`: MqttSpout (a persistent session, receive maximum = the task's
 *   in-flight limit plus its prefetch buffer, PUBACK when the tree completes) → null bolt; raw: an
 *   mqtt.js client with the same session settings, subscribed at QoS 1, whose own PUBACK goes out
 *   as each message arrives, counted for RAW_MS from its first message.
 *   Nothing is pre-filled: mosquitto queues at most `max_queued_messages` (1000 by default, which
 *   the test server keeps) for a session, so a publisher runs while each side reads — a child
 *   process (mqtt-publisher.ts), so that its work is neither in the topology's event loop nor in
 *   its CPU figure. It keeps 1000 QoS 1 publishes in flight, one topic for the spout, then a
 *   fresh one for the raw loop. What the broker cannot queue for a slow reader it drops: both
 *   sides read the same offer.
 * - `connectors/mqtt-sink`: numbered spout → MqttSinkBolt (batches of 500, inputs acked on the
 *   PUBACKs); raw: 500 QoS 1 publishes, then wait for their PUBACKs, in a loop. Nobody subscribes:
 *   the broker acknowledges and drops, so both measure the QoS 1 publish handshake. Both are held
 *   to ~10k/s by the test mosquitto's Nagle (`set_tcp_nodelay` off, its default): the last PUBACKs
 *   of each batch wait ~40 ms for the client's delayed TCP ACK (measured: batches of 500 at 10k/s,
 *   77k/s with TCP_NODELAY on the broker).
 *
 * Both sides send the same payload (the sink publishes the tuple's payload field alone).
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { stringScheme } from '../../connectors/core';
import { MqttSinkBolt, MqttSpout } from '../../connectors/mqtt';
import type { MosquittoServer } from '../servers/mosquitto';
import { BROKER_WINDOW, PAYLOAD, payloadOf, sinkTopology, spoutTopology, type BenchSession } from './harness';

const BATCH = 500;
/** Bound on the publisher's start and on the raw subscriber's wait for a first message. */
const START_TIMEOUT_MS = 10_000;

export async function mqttSpout(server: MosquittoServer): Promise<BenchSession> {
  let publisher = await Publisher.start(server.url, 'bench/spout');
  return {
    topology: spoutTopology(() => new MqttSpout({ url: server.url, topics: 'bench/spout', clientIdPrefix: 'bench-spout', scheme: stringScheme() })),
    raw: async (ms) => {
      await publisher.stop();
      const client = await mqttClient(server.url, { clientId: 'bench-raw', clean: false, properties: { sessionExpiryInterval: 3600, receiveMaximum: BROKER_WINDOW } });
      try {
        await client.subscribeAsync('bench/raw', { qos: 1 });
        const first = firstMessage(client);
        publisher = await Publisher.start(server.url, 'bench/raw');
        return await countFor(client, await first, ms);
      } finally {
        await client.endAsync();
      }
    },
    close: () => publisher.stop(),
    helperPids: () => [publisher.pid],
  };
}

export async function mqttSink(server: MosquittoServer): Promise<BenchSession> {
  const client = await mqttClient(server.url, { clientId: 'bench-raw-pub', clean: true });
  return {
    topology: sinkTopology(() => new MqttSinkBolt({ url: server.url, topic: 'bench/sink', clientIdPrefix: 'bench-sink', toMessage: (t) => ({ payload: payloadOf(t) }), batchSize: BATCH })),
    raw: (ms) => publishFor(client, 'bench/raw', ms),
    close: () => client.endAsync(),
  };
}

export function mqttClient(url: string, options: IClientOptions): Promise<MqttClient> {
  return connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: START_TIMEOUT_MS, ...options });
}

/** QoS 1 publishes of PAYLOAD, BATCH at a time awaiting all their PUBACKs, for `ms`: messages/s. */
export async function publishFor(client: MqttClient, topic: string, ms: number): Promise<number> {
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    await new Promise<void>((resolve, reject) => {
      let left = BATCH;
      const done = (err?: Error): void => {
        if (err) reject(err);
        else if (--left === 0) resolve();
      };
      for (let i = 0; i < BATCH; i++) client.publish(topic, PAYLOAD, { qos: 1 }, done);
    });
    n += BATCH;
  }
  return (n / (performance.now() - t0)) * 1000;
}

/** When the client's first message arrives (bounded). */
function firstMessage(client: MqttClient): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message on the raw subscription within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    client.once('message', () => {
      clearTimeout(timer);
      resolve(performance.now());
    });
  });
}

/** Messages the client receives in `ms` from `t0` (its first): messages/s. */
async function countFor(client: MqttClient, t0: number, ms: number): Promise<number> {
  let n = 1;
  const count = (): void => {
    n++;
  };
  client.on('message', count);
  await new Promise((resolve) => setTimeout(resolve, t0 + ms - performance.now()));
  client.off('message', count);
  return (n / (performance.now() - t0)) * 1000;
}

/** The publisher child process (mqtt-publisher.ts), stopped by its PID. */
class Publisher {
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** Resolves once the child is connected and publishing. */
  static async start(url: string, topic: string): Promise<Publisher> {
    const child = fork(path.join(__dirname, 'mqtt-publisher.js'), [url, topic], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const p = new Publisher(child);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the MQTT publisher did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
        child.once('message', () => {
          clearTimeout(timer);
          resolve();
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`the MQTT publisher exited with ${code}`));
        });
      });
    } catch (err) {
      await p.stop();
      throw err;
    }
    return p;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** SIGTERM, then waits for the exit; idempotent. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      try {
        process.kill(this.child.pid!, 'SIGTERM');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err; // gone meanwhile
      }
    }
    await this.exited;
  }
}
