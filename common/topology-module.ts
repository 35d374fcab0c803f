import { isStormTopology, squallError, type StormTopology, type TopologyConfig } from '../topology-api';

/** What a topology module may export (see docs/writing-topologies.md). */
export interface LoadedTopology {
  topology: StormTopology;
  /** The module's `config` export, if any. */
  config: TopologyConfig;
}

function isBuilderLike(value: unknown): value is { createTopology(): unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { createTopology?: unknown }).createTopology === 'function';
}

/**
 * Resolves a topology module's exports, the same way for `squall local`, `squall submit`, Nimbus's
 * bundle check and workers: the default export (or `topology`, or the CommonJS export itself) is a
 * TopologyBuilder, a created topology, or a function (possibly async) returning either. Duck-typed:
 * the module carries its own copy of the topology API.
 */
export async function resolveTopologyExport(exports: unknown, where: string): Promise<LoadedTopology> {
  const mod = (typeof exports === 'object' || typeof exports === 'function') && exports !== null ? (exports as Record<string, unknown>) : {};
  let value: unknown = mod.default ?? mod.topology ?? exports;
  if (typeof value === 'object' && value !== null && 'default' in value && !isBuilderLike(value) && !isStormTopology(value)) value = (value as { default: unknown }).default;
  if (typeof value === 'function') {
    try {
      value = await (value as () => unknown)();
    } catch (err) {
      throw squallError('ERR_TOPOLOGY_LOAD', `${where}: the exported function threw: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
  if (isBuilderLike(value)) value = value.createTopology();
  if (!isStormTopology(value)) {
    throw squallError(
      'ERR_TOPOLOGY_LOAD',
      `${where} must export (default) a TopologyBuilder, the result of createTopology(), or a function returning one`,
    );
  }
  const config = mod.config;
  if (config !== undefined && (typeof config !== 'object' || config === null || Array.isArray(config))) {
    throw squallError('ERR_TOPOLOGY_LOAD', `${where}: the "config" export must be an object`);
  }
  return { topology: value, config: (config as TopologyConfig) ?? {} };
}
