/**
 * Reading a worker's log files in pages (Storm's logviewer, simplified): a page is at most
 * `length` bytes of whole lines from a byte offset (the tail when none is given), and a search
 * scans a bounded number of bytes per call and says where to go on. A file is never read whole.
 *
 * Only files named by log-files.ts inside the worker's own log directory are opened, with
 * O_NOFOLLOW, and only when they are regular files under the logs root.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { squallError } from '../common/errors';
import type { LogFileInfo, LogPage, LogSearchResult } from '../common/protocol/rest';
import { isLogFileName, logFileName, LOG_FILE } from './log-files';

export const PAGE_BYTES_DEFAULT = 64 << 10;
export const PAGE_BYTES_MAX = 1 << 20;
/** Bytes one search call scans at the most before it answers with where to continue. */
export const SEARCH_SCAN_BYTES_MAX = 16 << 20;
export const SEARCH_MATCHES_MAX = 1000;
const SEARCH_CHUNK_BYTES = 1 << 20;
/** A matching line longer than this is cut in the answer. */
const MATCH_LINE_CHARS_MAX = 2000;
const NEWLINE = 0x0a;

interface OpenLog {
  fd: fs.promises.FileHandle;
  size: number;
  fileId: string;
}

export class WorkerLogReader {
  constructor(
    private readonly logsRoot: string,
    private readonly dir: string,
    private readonly filesMax: number,
  ) {}

  /** Every log file of this worker, the current one first. ERR_LOG_NOT_FOUND when there is none. */
  async files(): Promise<LogFileInfo[]> {
    await this.checkDir();
    const out: LogFileInfo[] = [];
    for (let n = 0; n < this.filesMax; n++) {
      const name = logFileName(n);
      const st = await fs.promises.lstat(path.join(this.dir, name)).catch(() => null);
      if (st?.isFile()) out.push({ name, bytes: st.size, modifiedMs: Math.round(st.mtimeMs) });
    }
    if (out.length === 0) throw squallError('ERR_LOG_NOT_FOUND', 'this worker has no log file');
    return out;
  }

  async page(file: string | null, start: number | null, length: number): Promise<Omit<LogPage, 'topologyId' | 'host' | 'port'>> {
    const name = this.fileName(file);
    const files = await this.files();
    const log = await this.open(name);
    try {
      const size = log.size;
      const want = Math.min(Math.max(1, length), PAGE_BYTES_MAX);
      const from = Math.min(start ?? Math.max(0, size - want), size);
      const { bytes, begin, end } = await readWindow(log.fd, from, Math.min(size, from + want), size, 'raw');
      return { file: name, files, size, fileId: log.fileId, start: begin, end, text: new TextDecoder('utf-8').decode(bytes) };
    } finally {
      await log.fd.close();
    }
  }

  async search(file: string | null, query: string, start: number, limit: number, ignoreCase: boolean): Promise<Omit<LogSearchResult, 'topologyId' | 'host' | 'port'>> {
    const name = this.fileName(file);
    const log = await this.open(name);
    const needle = ignoreCase ? query.toLowerCase() : query;
    const matches: LogSearchResult['matches'] = [];
    const max = Math.min(Math.max(1, limit), SEARCH_MATCHES_MAX);
    try {
      let at = Math.min(Math.max(0, start), log.size);
      const stopAt = Math.min(log.size, at + SEARCH_SCAN_BYTES_MAX);
      const pattern = Buffer.from(needle, 'utf8');
      scan: while (at < stopAt) {
        const { bytes, begin, end } = await readWindow(log.fd, at, Math.min(stopAt, at + SEARCH_CHUNK_BYTES), log.size, 'lines');
        if (end <= at) break;
        for (let i = 0; i < bytes.length; ) {
          let nl = bytes.indexOf(NEWLINE, i);
          if (nl < 0) nl = bytes.length;
          const raw = bytes.subarray(i, nl);
          // a cheap byte search first; decoding (and lower-casing) only for candidate lines
          if (raw.length > 0 && (ignoreCase || raw.indexOf(pattern) >= 0)) {
            const line = raw.toString('utf8');
            if (!ignoreCase || line.toLowerCase().includes(needle)) {
              matches.push({ offset: begin + i, line: line.length > MATCH_LINE_CHARS_MAX ? `${line.slice(0, MATCH_LINE_CHARS_MAX)}…` : line });
              if (matches.length >= max) {
                at = begin + nl + 1;
                break scan;
              }
            }
          }
          i = nl + 1;
        }
        at = end;
      }
      const nextStart = at < log.size ? Math.min(at, log.size) : null;
      return { file: name, query, size: log.size, fileId: log.fileId, start: Math.min(Math.max(0, start), log.size), nextStart, matches };
    } finally {
      await log.fd.close();
    }
  }

  private fileName(file: string | null): string {
    const name = file ?? LOG_FILE;
    if (!isLogFileName(name, this.filesMax)) throw squallError('ERR_LOG_NOT_FOUND', `no log file ${JSON.stringify(name.slice(0, 80))}`);
    return name;
  }

  /** The worker's directory must be a real directory inside the logs root (no link out of it). */
  private async checkDir(): Promise<void> {
    const [root, dir] = await Promise.all([fs.promises.realpath(this.logsRoot).catch(() => null), fs.promises.realpath(this.dir).catch(() => null)]);
    if (root === null || dir === null || !dir.startsWith(root + path.sep)) throw squallError('ERR_LOG_NOT_FOUND', 'this worker has no log');
  }

  private async open(name: string): Promise<OpenLog> {
    await this.checkDir();
    let fd: fs.promises.FileHandle;
    try {
      fd = await fs.promises.open(path.join(this.dir, name), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    } catch {
      throw squallError('ERR_LOG_NOT_FOUND', `no log file ${name}`);
    }
    const st = await fd.stat({ bigint: true });
    if (!st.isFile()) {
      await fd.close();
      throw squallError('ERR_LOG_NOT_FOUND', `no log file ${name}`);
    }
    // The birth time tells files apart that reuse an inode: rotation deletes the oldest file just
    // before it creates the new one, so with N files the same inode comes back every N rotations.
    return { fd, size: Number(st.size), fileId: `${st.dev}:${st.ino}:${st.birthtimeNs}` };
  }
}

/**
 * The whole lines within [from, to): a partial first line is skipped (unless `from` starts a line)
 * and a partial last line is left for the next window (unless `to` is the end of the file). A
 * window without any line break is `raw` for a page (the bytes as they are, so a line longer than
 * a page still pages) and empty for a search (which moves on past it).
 */
async function readWindow(fd: fs.promises.FileHandle, from: number, to: number, size: number, mode: 'raw' | 'lines'): Promise<{ bytes: Buffer; begin: number; end: number }> {
  if (to <= from) return { bytes: Buffer.alloc(0), begin: from, end: from };
  const lead = from > 0 ? 1 : 0;
  const buf = Buffer.alloc(to - from + lead);
  const { bytesRead } = await fd.read(buf, 0, buf.length, from - lead);
  const b = buf.subarray(0, bytesRead);
  const origin = from - lead;
  let s = 0;
  if (lead === 1) {
    const nl = b.indexOf(NEWLINE);
    if (nl < 0) {
      if (mode === 'lines') return { bytes: Buffer.alloc(0), begin: to, end: to };
      s = 1;
    } else s = nl + 1;
  }
  let e = b.length;
  if (origin + e < size) {
    const last = b.lastIndexOf(NEWLINE);
    if (last >= s) e = last + 1;
    else if (mode === 'lines') return { bytes: Buffer.alloc(0), begin: to, end: to };
  }
  if (e < s) e = s;
  return { bytes: b.subarray(s, e), begin: origin + s, end: origin + e };
}
