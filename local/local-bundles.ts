import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { squallError } from '../common/errors';
import type { LoadedTopology } from '../common/topology-module';
import type { BundleProbe, ProbedTopology } from '../nimbus/bundle-probe';
import type { BundleProvider } from '../supervisor/bundle-cache';
import { BundleStore } from '../nimbus/bundle-store';

/**
 * Local mode's bundles: the topology objects already live in this process, so the "bundle" Nimbus
 * stores is a small token naming one, and the in-process launcher looks the token's hash up here
 * instead of loading a file. Nimbus, supervisors and workers run unchanged around it.
 */
export class LocalBundles {
  private readonly byToken = new Map<string, LoadedTopology>();
  private readonly byHash = new Map<string, LoadedTopology>();

  /** Registers a topology and returns the bytes to submit for it. */
  register(loaded: LoadedTopology): Uint8Array {
    const token = `squall-local-topology:${randomUUID()}`;
    this.byToken.set(token, loaded);
    const bytes = Buffer.from(token);
    this.byHash.set(BundleStore.hashOf(bytes), loaded);
    return bytes;
  }

  forHash(hash: string): LoadedTopology {
    const loaded = this.byHash.get(hash);
    if (!loaded) throw squallError('ERR_BUNDLE_NOT_FOUND', `no local topology for bundle ${hash}`);
    return loaded;
  }

  /** Nimbus's probe: reads the token back and answers from the registered topology (no process). */
  readonly probe: BundleProbe = {
    probe: async (bundlePath: string): Promise<ProbedTopology> => {
      const token = await fs.readFile(bundlePath, 'utf8');
      const loaded = this.byToken.get(token);
      if (!loaded) throw squallError('ERR_BUNDLE_INVALID', 'not a local topology token');
      return { definition: loaded.topology.definition, config: { ...loaded.topology.config, ...loaded.config } };
    },
  };

  /** Supervisors' bundle provider: nothing to download; the launcher resolves the hash itself. */
  readonly provider: BundleProvider = {
    ensure: async (hash: string) => {
      this.forHash(hash);
      return `local:${hash}`;
    },
    retain: async () => undefined,
    close: async () => undefined,
  };
}
