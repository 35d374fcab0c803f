/**
 * One worker's log file, written by its supervisor from the worker's stdout and stderr (pino JSON
 * lines, kept as they are; anything else the worker prints is wrapped in a JSON line of the same
 * shape), rotated by size with a bounded number of files.
 *
 * Writes are asynchronous, one at a time, each taking everything queued so far. The queue is
 * bounded by bytes; its overflow rule is drop-newest with a count: lines that do not fit are
 * dropped and a line saying how many is written once the queue drains, so a worker that logs
 * faster than the disk takes never grows the supervisor's memory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Clock } from '../common/clock';
import { describeError } from '../common/errors';
import type { Logger } from '../common/logging';
import { logFileName, LOG_FILE } from './log-files';

export interface WorkerLogOptions {
  dir: string;
  /** A file is rotated before a line would take it past this size. */
  fileBytesMax: number;
  /** Files kept: the current one and `filesMax - 1` rotated ones. */
  filesMax: number;
  clock: Clock;
  logger: Logger;
  /** Bytes waiting to be written before new lines are dropped (default 4 MiB). */
  pendingBytesMax?: number;
}

const PENDING_BYTES_MAX = 4 << 20;
/** Most bytes handed to one write call. */
const WRITE_CHUNK_BYTES = 256 << 10;

export class WorkerLogFile {
  private pending: Array<{ text: string; bytes: number }> = [];
  private pendingBytes = 0;
  private dropped = 0;
  private fd: number | null = null;
  private size = 0;
  private writing = false;
  private failed = false;
  private closed = false;
  private drained: Array<() => void> = [];
  private readonly pendingBytesMax: number;

  constructor(private readonly opts: WorkerLogOptions) {
    this.pendingBytesMax = opts.pendingBytesMax ?? PENDING_BYTES_MAX;
  }

  /** One line the worker printed (without its newline). */
  line(text: string, stream: 'stdout' | 'stderr'): void {
    if (this.closed) return;
    const record = isJsonObjectLine(text) ? text : JSON.stringify({ level: stream === 'stderr' ? 40 : 30, time: Math.round(this.opts.clock.wallNow()), stream, msg: text });
    this.enqueue(record + '\n');
  }

  /** Writes what is queued, then closes the file. Idempotent. */
  close(): Promise<void> {
    this.closed = true;
    return this.flushed().then(() => this.closeFd());
  }

  /** Resolves once everything queued so far is written (or dropped after a write error). */
  flushed(): Promise<void> {
    if (!this.writing && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  private enqueue(record: string): void {
    const bytes = Buffer.byteLength(record);
    if (this.failed || this.pendingBytes + bytes > this.pendingBytesMax) {
      this.dropped++;
      return;
    }
    this.pending.push({ text: record, bytes });
    this.pendingBytes += bytes;
    this.pump();
  }

  private pump(): void {
    if (this.writing || this.pending.length === 0) return;
    this.writing = true;
    this.writeSome().then(
      () => {
        this.writing = false;
        if (this.pending.length > 0) this.pump();
        else this.settle();
      },
      (err: unknown) => {
        this.writing = false;
        this.failed = true;
        this.dropped += this.pending.length;
        this.pending = [];
        this.pendingBytes = 0;
        this.opts.logger.warn({ err: describeError(err), dir: this.opts.dir }, 'cannot write a worker log; its lines are dropped');
        this.settle();
      },
    );
  }

  private settle(): void {
    for (const resolve of this.drained.splice(0)) resolve();
  }

  /** One write of queued lines, ending where the file would pass its size (then it rotates). */
  private async writeSome(): Promise<void> {
    if (this.fd === null) await this.open();
    const { fileBytesMax } = this.opts;
    if (this.size > 0 && this.size + this.pending[0].bytes > fileBytesMax) await this.rotate();
    const room = Math.min(WRITE_CHUNK_BYTES, Math.max(fileBytesMax - this.size, this.pending[0].bytes));
    let chunk = '';
    let chunkBytes = 0;
    while (this.pending.length > 0 && (chunkBytes === 0 || chunkBytes + this.pending[0].bytes <= room)) {
      const next = this.pending.shift()!;
      chunk += next.text;
      chunkBytes += next.bytes;
      this.pendingBytes -= next.bytes;
    }
    if (this.dropped > 0 && this.pendingBytes < this.pendingBytesMax / 2) {
      chunk += JSON.stringify({ level: 40, time: Math.round(this.opts.clock.wallNow()), msg: `squall: ${this.dropped} log lines dropped (the log file could not keep up)` }) + '\n';
      this.dropped = 0;
    }
    const buf = Buffer.from(chunk, 'utf8');
    await write(this.fd as number, buf);
    this.size += buf.length;
  }

  private async open(): Promise<void> {
    await fs.promises.mkdir(this.opts.dir, { recursive: true });
    const file = path.join(this.opts.dir, LOG_FILE);
    this.fd = await new Promise<number>((resolve, reject) => fs.open(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o640, (err, fd) => (err ? reject(err) : resolve(fd))));
    this.size = (await fs.promises.stat(file)).size;
  }

  /** worker.log → worker.log.1 → ... → worker.log.<filesMax-1>; the oldest is deleted. */
  private async rotate(): Promise<void> {
    await this.closeFd();
    const { dir, filesMax } = this.opts;
    await fs.promises.rm(path.join(dir, logFileName(filesMax - 1)), { force: true });
    for (let n = filesMax - 2; n >= 0; n--) {
      await fs.promises.rename(path.join(dir, logFileName(n)), path.join(dir, logFileName(n + 1))).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
    await this.open();
  }

  private closeFd(): Promise<void> {
    const fd = this.fd;
    this.fd = null;
    if (fd === null) return Promise.resolve();
    return new Promise((resolve) => fs.close(fd, () => resolve()));
  }
}

function isJsonObjectLine(text: string): boolean {
  return text.length > 1 && text.charCodeAt(0) === 0x7b && text.charCodeAt(text.length - 1) === 0x7d;
}

function write(fd: number, buf: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    let offset = 0;
    const next = (): void => {
      fs.write(fd, buf, offset, buf.length - offset, null, (err, n) => {
        if (err) return reject(err);
        offset += n;
        if (offset < buf.length) next();
        else resolve();
      });
    };
    next();
  });
}
