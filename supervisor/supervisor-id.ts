import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { cfg, type DaemonConfig } from '../common/config';
import { errorCode, squallError } from '../common/errors';
import type { Random } from '../common/random';

/** A usable id: one path segment of printable characters. */
const ID_PATTERN = /^[A-Za-z0-9._:@-]{1,128}$/;

/** `<storm.local.dir>/supervisor/id`. */
export function supervisorIdFile(config: DaemonConfig): string {
  return path.resolve(cfg.str(config, 'storm.local.dir'), 'supervisor', 'id');
}

/**
 * The supervisor's id: `supervisor.id` when configured, else the id kept in storm.local.dir,
 * else a new random UUID written there (atomically) so a restart keeps the same identity and
 * Nimbus sees the same node come back.
 */
export async function resolveSupervisorId(config: DaemonConfig, random: Random): Promise<string> {
  const configured = cfg.strOrNull(config, 'supervisor.id');
  if (configured !== null) return checkId(configured, '"supervisor.id"');
  const file = supervisorIdFile(config);
  try {
    return checkId((await fs.readFile(file, 'utf8')).trim(), file);
  } catch (err) {
    if (errorCode(err) !== 'ENOENT') throw err;
  }
  const id = uuid(random);
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, `${id}\n`, { mode: 0o644 });
  await fs.rename(tmp, file);
  return id;
}

function checkId(id: string, source: string): string {
  if (!ID_PATTERN.test(id)) throw squallError('ERR_CONFIG_INVALID', `${source}: supervisor id ${JSON.stringify(id)} must be 1-128 of A-Z a-z 0-9 . _ : @ -`);
  return id;
}

/** A version-4 UUID from the injected random source. */
export function uuid(random: Random): string {
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 16; i += 4) new DataView(bytes.buffer).setInt32(i, random.next32());
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
