import * as fs from 'node:fs';
import { squallError } from '../topology-api';
import { DAEMON_CONFIG_SPEC, resolveDaemonConfig, type DaemonConfig } from '../common/config';
import { parseConfigArgs } from './config-args';

export interface ConfigArgs {
  config?: string;
  c?: string[];
}

/**
 * Daemon configuration for a CLI command: defaults < the JSON file given with --config (or
 * $SQUALL_CONF) < -c key=value flags < command-specific flags. Validated once, frozen.
 */
export function loadDaemonConfig(
  args: ConfigArgs,
  flags: Record<string, unknown> = {},
  options: { userKeysToTopology?: boolean } = {},
): { daemon: DaemonConfig; topology: Record<string, unknown> } {
  const file = args.config ?? process.env.SQUALL_CONF;
  let fromFile: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw squallError('ERR_CONFIG_INVALID', `cannot read config file ${file}: ${(err as Error).message}`);
    }
    try {
      fromFile = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw squallError('ERR_CONFIG_INVALID', `config file ${file} is not JSON: ${(err as Error).message}`);
    }
    if (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile)) throw squallError('ERR_CONFIG_INVALID', `config file ${file} must hold a JSON object`);
  }
  const overrides = parseConfigArgs(args.c);
  const topology: Record<string, unknown> = {};
  const daemon: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fromFile)) (k.startsWith('topology.') ? topology : daemon)[k] = v;
  // `submit -c key=value`: a key that is not a daemon key is the topology's own (Storm's `storm jar -c`).
  const toTopology = (k: string): boolean => k.startsWith('topology.') || (options.userKeysToTopology === true && !Object.hasOwn(DAEMON_CONFIG_SPEC, k));
  for (const [k, v] of Object.entries(overrides)) (toTopology(k) ? topology : daemon)[k] = v;
  return { daemon: resolveDaemonConfig(daemon, flags), topology };
}

export function nimbusUrl(conf: DaemonConfig, override?: string): string {
  if (override) return override.includes('://') ? override : `http://${override}`;
  return `http://${conf['nimbus.host'] as string}:${conf['nimbus.port'] as number}`;
}
