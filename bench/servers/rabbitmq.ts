/**
 * A throwaway RabbitMQ broker (Debian's rabbitmq-server 3.10, Erlang): its own Erlang port mapper
 * (`epmd` on a free port, our child, so nothing outlives the run: a broker left to start its own
 * `epmd -daemon` leaves it running on :4369), node name, ports, Mnesia and log dirs in the temp
 * dir, no plugins. The broker script is told it runs under systemd so it `exec`s the Erlang VM and
 * we hold the VM's PID; SIGTERM stops it gracefully. The AMQP port opens once the broker has
 * booted (~20 s here, longer on a busy machine; ~125 MB RSS): start it once per suite.
 * The default user guest/guest may connect from 127.0.0.1.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { executable, freePort, HOST, startManaged, tcpExchange, tempDir, type ManagedServer } from './managed';

export const RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';
export const EPMD = '/usr/bin/epmd';

export interface RabbitMqServer extends ManagedServer {
  /** `amqp://guest:guest@127.0.0.1:<port>` */
  readonly url: string;
  readonly nodeName: string;
}

export function rabbitmqAvailable(): boolean {
  return executable(RABBITMQ_SERVER) && executable(EPMD);
}

/** The AMQP 0-9-1 protocol header; a broker answers with a Connection.Start method frame. */
const AMQP_HEADER = Buffer.from('AMQP\x00\x00\x09\x01', 'latin1');

export async function startRabbitMq(opts: { readyTimeoutMs?: number } = {}): Promise<RabbitMqServer> {
  if (!rabbitmqAvailable()) throw new Error(`${RABBITMQ_SERVER} is missing: run scripts/ensure-packages.sh`);
  const dir = tempDir('rabbitmq');
  const epmdPort = await freePort();
  fs.mkdirSync(path.join(dir, 'epmd'));
  const epmd = await startManaged({
    name: 'epmd',
    port: epmdPort,
    dir: path.join(dir, 'epmd'),
    command: EPMD,
    args: ['-port', String(epmdPort), '-address', HOST],
    ready: async () => {
      await tcpExchange(epmdPort, null, () => true, 500).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ECONNREFUSED') throw err; // not listening yet
      });
    },
    readyTimeoutMs: 10_000,
  }).catch((err) => {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  const port = await freePort();
  const distPort = await freePort();
  const nodeName = `squall${port}@localhost`;
  const plugins = path.join(dir, 'enabled_plugins');
  fs.writeFileSync(plugins, '[].\n');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: dir,
    ERL_EPMD_PORT: String(epmdPort),
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_NODE_IP_ADDRESS: HOST,
    RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(dir, 'log'),
    RABBITMQ_LOGS: '-',
    RABBITMQ_ENABLED_PLUGINS_FILE: plugins,
    RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq'),
    RUNNING_UNDER_SYSTEMD: 'true',
  };
  fs.writeFileSync(path.join(dir, 'rabbitmq.conf'), 'loopback_users = none\ndisk_free_limit.absolute = 10MB\n');
  try {
    const server = await startManaged({
      name: 'rabbitmq',
      port,
      dir,
      command: RABBITMQ_SERVER,
      args: [],
      env,
      ready: async () => {
        const answer = await tcpExchange(port, AMQP_HEADER, (t) => t.length >= 8, 2_000);
        return answer.charCodeAt(0) === 1 ? undefined : `answered ${JSON.stringify(answer.slice(0, 16))}`;
      },
      readyTimeoutMs: opts.readyTimeoutMs ?? 120_000,
      stopGraceMs: 30_000,
    });
    const stop = server.stop.bind(server);
    const withEpmd = Object.assign(server, {
      url: `amqp://guest:guest@${HOST}:${port}`,
      nodeName,
      stop: async () => {
        try {
          await stop();
        } finally {
          await epmd.stop();
        }
      },
    });
    return withEpmd;
  } catch (err) {
    await epmd.stop();
    throw err;
  }
}
