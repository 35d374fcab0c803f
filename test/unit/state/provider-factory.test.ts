import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { errorCode, resolveTopologyConfig } from '../../../topology-api';
import { MemoryStateStorage } from '../../../worker/state/memory-backend';
import { createStateProvider, sqliteStateFile } from '../../../worker/state/provider';

describe('createStateProvider', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-provider-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('defaults to sqlite in the worker’s state directory, one file per topology name', async () => {
    const p = createStateProvider(resolveTopologyConfig({}), { topology: 'word count/1', dir });
    expect(p.name).toBe('sqlite');
    const s = await p.newState<string, number>('count');
    s.put('a', 1);
    await s.prepareCommit(1);
    await s.commit(1);
    await p.close();
    expect(fs.existsSync(sqliteStateFile(dir, 'word count/1'))).toBe(true);
    expect(path.basename(sqliteStateFile(dir, 'word count/1'))).toBe('word%20count%2F1.sqlite');
    const again = createStateProvider(resolveTopologyConfig({}), { topology: 'word count/1', dir });
    expect((await again.newState<string, number>('count')).get('a')).toBe(1);
    const other = createStateProvider(resolveTopologyConfig({}), { topology: 'other', dir });
    expect((await other.newState<string, number>('count')).size).toBe(0);
    await Promise.all([again.close(), other.close()]);
  });

  it('takes the directory from the provider config over the worker’s', async () => {
    const own = path.join(dir, 'own');
    const conf = resolveTopologyConfig({ 'topology.state.provider.config': JSON.stringify({ dir: own, synchronous: 'normal' }) });
    const p = createStateProvider(conf, { topology: 't', dir: path.join(dir, 'worker') });
    await (await p.newState('n')).prepareCommit(1);
    await p.close();
    expect(fs.existsSync(sqliteStateFile(own, 't'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'worker'))).toBe(false);
  });

  it('refuses sqlite without any directory, when a state is opened', async () => {
    const p = createStateProvider(resolveTopologyConfig({}), { topology: 't', dir: null });
    let code: string | undefined;
    try {
      await p.newState('n');
    } catch (err) {
      code = errorCode(err);
    }
    expect(code).toBe('ERR_CONFIG_INVALID');
    await p.close();
  });

  it('memory: state outlives a provider when the storage does (local mode worker restarts)', async () => {
    const storage = new MemoryStateStorage();
    const conf = resolveTopologyConfig({ 'topology.state.provider': 'memory', 'topology.state.max.key.groups': 4 });
    const first = createStateProvider(conf, { topology: 't', dir: null, memory: storage });
    const s = await first.newState<string, string>('n', { keyGroups: [0, 1, 2, 3] });
    s.put('k', 'v');
    await s.prepareCommit(1);
    await s.commit(1);
    await first.close();
    await expect(first.newState('n')).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    const second = createStateProvider(conf, { topology: 't', dir: null, memory: storage });
    expect((await second.newState<string, string>('n')).get('k')).toBe('v');
    await expect(second.newState('n', { keyGroups: [4] })).rejects.toThrow(RangeError);
    await second.close();
  });

  it('closing abandons a prepare in flight, lets a commit in flight finish, and closes every state', async () => {
    const storage = new MemoryStateStorage();
    const conf = resolveTopologyConfig({ 'topology.state.provider': 'memory' });
    const p = createStateProvider(conf, { topology: 't', dir: null, memory: storage });
    const s = await p.newState<number, number>('n');
    for (let i = 0; i < 10_000; i++) s.put(i, i);
    await s.prepareCommit(1);
    const committing = s.commit(1);
    s.put(-1, -1);
    const preparing = s.prepareCommit(2);
    await p.close();
    await committing;
    await expect(preparing).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    await expect(s.prepareCommit(3)).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    const again = createStateProvider(conf, { topology: 't', dir: null, memory: storage });
    const r = await again.newState<number, number>('n');
    expect(r.size).toBe(10_000);
    expect(r.checkpointStats().committedTxid).toBe(1);
    await again.close();
  });
});
