#!/usr/bin/env bash
# Makes sure a ZooKeeper server jar is on this machine for test/cluster (the tests start their own
# throwaway server from it; no service is started here).
#
# Debian's `zookeeper` package puts zookeeper.jar (whose manifest pulls in the rest) in
# /usr/share/java. Exit 0 when it is there or was installed, 1 when it is missing and we cannot
# install it (not root), non-zero from apt-get when the install fails.
set -euo pipefail

JAR=/usr/share/java/zookeeper.jar
INSTALL_CMD='apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y zookeeper'

if [ -f "$JAR" ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-zookeeper: $JAR is missing. Install ZooKeeper with:" >&2
  echo "  sudo sh -c '$INSTALL_CMD'" >&2
  exit 1
fi

echo "ensure-zookeeper: $JAR is missing; installing Debian's zookeeper package" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zookeeper >/dev/null

if [ ! -f "$JAR" ]; then
  echo "ensure-zookeeper: apt-get installed zookeeper but $JAR is still missing" >&2
  exit 1
fi
echo "ensure-zookeeper: installed $JAR" >&2
