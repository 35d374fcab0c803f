/**
 * A throwaway standalone ZooKeeper for the chaos run (the same recipe as test/helpers/zookeeper.ts,
 * which the built runner cannot import: dist/ holds no tests): Debian's zookeeper.jar, a temp data
 * dir, a free port on 127.0.0.1, ready once it answers `ruok` with `imok`, stopped by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

const JAVA_DIR = '/usr/share/java';
const ZOOKEEPER_JAR = path.join(JAVA_DIR, 'zookeeper.jar');
const SLF4J_NOP_JAR = path.join(JAVA_DIR, 'slf4j-nop.jar');
const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;

export interface ChaosZooKeeper {
  connectString: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startZooKeeper(tickTimeMs = 500): Promise<ChaosZooKeeper> {
  if (!fs.existsSync(ZOOKEEPER_JAR)) throw new Error(`${ZOOKEEPER_JAR} is missing: run scripts/ensure-packages.sh`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-chaos-zk-'));
  const port = await freePort();
  const cfg = path.join(dir, 'zoo.cfg');
  fs.writeFileSync(
    cfg,
    [
      `tickTime=${tickTimeMs}`,
      `dataDir=${path.join(dir, 'data')}`,
      `clientPort=${port}`,
      `clientPortAddress=${HOST}`,
      'minSessionTimeout=1000',
      'maxSessionTimeout=20000',
      'admin.enableServer=false',
      '4lw.commands.whitelist=ruok',
      'forceSync=no',
      'preAllocSize=1024',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('java', ['-Xmx256m', '-cp', `${ZOOKEEPER_JAR}:${SLF4J_NOP_JAR}`, 'org.apache.zookeeper.server.ZooKeeperServerMain', cfg], {
    cwd: dir,
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const forced = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(forced);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`ZooKeeper exited (${child.exitCode}) before answering ruok`);
    }
    if ((await ruok(port).catch(() => '')) === 'imok') break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`ZooKeeper on ${HOST}:${port} did not answer ruok within ${READY_TIMEOUT_MS} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { connectString: `${HOST}:${port}`, pid: child.pid as number, stop };
}

function ruok(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port });
    let answer = '';
    socket.setTimeout(1_000, () => socket.destroy(new Error('no answer')));
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.end('ruok'));
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', reject);
    socket.on('close', (hadError) => {
      if (!hadError) resolve(answer.trim());
    });
  });
}

/** A port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('could not read a free port'))));
    });
  });
}
