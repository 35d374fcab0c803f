import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryBackend, MemoryStateStorage } from '../../../worker/state/memory-backend';
import { SqliteBackend } from '../../../worker/state/sqlite-backend';
import { describeStateBackendContract } from '../../helpers/state-backend-contract';

describe('memory state backend', () => {
  let storage: MemoryStateStorage;
  beforeEach(() => {
    storage = new MemoryStateStorage();
  });
  describeStateBackendContract('memory', () => ({ backend: () => new MemoryBackend(storage, 'topo') }));
});

describe('sqlite state backend', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-state-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  describeStateBackendContract('sqlite', () => ({ backend: () => new SqliteBackend({ file: path.join(dir, 'topo.sqlite') }) }));
});
