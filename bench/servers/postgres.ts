/**
 * A throwaway PostgreSQL 15 (Debian's postgresql package): `initdb` into a temp dir, then the
 * `postgres` server itself as our child (so we hold its PID), listening on 127.0.0.1 only with its
 * socket in the data dir, trust authentication for the `postgres` user (or a password). fsync is
 * off (a process crash loses nothing; only a machine crash would); commits stay synchronous, so a
 * kill -9 loses no committed row. PostgreSQL refuses to run as root, so when we are root both
 * initdb and the server run as the `postgres` system user. Ready once a client can run a query
 * (< 1 s after start).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { executable, freePort, HOST, startManaged, systemUser, tempDir, type ManagedServer } from './managed';

export const POSTGRES_BIN = '/usr/lib/postgresql/15/bin';

export interface PostgresServer extends ManagedServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  readonly user: string;
}

export function postgresAvailable(): boolean {
  return executable(path.join(POSTGRES_BIN, 'postgres')) && executable(path.join(POSTGRES_BIN, 'initdb'));
}

export async function startPostgres(opts: { password?: string; readyTimeoutMs?: number; settings?: Readonly<Record<string, string | number>> } = {}): Promise<PostgresServer> {
  if (!postgresAvailable()) throw new Error(`${POSTGRES_BIN}/postgres is missing: run scripts/ensure-packages.sh`);
  const port = await freePort();
  const dir = tempDir('postgres');
  const data = path.join(dir, 'data');
  const asUser = process.getuid?.() === 0 ? systemUser('postgres') : undefined;
  if (process.getuid?.() === 0 && !asUser) throw new Error('running as root, but there is no "postgres" user to run PostgreSQL as');
  fs.chmodSync(dir, 0o755);
  if (asUser) fs.chownSync(dir, asUser.uid, asUser.gid);
  const initArgs = ['-D', data, '-U', 'postgres', '--no-sync', '-E', 'UTF8'];
  let pwFile: string | undefined;
  if (opts.password) {
    pwFile = path.join(dir, 'pw');
    fs.writeFileSync(pwFile, opts.password);
    if (asUser) fs.chownSync(pwFile, asUser.uid, asUser.gid);
    initArgs.push('-A', 'scram-sha-256', '--pwfile', pwFile);
  } else initArgs.push('-A', 'trust');
  const init = spawnSync(path.join(POSTGRES_BIN, 'initdb'), initArgs, { uid: asUser?.uid, gid: asUser?.gid, encoding: 'utf8', timeout: 60_000 });
  if (init.status !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status ?? init.signal}): ${init.stderr || init.stdout}`);
  }
  if (pwFile) fs.rmSync(pwFile);
  const server = await startManaged({
    name: 'postgres',
    port,
    dir,
    command: path.join(POSTGRES_BIN, 'postgres'),
    // `settings`: more server settings, e.g. { max_prepared_transactions: 16 } for two-phase commit
    args: ['-D', data, '-p', String(port), '-k', data, '-c', `listen_addresses=${HOST}`, '-c', 'fsync=off', '-c', 'full_page_writes=off', ...Object.entries(opts.settings ?? {}).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
    uid: asUser?.uid,
    gid: asUser?.gid,
    // SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, then exit.
    stopSignal: 'SIGINT',
    ready: async () => {
      const client = new Client({ host: HOST, port, user: 'postgres', password: opts.password, database: 'postgres', connectionTimeoutMillis: 1_000 });
      client.on('error', () => undefined); // errors also reject connect/query, which report them
      try {
        await client.connect();
        await client.query('select 1');
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    readyTimeoutMs: opts.readyTimeoutMs ?? 30_000,
  });
  const auth = opts.password ? `postgres:${encodeURIComponent(opts.password)}` : 'postgres';
  return Object.assign(server, { url: `postgres://${auth}@${HOST}:${port}/postgres`, user: 'postgres' });
}
