/**
 * A minimal pipelined Redis writer for the load generator: commands are encoded as RESP text and
 * written in one socket write per chunk, and replies are only counted (and errors kept). ioredis
 * allocates a Command and a promise per command, which capped the generator near 60k XADD/s on
 * this machine; the benchmark must be able to offer more load than the topology can take.
 */
import * as net from 'node:net';

function bulk(s: string): string {
  // the generator's values are ASCII (JSON of ids and numbers): length in bytes = length in chars
  return `$${s.length}\r\n${s}\r\n`;
}

/** RESP for one command. */
export function respCommand(args: readonly string[]): string {
  let out = `*${args.length}\r\n`;
  for (const a of args) out += bulk(a);
  return out;
}

export class RespWriter {
  private atLineStart = true;
  private lineKind = 0;
  private lineFrom = 0;
  private inBulk = false;
  private expected = 0;
  private received = 0;
  private waiter: (() => void) | null = null;
  private failure: Error | null = null;
  /** The first error reply, if any. */
  firstError: string | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RespWriter> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, host, () => {
        socket.removeListener('error', reject);
        socket.setNoDelay(true);
        resolve(new RespWriter(socket));
      });
      socket.once('error', reject);
    });
  }

  /**
   * Sends `n` commands (already RESP-encoded, concatenated); resolves when their `n` replies
   * arrived. A Buffer is not copied: it must not change until then.
   */
  send(commands: string | Buffer, n: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    this.expected += n;
    this.socket.write(commands);
    return this.drained();
  }

  private drained(): Promise<void> {
    if (this.received >= this.expected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiter = () => (this.failure ? reject(this.failure) : resolve());
    });
  }

  /**
   * Counts replies as they stream in, without copying: a reply is a line (`+`, `-`, `:`), or a
   * bulk header line (`$n`) and its data line (the writer's commands return ids, never `$-1`
   * or arrays). Lines may be split across chunks, so where a line starts is kept between them.
   */
  private onData(d: Buffer): void {
    let p = 0;
    while (p < d.length) {
      if (this.atLineStart) {
        this.lineKind = d[p];
        this.lineFrom = p;
        this.atLineStart = false;
      }
      const nl = d.indexOf(10, p);
      if (nl < 0) break;
      if (this.inBulk) {
        this.inBulk = false;
        this.received++;
      } else if (this.lineKind === 0x24 /* $ */) {
        this.inBulk = true;
      } else {
        if (this.lineKind === 0x2d /* - */ && this.firstError === null) this.firstError = d.toString('utf8', this.lineFrom, nl - 1);
        this.received++;
      }
      p = nl + 1;
      this.atLineStart = true;
      this.lineFrom = 0;
    }
    if (this.received >= this.expected && this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w();
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  close(): void {
    this.socket.destroy();
  }
}
