/**
 * The throwaway servers the state, connector and benchmark suites start (bench/servers/): each
 * comes up on an ephemeral port of 127.0.0.1, keeps its data across kill -9 and restart where it
 * persists, and leaves no process and no directory behind when stopped.
 * (RabbitMQ takes ~20 s to boot: its connector suite covers it.)
 */
import * as fs from 'node:fs';
import { Client } from 'pg';
import type { ManagedServer } from '../../../bench/servers/managed';
import { tcpExchange } from '../../../bench/servers/managed';
import { startMosquitto } from '../../../bench/servers/mosquitto';
import { startNats } from '../../../bench/servers/nats';
import { startPostgres } from '../../../bench/servers/postgres';
import { startRedis } from '../../../bench/servers/redis';

jest.setTimeout(120_000);

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

async function checkLifecycle(server: ManagedServer, probe: () => Promise<void>): Promise<void> {
  expect(server.port).toBeGreaterThan(0);
  expect(server.running()).toBe(true);
  await probe();
  const first = server.pid;
  await server.kill9();
  expect(server.running()).toBe(false);
  expect(gone(first)).toBe(true);
  await server.restart();
  expect(server.pid).not.toBe(first);
  await probe();
  const second = server.pid;
  await server.stop();
  await server.stop(); // idempotent
  expect(gone(second)).toBe(true);
  expect(fs.existsSync(server.dir)).toBe(false);
}

describe('throwaway servers', () => {
  it('redis: persistent data survives kill -9 and restart', async () => {
    const r = await startRedis({ persistent: true });
    const cmd = (c: string): Promise<string> => tcpExchange(r.port, c, (t) => t.endsWith('\r\n'));
    expect(await cmd('SET k v\r\n')).toBe('+OK\r\n');
    await checkLifecycle(r, async () => expect(await cmd('GET k\r\n')).toBe('$1\r\nv\r\n'));
  });

  it('postgres: a committed row survives kill -9 and restart; a wrong password is refused', async () => {
    const p = await startPostgres({ password: 'secret' });
    const query = async (sql: string): Promise<unknown[]> => {
      const c = new Client({ connectionString: p.url });
      await c.connect();
      try {
        return (await c.query(sql)).rows;
      } finally {
        await c.end();
      }
    };
    await query('create table t (x int)');
    await query('insert into t values (7)');
    await checkLifecycle(p, async () => expect(await query('select x from t')).toEqual([{ x: 7 }]));
    const again = await startPostgres({ password: 'secret' });
    try {
      const c = new Client({ host: '127.0.0.1', port: again.port, user: 'postgres', password: 'wrong', database: 'postgres' });
      c.on('error', () => undefined);
      await expect(c.connect()).rejects.toMatchObject({ code: '28P01' });
    } finally {
      await again.stop();
    }
  });

  it('nats: greets with JetStream on, across kill -9 and restart', async () => {
    const n = await startNats();
    await checkLifecycle(n, async () => expect(await tcpExchange(n.port, null, (t) => t.includes('\r\n'))).toMatch(/^INFO .*"jetstream":true/));
  });

  it('mosquitto: answers CONNECT with CONNACK, across kill -9 and restart', async () => {
    const m = await startMosquitto();
    const connect = Buffer.from([0x10, 0x10, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x0a, 0x00, 0x04, 0x74, 0x65, 0x73, 0x74]);
    await checkLifecycle(m, async () => expect((await tcpExchange(m.port, connect, (t) => t.length >= 4)).charCodeAt(0)).toBe(0x20));
  });
});
