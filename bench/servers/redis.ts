/**
 * A throwaway Redis (Debian's redis-server 7): no persistence by default (`--save ''
 * --appendonly no`), or an append-only file with `persistent: true` so a restart keeps the data.
 * Ready once it answers PING with PONG (at once; ~12 MB RSS).
 */
import { executable, freePort, HOST, startManaged, tcpExchange, tempDir, type ManagedServer } from './managed';

export const REDIS_SERVER = '/usr/bin/redis-server';

export interface RedisServer extends ManagedServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
}

export function redisAvailable(): boolean {
  return executable(REDIS_SERVER);
}

export async function startRedis(opts: { persistent?: boolean; password?: string; readyTimeoutMs?: number } = {}): Promise<RedisServer> {
  if (!redisAvailable()) throw new Error(`${REDIS_SERVER} is missing: run scripts/ensure-packages.sh`);
  const port = await freePort();
  const dir = tempDir('redis');
  const args = ['--port', String(port), '--bind', HOST, '--dir', dir, '--save', '', '--daemonize', 'no'];
  args.push('--appendonly', opts.persistent ? 'yes' : 'no');
  if (opts.persistent) args.push('--appendfsync', 'always');
  if (opts.password) args.push('--requirepass', opts.password);
  const auth = opts.password ? `AUTH ${opts.password}\r\n` : '';
  const server = await startManaged({
    name: 'redis',
    port,
    dir,
    command: REDIS_SERVER,
    args,
    ready: async () => {
      const answer = await tcpExchange(port, `${auth}PING\r\n`, (t) => t.includes('PONG') || t.startsWith('-'));
      return answer.includes('+PONG') ? undefined : `answered ${JSON.stringify(answer.trim())}`;
    },
    readyTimeoutMs: opts.readyTimeoutMs ?? 15_000,
  });
  return Object.assign(server, { url: `redis://${HOST}:${port}` });
}
