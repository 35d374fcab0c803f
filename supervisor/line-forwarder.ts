import type { Readable } from 'node:stream';
import type { Logger } from '../common/logging';

/** Longest line forwarded whole; longer ones are cut, so a worker cannot grow our memory. */
export const LINE_CHARS_MAX = 16 * 1024;

/**
 * Forwards a worker's stdout or stderr to the supervisor's logger, one log entry per line. The
 * partial line kept between chunks is bounded by LINE_CHARS_MAX.
 */
export class LineForwarder {
  private partial = '';
  /** The current line went over the cap: its head was logged, the rest is skipped. */
  private skipping = false;

  constructor(
    stream: Readable,
    private readonly logger: Logger,
    private readonly name: 'stdout' | 'stderr',
  ) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.onData(chunk));
    stream.on('error', (err) => this.logger.debug({ err, stream: name }, 'worker output stream error'));
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
    if (text !== '') this.logger.info({ stream: this.name }, text);
  }
}
