import type { Readable } from 'node:stream';
import type { Logger } from '../common/logging';

/** Longest line forwarded whole; longer ones are cut, so a worker cannot grow our memory. */
export const LINE_CHARS_MAX = 16 * 1024;

/** Where each line goes: the supervisor's logger, or the worker's log file. */
export type LineSink = (line: string, stream: 'stdout' | 'stderr') => void;

/** A sink logging each line at info on `logger`, with the stream it came from. */
export function loggerSink(logger: Logger): LineSink {
  return (line, stream) => logger.info({ stream }, line);
}

/**
 * Forwards a worker's stdout or stderr line by line to a sink. The partial line kept between
 * chunks is bounded by LINE_CHARS_MAX.
 */
export class LineForwarder {
  private partial = '';
  /** The current line went over the cap: its head was logged, the rest is skipped. */
  private skipping = false;
  /** Resolves when the stream has ended (or failed). */
  readonly ended: Promise<void>;

  constructor(
    stream: Readable,
    private readonly logger: Logger,
    private readonly name: 'stdout' | 'stderr',
    private readonly sink: LineSink = loggerSink(logger),
  ) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.onData(chunk));
    this.ended = new Promise((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', (err) => {
        this.logger.debug({ err, stream: name }, 'worker output stream error');
        resolve();
      });
    });
  }

  /** Logs what is left of an unterminated last line. */
  flush(): void {
    if (this.partial !== '') this.emit(this.partial);
    this.partial = '';
  }

  private onData(chunk: string): void {
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', start)) {
      if (!this.skipping) this.emit(this.partial + chunk.slice(start, nl));
      this.partial = '';
      this.skipping = false;
      start = nl + 1;
    }
    if (this.skipping) return;
    this.partial += chunk.slice(start);
    if (this.partial.length > LINE_CHARS_MAX) {
      this.emit(this.partial);
      this.partial = '';
      this.skipping = true;
    }
  }

  private emit(line: string): void {
    let text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (text.length > LINE_CHARS_MAX) text = `${text.slice(0, LINE_CHARS_MAX)}… (line cut)`;
    if (text !== '') this.sink(text, this.name);
  }
}
