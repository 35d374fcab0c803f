/**
 * ZooKeeper for the chaos run: the throwaway server of bench/servers/zookeeper.ts (the same one
 * the cluster tests use), with a tickTime of 500 ms.
 */
import { startZooKeeper as startServer, type ZooKeeperServer } from '../servers/zookeeper';

export { freePort } from '../servers/managed';
export type ChaosZooKeeper = ZooKeeperServer;

export function startZooKeeper(tickTimeMs = 500): Promise<ChaosZooKeeper> {
  return startServer({ tickTimeMs, readyTimeoutMs: 20_000 });
}
