/**
 * Orders through NATS JetStream: a generator publishes orders to the ORDERS stream (JetStream sink,
 * acked after each PubAck), a JetStream spout reads them back through a durable pull consumer,
 * a bolt keeps a running total per customer (fields grouping), and a second sink publishes each
 * new total to `totals.<customer>` in the TOTALS stream. Every hop is acknowledged: kill the
 * topology or the server at any point and nothing acknowledged is lost.
 *
 * Start a server with JetStream, then run the topology (it creates the two streams if missing):
 *
 *   nats-server -js -sd /tmp/nats-data &
 *   npx squall local examples/nats-orders/topology.ts --duration 20
 *
 * `NATS_URL` picks another server (default nats://127.0.0.1:4222). Watch the totals with
 * `nats sub 'totals.>'` if you have the nats CLI. See docs/connectors/nats.md.
 */
import { connect } from 'nats';
import {
  BaseBasicBolt,
  BaseRichSpout,
  TopologyBuilder,
  type BasicOutputCollector,
  type OutputFieldsDeclarer,
  type SpoutOutputCollector,
  type Tuple,
} from 'squall';
import { JetStreamSinkBolt, JetStreamSpout, jsonScheme } from 'squall/connectors/nats';

const SERVERS = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const CUSTOMERS = ['ada', 'grace', 'alan', 'edsger', 'barbara'];

/** Emits one order every few milliseconds, each tracked until the sink stored it. */
class OrderGenerator extends BaseRichSpout {
  private collector!: SpoutOutputCollector;
  private n = 0;
  private nextAt = 0;

  open(_conf: unknown, _ctx: unknown, collector: SpoutOutputCollector): void {
    this.collector = collector;
  }

  nextTuple(): void {
    const now = Date.now();
    if (now < this.nextAt) return;
    this.nextAt = now + 5;
    const id = this.n++;
    this.collector.emit([id, CUSTOMERS[id % CUSTOMERS.length], 1 + ((id * 37) % 100)], id);
  }

  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['id', 'customer', 'amount']);
  }
}

/** Running total per customer (each task owns its customers through the fields grouping). */
class CustomerTotals extends BaseBasicBolt {
  private readonly totals = new Map<string, number>();

  execute(input: Tuple, collector: BasicOutputCollector): void {
    const customer = input.getStringByField('customer');
    const total = (this.totals.get(customer) ?? 0) + input.getIntegerByField('amount');
    this.totals.set(customer, total);
    collector.emit([customer, total, input.getIntegerByField('id')]);
  }

  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['customer', 'total', 'lastOrder']);
  }
}

/** The two streams the example uses, created when missing (idempotent; runs where the topology is loaded). */
async function ensureStreams(): Promise<void> {
  const nc = await connect({ servers: SERVERS, timeout: 3000 });
  try {
    const jsm = await nc.jetstreamManager();
    for (const [name, subjects] of [['ORDERS', ['orders.>']], ['TOTALS', ['totals.>']]] as const) {
      await jsm.streams.info(name).catch(() => jsm.streams.add({ name, subjects: [...subjects], max_msgs: 100_000 }));
    }
  } finally {
    await nc.close();
  }
}

export default async (): Promise<TopologyBuilder> => {
  await ensureStreams();
  const builder = new TopologyBuilder();
  builder.setSpout('generator', OrderGenerator, 1);
  builder
    .setBolt('publish-orders', () => new JetStreamSinkBolt({ servers: SERVERS, toMessage: (t) => ({ subject: 'orders.new', data: JSON.stringify({ id: t.getValue(0), customer: t.getValue(1), amount: t.getValue(2) }), id: `order-${String(t.getValue(0))}` }) }), 1)
    .shuffleGrouping('generator');
  builder.setSpout('orders', () => new JetStreamSpout({ servers: SERVERS, stream: 'ORDERS', consumer: 'customer-totals', scheme: jsonScheme(['id', 'customer', 'amount']) }), 2);
  builder.setBolt('totals', CustomerTotals, 2).fieldsGrouping('orders', ['customer']);
  builder
    .setBolt('publish-totals', () => new JetStreamSinkBolt({ servers: SERVERS, toMessage: (t) => ({ subject: `totals.${String(t.getValue(0))}`, data: JSON.stringify({ total: t.getValue(1), lastOrder: t.getValue(2) }) }) }), 1)
    .shuffleGrouping('totals');
  return builder;
};

export const config = {
  'topology.max.spout.pending': 500,
  'topology.message.timeout.secs': 30,
};
