/**
 * A throwaway NATS server with JetStream (Debian's nats-server 2.9): `-js` with its store in the
 * temp dir, so a restart keeps streams and consumers. Ready once it greets a client with an INFO
 * line that says JetStream is on (at once; ~12 MB RSS). Optional user/password.
 */
import { executable, freePort, HOST, startManaged, tcpExchange, tempDir, type ManagedServer } from './managed';

export const NATS_SERVER = '/usr/sbin/nats-server';

export interface NatsServer extends ManagedServer {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
}

export function natsAvailable(): boolean {
  return executable(NATS_SERVER);
}

export async function startNats(opts: { user?: string; password?: string; readyTimeoutMs?: number } = {}): Promise<NatsServer> {
  if (!natsAvailable()) throw new Error(`${NATS_SERVER} is missing: run scripts/ensure-packages.sh`);
  const port = await freePort();
  const dir = tempDir('nats');
  const args = ['-js', '-p', String(port), '-a', HOST, '-sd', dir, '--http_port', '0'];
  if (opts.user) args.push('--user', opts.user, '--pass', opts.password ?? '');
  const server = await startManaged({
    name: 'nats',
    port,
    dir,
    command: NATS_SERVER,
    args,
    ready: async () => {
      const info = await tcpExchange(port, null, (t) => t.includes('\r\n'));
      if (!info.startsWith('INFO ')) return `greeted with ${JSON.stringify(info.slice(0, 80))}`;
      return /"jetstream":\s*true/.test(info) ? undefined : 'JetStream is not on yet';
    },
    readyTimeoutMs: opts.readyTimeoutMs ?? 15_000,
  });
  return Object.assign(server, { url: `nats://${HOST}:${port}` });
}
