import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { text } from 'node:stream/consumers';
import { BundleStore } from '../../../nimbus/bundle-store';

describe('BundleStore', () => {
  let dir: string;
  let store: BundleStore;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-bundles-'));
    store = new BundleStore({ dir: path.join(dir, 'bundles'), bytesMax: 2048 });
    await store.init();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const code = Buffer.from('module.exports = 42;\n');
  const sha = createHash('sha256').update(code).digest('hex');

  test('stores content-addressed under <hash>.js, once', async () => {
    const stored = await store.put(code);
    expect(stored).toEqual({ hash: sha, bytes: code.length, path: path.join(dir, 'bundles', `${sha}.js`) });
    expect(fs.readFileSync(stored.path)).toEqual(code);
    expect(await store.put(code)).toEqual(stored);
    expect(await store.list()).toEqual([sha]);
    expect(fs.readdirSync(path.join(dir, 'bundles'))).toEqual([`${sha}.js`]);
  });

  test('refuses a bundle over the cap with ERR_BUNDLE_TOO_LARGE and writes nothing', async () => {
    await expect(store.put(Buffer.alloc(2049))).rejects.toMatchObject({ code: 'ERR_BUNDLE_TOO_LARGE' });
    expect(await store.list()).toEqual([]);
    expect((await store.put(Buffer.alloc(2048))).bytes).toBe(2048);
  });

  test('opens a stream of the bytes with their size', async () => {
    await store.put(code);
    const { stream, bytes } = await store.open(sha);
    expect(bytes).toBe(code.length);
    expect(await text(stream)).toBe(code.toString());
  });

  test('missing or malformed hashes are ERR_BUNDLE_NOT_FOUND', async () => {
    await expect(store.open('0'.repeat(64))).rejects.toMatchObject({ code: 'ERR_BUNDLE_NOT_FOUND' });
    await expect(store.open('../../etc/passwd')).rejects.toMatchObject({ code: 'ERR_BUNDLE_NOT_FOUND' });
    expect(await store.has('../x')).toBe(false);
    expect(() => store.pathOf('ABC')).toThrow(expect.objectContaining({ code: 'ERR_BUNDLE_NOT_FOUND' }));
  });

  test('deletes (a missing bundle is fine) and init clears temp files a crash left', async () => {
    await store.put(code);
    await store.delete(sha);
    await store.delete(sha);
    expect(await store.has(sha)).toBe(false);
    fs.writeFileSync(path.join(dir, 'bundles', `.tmp-${sha}-abc`), 'half');
    await store.init();
    expect(fs.readdirSync(path.join(dir, 'bundles'))).toEqual([]);
  });

  test('lists nothing when the directory does not exist yet', async () => {
    expect(await new BundleStore({ dir: path.join(dir, 'nope'), bytesMax: 10 }).list()).toEqual([]);
  });
});
