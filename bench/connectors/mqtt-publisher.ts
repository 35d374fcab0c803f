/**
 * The MQTT spout benchmark's publisher (bench/connectors/mqtt.ts forks it): publishes the payload
 * at QoS 1 to topic argv[3] on the broker at argv[2], tells the parent once connected, and goes on
 * until it is sent SIGTERM or its parent goes away.
 *
 * It keeps WINDOW publishes in flight, a new one per PUBACK, rather than batches awaited whole:
 * against the test mosquitto (Nagle on, its default `set_tcp_nodelay false`) a batch's last
 * PUBACKs wait for our delayed TCP ACK, so batches of 500 went at 10k/s and this window at 62k/s
 * (77k/s either way with TCP_NODELAY): the offer must exceed what a reader takes.
 */
import type { MqttClient } from 'mqtt';
import { PAYLOAD } from './harness';
import { mqttClient } from './mqtt';

const WINDOW = 1000;
const [url, topic] = process.argv.slice(2);
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));

function fail(err: unknown): void {
  process.stderr.write(`mqtt-publisher: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

function publishForever(client: MqttClient): void {
  const next = (err?: Error): void => {
    if (err) fail(err);
    else client.publish(topic, PAYLOAD, { qos: 1 }, next);
  };
  for (let i = 0; i < WINDOW; i++) client.publish(topic, PAYLOAD, { qos: 1 }, next);
}

mqttClient(url, { clientId: `bench-publisher-${process.pid}`, clean: true }).then((client) => {
  process.send!('publishing');
  publishForever(client);
}, fail);
