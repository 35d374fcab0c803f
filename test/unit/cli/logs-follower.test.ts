/**
 * `squall logs --follow` across a rotation: the current file can be missing for a moment (renamed
 * before the next is created). The follower must read on from the same position next time, with
 * no line lost or repeated, instead of failing (seen once in CI under load).
 */
import { Follower } from '../../../cli/commands/logs';
import type { NimbusClient } from '../../../cli/nimbus-client';
import type { LogPage, WorkerEntry } from '../../../common/protocol/rest';
import { squallError } from '../../../topology-api';

/** Files by name with an id each; `missing` makes the current file absent for the next reads. */
class FakeLogs {
  files = new Map<string, { id: string; text: string }>([['worker.log', { id: 'a', text: '' }]]);
  missing = 0;

  append(line: string): void {
    this.files.get('worker.log')!.text += `${line}\n`;
  }

  rotate(nextId: string): void {
    this.files.set('worker.log.1', this.files.get('worker.log')!);
    this.files.set('worker.log', { id: nextId, text: '' });
  }

  client(): NimbusClient {
    return {
      workerLog: async (_t: string, _h: string, _p: number, q: { file?: string; start?: number; length?: number }): Promise<LogPage> => {
        const name = q.file ?? 'worker.log';
        if (name === 'worker.log' && this.missing > 0) {
          this.missing--;
          throw squallError('ERR_LOG_NOT_FOUND', 'no log file worker.log');
        }
        const f = this.files.get(name)!;
        const start = Math.min(q.start ?? 0, f.text.length);
        const end = Math.min(f.text.length, start + (q.length ?? 1 << 16));
        const files = [...this.files.entries()].map(([n, x]) => ({ name: n, size: x.text.length }));
        return { topologyId: 't', host: 'h', port: 1, file: name, files, size: f.text.length, fileId: f.id, start, end, text: f.text.slice(start, end) } as unknown as LogPage;
      },
    } as unknown as NimbusClient;
  }
}

describe('squall logs --follow: the Follower', () => {
  it('reads on after a moment with no current file (rotation), losing and repeating nothing', async () => {
    const logs = new FakeLogs();
    const follower = new Follower(logs.client(), 't', { host: 'h', port: 1 } as WorkerEntry, { fileId: 'a', end: 0 });
    const seen: string[] = [];
    logs.append('1');
    logs.append('2');
    seen.push(...(await follower.next()));
    logs.append('3');
    logs.rotate('b');
    logs.missing = 1; // renamed, the next not created yet
    seen.push(...(await follower.next()));
    logs.append('4');
    seen.push(...(await follower.next()));
    logs.append('5');
    logs.missing = 1;
    seen.push(...(await follower.next()));
    seen.push(...(await follower.next()));
    expect(seen).toEqual(['1', '2', '3', '4', '5']);
  });
});
