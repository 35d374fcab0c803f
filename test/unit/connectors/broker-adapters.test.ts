/**
 * The NATS, RabbitMQ and MQTT connectors without a server: options refused at construction (every
 * problem listed, ERR_CONNECTOR_CONFIG) and the client libraries' errors mapped to the connector
 * codes. Their behaviour against the real servers is in test/integration/connectors/.
 */
import { classifyAmqpError, redact } from '../../../connectors/rabbitmq/connection';
import { classifyMqttError } from '../../../connectors/mqtt/connection';
import { classifyNatsError } from '../../../connectors/nats/connection';
import { JetStreamSinkBolt, JetStreamSpout } from '../../../connectors/nats';
import { MqttSinkBolt, MqttSpout } from '../../../connectors/mqtt';
import { RabbitMqSinkBolt, RabbitMqSpout } from '../../../connectors/rabbitmq';

function problemsOf(make: () => unknown): string[] {
  try {
    make();
  } catch (err) {
    expect((err as { code?: string }).code).toBe('ERR_CONNECTOR_CONFIG');
    return [...((err as { problems: string[] }).problems ?? [])];
  }
  return [];
}

describe('connector options are checked at construction', () => {
  it('JetStream spout and sink', () => {
    expect(problemsOf(() => new JetStreamSpout({ servers: 'nats://127.0.0.1:4222', stream: 'S', consumer: 'c' }))).toEqual([]);
    expect(problemsOf(() => new JetStreamSpout({ servers: 'nats://x', stream: 'S', guarantee: 'exactly-once', partitions: ['a', 'b'] }))).toEqual([]);
    const p = problemsOf(() => new JetStreamSpout({ servers: [], stream: '', user: 'u', token: 't', ackWaitMs: 10, deliverPolicy: 'last' as never, partitions: [] }));
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringContaining('"servers"'),
        expect.stringContaining('"stream"'),
        expect.stringContaining('not both'),
        expect.stringContaining('"ackWaitMs"'),
        expect.stringContaining('"deliverPolicy"'),
        expect.stringContaining('"partitions"'),
      ]),
    );
    expect(problemsOf(() => new JetStreamSpout({ servers: 'nats://x', stream: 'S', guarantee: 'at-least-once' }))).toEqual([expect.stringContaining('"consumer"')]);
    expect(problemsOf(() => new JetStreamSinkBolt({ servers: 'nats://x' }))).toEqual([expect.stringContaining('"subject"')]);
  });

  it('RabbitMQ spout and sink', () => {
    const url = 'amqp://guest:guest@127.0.0.1:5672';
    expect(problemsOf(() => new RabbitMqSpout({ url, queue: 'q' }))).toEqual([]);
    expect(problemsOf(() => new RabbitMqSpout({ url, queue: ['a', 'b'], queueType: 'stream', guarantee: 'exactly-once', startOffset: 42 }))).toEqual([]);
    expect(problemsOf(() => new RabbitMqSpout({ url, queue: ['a', 'b'] }))).toEqual([expect.stringContaining('streams only')]);
    expect(problemsOf(() => new RabbitMqSpout({ url, queue: 'q', guarantee: 'exactly-once' }))).toEqual([expect.stringContaining('stream queue')]);
    expect(problemsOf(() => new RabbitMqSpout({ url, queue: 'q', queueType: 'classic', retryAt: 'broker' }))).toEqual([expect.stringContaining('quorum')]);
    expect(problemsOf(() => new RabbitMqSpout({ url: 'http://x', queue: '', queueType: 'fifo' as never, startOffset: -1 }))).toHaveLength(4);
    expect(problemsOf(() => new RabbitMqSinkBolt({ url }))).toEqual([expect.stringContaining('"routingKey"')]);
  });

  it('MQTT spout and sink', () => {
    expect(problemsOf(() => new MqttSpout({ url: 'mqtt://127.0.0.1:1883', topics: ['a/#', '$share/g/b'] }))).toEqual([]);
    expect(problemsOf(() => new MqttSpout({ url: 'mqtt://x', topics: 'a', guarantee: 'exactly-once' }))).toEqual([expect.stringContaining('cannot replay')]);
    expect(problemsOf(() => new MqttSpout({ url: 'nats://x', topics: [], protocolVersion: 3 as never }))).toHaveLength(3);
    expect(problemsOf(() => new MqttSinkBolt({ url: 'mqtt://x' }))).toEqual([expect.stringContaining('"topic"')]);
  });
});

describe('client errors map to the connector codes', () => {
  const code = (e: { code: string }): string => e.code;

  it('nats', () => {
    expect(code(classifyNatsError({ code: 'AUTHORIZATION_VIOLATION', message: 'Authorization Violation' }, 'connect', 'x'))).toBe('ERR_CONNECTOR_AUTH');
    expect(code(classifyNatsError({ code: 'CONNECTION_REFUSED', message: 'CONNECTION_REFUSED' }, 'connect', 'x'))).toBe('ERR_CONNECTOR_CONNECT');
    expect(code(classifyNatsError({ code: 'DISCONNECT', message: 'disconnected' }, 'poll', 'x'))).toBe('ERR_CONNECTOR_CONNECT');
    expect(code(classifyNatsError({ code: 'TIMEOUT', message: 'TIMEOUT' }, 'write', 'x'))).toBe('ERR_CONNECTOR_IO');
  });

  it('amqplib (refusals carry the AMQP reply code only in the message)', () => {
    const refused = new Error('Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login was refused"');
    expect(code(classifyAmqpError(refused, 'connect', 'x'))).toBe('ERR_CONNECTOR_AUTH');
    expect(code(classifyAmqpError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'connect', 'x'))).toBe('ERR_CONNECTOR_CONNECT');
    expect(code(classifyAmqpError(new Error('Connection closed: 320 (CONNECTION-FORCED) with message "shutdown"'), 'poll', 'x'))).toBe('ERR_CONNECTOR_CONNECT');
    expect(code(classifyAmqpError(new Error('Channel closed by server: 404 (NOT-FOUND) with message "NOT_FOUND - no queue"'), 'poll', 'x'))).toBe('ERR_CONNECTOR_IO');
    expect(redact('amqp://guest:secret@host:5672/vh')).toBe('amqp://guest:***@host:5672/vh');
  });

  it('mqtt.js (CONNACK refusals as numeric codes)', () => {
    expect(code(classifyMqttError(Object.assign(new Error('Connection refused: Not authorized'), { code: 5 }), 'connect', 'x'))).toBe('ERR_CONNECTOR_AUTH');
    expect(code(classifyMqttError(Object.assign(new Error('Connection refused: Not authorized'), { code: 135 }), 'connect', 'x'))).toBe('ERR_CONNECTOR_AUTH');
    expect(code(classifyMqttError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'connect', 'x'))).toBe('ERR_CONNECTOR_CONNECT');
    expect(code(classifyMqttError(new Error('something odd'), 'deadLetter', 'x'))).toBe('ERR_CONNECTOR_IO');
  });
});
