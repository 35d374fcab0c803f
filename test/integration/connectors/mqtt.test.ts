/**
 * The MQTT connectors against a real mosquitto 2.0 (Debian's; bench/servers), one broker per file:
 * every mqtt.js behaviour the connectors rely on is exercised on that broker here, in particular
 * the deferred PUBACK (mqtt.js's handleMessage hook called back with an error skips its own PUBACK).
 *
 * Spout: QoS 1 in a persistent session, PUBACK only when the tree completes, a held message
 * re-sent by the broker to the same client id after a reconnect, failures retried from the spout,
 * undecodable messages dead-lettered to a topic, the broker killed and restarted mid-run, wrong
 * credentials and an unreachable broker at start. Sink: QoS 1 publishes acked after PUBACK.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { mosquittoAvailable, startMosquitto, type MosquittoServer } from '../../../bench/servers/mosquitto';
import { jsonScheme, MqttSinkBolt, MqttSpout, stringScheme } from '../../../connectors/mqtt';
import { RecordingBoltCollector, fakeContext, tuple } from '../../unit/connectors/helpers';
import { SpoutDriver, sleep, tally, textOf, until } from './broker-driver';

jest.setTimeout(60_000);

const FAST = { reconnectBackoff: { initialMs: 50, maxMs: 500 }, retryBackoff: { initialMs: 10, maxMs: 100 }, pollWaitMs: 100 };
const AUTH = { username: 'squall', password: 'secret' };

if (!mosquittoAvailable()) {
  test('mosquitto is installed', () => {
    throw new Error('mosquitto is missing: run scripts/ensure-packages.sh');
  });
} else {
  describe('MQTT connectors', () => {
    let server: MosquittoServer;
    let n = 0;

    const client = (id: string): Promise<MqttClient> => connectAsync(server.url, { ...AUTH, clientId: id, reconnectPeriod: 0 });
    const publish = async (topic: string, bodies: string[]): Promise<void> => {
      const c = await client(`pub-${++n}`);
      for (const b of bodies) await c.publishAsync(topic, b, { qos: 1 });
      await c.endAsync();
    };
    /** Subscribes a spout's session without consuming (messages published next are queued for it). */
    const spoutOpts = (topic: string, prefix: string) => ({ ...FAST, ...AUTH, url: server.url, topics: topic, clientIdPrefix: prefix, scheme: stringScheme() });

    /** Mosquitto writes its sessions to disk every second (autosave_interval 1): waits for a save after now. */
    const saved = async (): Promise<void> => {
      const since = Date.now();
      const db = path.join(server.dir, 'mosquitto.db');
      await until('mosquitto saved its sessions', () => fs.existsSync(db) && fs.statSync(db).mtimeMs > since + 1, 10_000, 50);
    };

    beforeAll(async () => {
      server = await startMosquitto(AUTH);
    });

    afterAll(async () => {
      await server?.stop();
    });

    it('QoS 1 in a persistent session: PUBACK only when the tree completes; a held message comes back to the same client id', async () => {
      const topic = `t${++n}/a`;
      const opts = spoutOpts(`t${n}/#`, `held${n}`);
      const one = new SpoutDriver(new MqttSpout(opts), { 'topology.max.spout.pending': 100 }, (e) => (textOf(e.values[0]) === 'm3' ? 'hold' : 'ack')).start();
      await until('subscribed', () => one.spout.counters.connects === 1);
      await sleep(100);
      await publish(topic, Array.from({ length: 10 }, (_, i) => `m${i}`));
      await until('10 received', () => one.emitted.length === 10);
      // the task goes away with m3 un-acked (as a worker that is killed): the session keeps it
      await one.stop();
      await publish(topic, ['m10', 'm11']);
      const two = new SpoutDriver(new MqttSpout(opts), { 'topology.max.spout.pending': 100 }).start();
      try {
        await until('m3 re-sent with the queued ones', () => tally(two.texts()).distinct.size === 3);
        expect(two.texts().sort()).toEqual(['m10', 'm11', 'm3']);
        // everything acked now: a third session start gets nothing
        await sleep(300);
      } finally {
        await two.stop();
      }
      const three = new SpoutDriver(new MqttSpout(opts), {}).start();
      await until('connected', () => three.spout.counters.connects === 1);
      await sleep(300);
      expect(three.emitted).toHaveLength(0);
      await three.stop();
    });

    it('stops reading at its in-flight limit (receive maximum and a full inbox), then goes on as tuples complete', async () => {
      const topic = `t${++n}/a`;
      const d = new SpoutDriver(new MqttSpout({ ...spoutOpts(topic, `lim${n}`), maxPending: 20, prefetch: 5 }), { 'topology.max.spout.pending': 20 }, () => 'hold').start();
      try {
        await until('subscribed', () => d.spout.counters.connects === 1);
        await publish(topic, Array.from({ length: 100 }, (_, i) => `m${i}`));
        await until('20 in flight', () => d.pending.size === 20);
        await sleep(200);
        expect(d.emitted).toHaveLength(20);
        expect(d.spout.heldCount()).toBeLessThanOrEqual(25);
        await until('all 100', () => (d.settleHeld('ack'), tally(d.texts()).distinct.size === 100));
        expect(tally(d.texts()).duplicates).toBe(0);
      } finally {
        await d.stop();
      }
    });

    it('retries failures from the spout and dead-letters undecodable messages to a topic', async () => {
      const topic = `t${++n}/a`;
      const dlq = await client(`dlq-${n}`);
      const dead: string[] = [];
      await dlq.subscribeAsync(`dead${n}`, { qos: 1 });
      dlq.on('message', (_t, p) => dead.push(p.toString()));
      let failed = false;
      const d = new SpoutDriver(new MqttSpout({ ...spoutOpts(topic, `dl${n}`), scheme: jsonScheme(['id']), deadLetterTopic: `dead${n}` }), { 'topology.max.spout.pending': 10 }, (e) => {
        if (e.values[0] === 2 && !failed) {
          failed = true;
          return 'fail';
        }
        return 'ack';
      }).start();
      try {
        await until('subscribed', () => d.spout.counters.connects === 1);
        await publish(topic, ['{"id":1}', 'garbage', '{"id":2}', '{"id":3}']);
        await until('1, 2 (twice) and 3', () => d.emitted.length === 4);
        expect(d.emitted.map((e) => e.values[0]).sort()).toEqual([1, 2, 2, 3]);
        await until('dead letter published', () => dead.length === 1);
        expect(dead[0]).toBe('garbage');
        expect(d.spout.counters.decodeFailed).toBe(1);
        expect(d.codes()).toContain('ERR_CONNECTOR_DECODE');
      } finally {
        await d.stop();
        await dlq.endAsync();
      }
    });

    it('rides out the broker killed and restarted mid-run: coded error, reconnect, the session resumed', async () => {
      const topic = `t${++n}/a`;
      const d = new SpoutDriver(new MqttSpout(spoutOpts(topic, `kill${n}`)), { 'topology.max.spout.pending': 100 }).start();
      try {
        await until('subscribed', () => d.spout.counters.connects === 1);
        await saved();
        await publish(topic, Array.from({ length: 20 }, (_, i) => `a${i}`));
        await until('the first 20', () => d.emitted.length >= 20);
        await server.kill9();
        await until('the outage reported', () => d.codes().includes('ERR_CONNECTOR_CONNECT'));
        await server.restart();
        await until('reconnected', () => d.spout.counters.connects >= 2, 20_000);
        await publish(topic, Array.from({ length: 20 }, (_, i) => `b${i}`));
        await until('all 40', () => tally(d.texts()).distinct.size === 40);
      } finally {
        await d.stop();
      }
    });

    it('sink: QoS 1 publishes in batches, each input acked after its PUBACK', async () => {
      const topic = `t${++n}/out`;
      const reader = await client(`reader-${n}`);
      const got: string[] = [];
      await reader.subscribeAsync(topic, { qos: 1 });
      reader.on('message', (_t, p) => got.push(p.toString()));
      const sink = new MqttSinkBolt({ ...AUTH, url: server.url, topic, batchSize: 25, flushIntervalMs: 5 });
      const collector = new RecordingBoltCollector();
      sink.prepare({ 'topology.name': 'conn-test' }, fakeContext(0, 1, 'sink'), collector);
      try {
        for (let i = 0; i < 100; i++) void sink.execute(tuple([i], ['id']));
        await sink.drained();
        expect(collector.acked).toHaveLength(100);
        await until('100 delivered', () => got.length === 100);
        expect(JSON.parse(got[0])).toEqual({ id: 0 });
      } finally {
        await sink.cleanup();
        await reader.endAsync();
      }
    });
  });
}
