/**
 * A throwaway Mosquitto MQTT broker (Debian's mosquitto 2.0) from a config file in the temp dir:
 * one listener on 127.0.0.1, persistence in the temp dir (so QoS 1 persistent sessions survive a
 * restart), anonymous clients allowed unless a password file is given. Ready once a client's MQTT
 * CONNECT is answered with a CONNACK (at once; ~9 MB RSS).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { executable, freePort, HOST, startManaged, systemUser, tcpExchange, tempDir, type ManagedServer } from './managed';

export const MOSQUITTO = '/usr/sbin/mosquitto';
const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';

export interface MosquittoServer extends ManagedServer {
  /** `mqtt://127.0.0.1:<port>` */
  readonly url: string;
}

export function mosquittoAvailable(): boolean {
  return executable(MOSQUITTO);
}

/** MQTT 3.1.1 CONNECT with a clean session, client id "ready", keep-alive 10 s. */
const CONNECT = Buffer.from([0x10, 0x11, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x0a, 0x00, 0x05, 0x72, 0x65, 0x61, 0x64, 0x79]);

export async function startMosquitto(opts: { user?: string; password?: string; readyTimeoutMs?: number } = {}): Promise<MosquittoServer> {
  if (!mosquittoAvailable()) throw new Error(`${MOSQUITTO} is missing: run scripts/ensure-packages.sh`);
  const port = await freePort();
  const dir = tempDir('mosquitto');
  const lines = [`listener ${port} ${HOST}`, 'persistence true', `persistence_location ${dir}/`, 'autosave_interval 1', 'log_dest stdout'];
  if (opts.user) {
    const pw = path.join(dir, 'passwd');
    fs.writeFileSync(pw, '');
    const made = spawnSync(MOSQUITTO_PASSWD, ['-b', pw, opts.user, opts.password ?? ''], { encoding: 'utf8', timeout: 10_000 });
    if (made.status !== 0) throw new Error(`mosquitto_passwd failed: ${made.stderr}`);
    lines.push('allow_anonymous false', `password_file ${pw}`);
  } else lines.push('allow_anonymous true');
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(conf, lines.join('\n') + '\n');
  // As root, mosquitto drops to the "mosquitto" user, which must be able to write the data dir.
  const owner = process.getuid?.() === 0 ? systemUser('mosquitto') : undefined;
  if (owner) for (const f of [dir, ...fs.readdirSync(dir).map((n) => path.join(dir, n))]) fs.chownSync(f, owner.uid, owner.gid);
  const server = await startManaged({
    name: 'mosquitto',
    port,
    dir,
    command: MOSQUITTO,
    args: ['-c', conf],
    ready: async () => {
      // any CONNACK proves the broker is serving, even one refusing an anonymous client
      const answer = await tcpExchange(port, CONNECT, (t) => t.length >= 4);
      return answer.charCodeAt(0) === 0x20 ? undefined : `answered ${JSON.stringify(answer)}`;
    },
    readyTimeoutMs: opts.readyTimeoutMs ?? 15_000,
  });
  return Object.assign(server, { url: `mqtt://${HOST}:${port}` });
}
