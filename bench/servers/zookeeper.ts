/**
 * A throwaway standalone ZooKeeper (Debian's `zookeeper` package, 3.8): one JVM on an ephemeral
 * port of 127.0.0.1 with a temp data dir, ready once it answers `ruok` with `imok` (~0.3 s idle,
 * ~60 MB). Sessions may last 1-10 s (tickTime 500 ms clamps them into [2, 20] ticks).
 * Needs `java` on PATH.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { delay, freePort, HOST, startManaged, tempDir, type ManagedServer } from './managed';

const JAVA_DIR = '/usr/share/java';
export const ZOOKEEPER_JAR = path.join(JAVA_DIR, 'zookeeper.jar');
/** Binds slf4j to a no-op logger: the server prints nothing. */
const SLF4J_NOP_JAR = path.join(JAVA_DIR, 'slf4j-nop.jar');
const PAUSE_TIMEOUT_MS = 2_000;

export interface ZooKeeperServer extends Omit<ManagedServer, 'pause'> {
  /** `127.0.0.1:<port>`, for node-zookeeper-client. */
  readonly connectString: string;
  readonly dataDir: string;
  /**
   * Freezes the server (SIGSTOP): connections stay open but nothing is answered, a hung server.
   * Resolves once every JVM thread is stopped (the signal returns before they all are).
   */
  pause(): Promise<void>;
}

/** True when the ZooKeeper jar and a JVM are on this machine. */
export function zookeeperAvailable(): boolean {
  if (!fs.existsSync(ZOOKEEPER_JAR)) return false;
  return spawnSync('java', ['-version'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
}

export async function startZooKeeper(options: { tickTimeMs?: number; readyTimeoutMs?: number } = {}): Promise<ZooKeeperServer> {
  if (!fs.existsSync(ZOOKEEPER_JAR)) throw new Error(`${ZOOKEEPER_JAR} is missing: run scripts/ensure-packages.sh`);
  const dir = tempDir('zk');
  const dataDir = path.join(dir, 'data');
  const port = await freePort();
  const configFile = path.join(dir, 'zoo.cfg');
  fs.writeFileSync(configFile, zooCfg(options.tickTimeMs ?? 500, dataDir, port));
  const server = await startManaged({
    name: 'zookeeper',
    port,
    dir,
    command: 'java',
    args: ['-Xmx256m', '-cp', `${ZOOKEEPER_JAR}:${SLF4J_NOP_JAR}`, 'org.apache.zookeeper.server.ZooKeeperServerMain', configFile],
    ready: async () => {
      const answer = await fourLetterWord(port, 'ruok', 1_000);
      return answer === 'imok' ? undefined : `answered ${JSON.stringify(answer)}`;
    },
    readyTimeoutMs: options.readyTimeoutMs ?? 15_000,
    stopGraceMs: 5_000,
  });
  const signalPause = server.pause.bind(server);
  return Object.assign(server, {
    connectString: `${HOST}:${port}`,
    dataDir,
    pause: async (): Promise<void> => {
      const pid = server.pid;
      if (pid <= 0) throw new Error(`ZooKeeper on ${HOST}:${port} is not running`);
      signalPause();
      const deadline = Date.now() + PAUSE_TIMEOUT_MS;
      while (!allThreadsStopped(pid)) {
        if (Date.now() >= deadline) throw new Error(`ZooKeeper pid ${pid}: threads not all stopped within ${PAUSE_TIMEOUT_MS} ms of SIGSTOP`);
        await delay(1);
      }
    },
  });
}

function zooCfg(tickTimeMs: number, dataDir: string, port: number): string {
  return [
    `tickTime=${tickTimeMs}`,
    `dataDir=${dataDir}`,
    `clientPort=${port}`,
    `clientPortAddress=${HOST}`,
    // Sessions of 1-10 s (the server clamps requests into [min, max]).
    'minSessionTimeout=1000',
    'maxSessionTimeout=10000',
    // Without this the server also binds :8080 for its admin HTTP API.
    'admin.enableServer=false',
    '4lw.commands.whitelist=ruok,srvr',
    // Test data need no fsync per transaction, nor 64 MB preallocated logs.
    'forceSync=no',
    'preAllocSize=1024',
    '',
  ].join('\n');
}

/** Every thread of the process is in state T (stopped), per /proc/<pid>/task/<tid>/stat. */
function allThreadsStopped(pid: number): boolean {
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch (err) {
      // A thread that exited between the listing and the read is not running either.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    // Format: "tid (comm) S ...": the state follows the last ')'.
    if (stat.charAt(stat.lastIndexOf(')') + 2) !== 'T') return false;
  }
  return true;
}

/** Sends a four-letter command and resolves with the whole answer (the server closes after it). */
export function fourLetterWord(port: number, word: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port });
    let answer = '';
    const timer = setTimeout(() => socket.destroy(new Error(`no answer to ${word} within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.end(word));
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', (hadError) => {
      clearTimeout(timer);
      if (!hadError) resolve(answer.trim());
    });
  });
}
