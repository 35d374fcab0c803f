#!/usr/bin/env bash
# Makes sure the servers the test suites start for themselves are on this machine: Debian's
# zookeeper (test/cluster), redis-server, nats-server, mosquitto, postgresql, rabbitmq-server
# (state backends and connectors) and chromium (the web UI's browser tests). Each suite starts its
# own throwaway server on a free port (bench/servers/); nothing is started here, and the packages'
# own services are not needed (there is no systemd).
#
# Exit 0 when everything is there or was installed; 1 when something is missing and we cannot
# install it (not root: the one command to run is printed); apt-get's status when it fails.
set -euo pipefail

# package -> a file it installs
declare -A WANT=(
  [zookeeper]=/usr/share/java/zookeeper.jar
  [redis-server]=/usr/bin/redis-server
  [nats-server]=/usr/sbin/nats-server
  [mosquitto]=/usr/sbin/mosquitto
  [postgresql]=/usr/lib/postgresql/15/bin/postgres
  [rabbitmq-server]=/usr/lib/rabbitmq/bin/rabbitmq-server
  [chromium]=/usr/bin/chromium
)

missing=()
for pkg in "${!WANT[@]}"; do
  [ -e "${WANT[$pkg]}" ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

IFS=$'\n' missing=($(sort <<<"${missing[*]}")); unset IFS
INSTALL_CMD="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-packages: missing ${missing[*]}. Install them with:" >&2
  echo "  sudo sh -c '$INSTALL_CMD'" >&2
  exit 1
fi

echo "ensure-packages: installing ${missing[*]} (Debian packages)" >&2
apt-get update -qq
# policy-rc.d 101: packages must not try to start their services while installing
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && made_policy=1
fi
status=0
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null || status=$?
[ "$made_policy" -eq 1 ] && rm -f "$policy"
[ "$status" -eq 0 ] || exit "$status"

for pkg in "${missing[@]}"; do
  if [ ! -e "${WANT[$pkg]}" ]; then
    echo "ensure-packages: apt-get installed $pkg but ${WANT[$pkg]} is still missing" >&2
    exit 1
  fi
done
echo "ensure-packages: installed ${missing[*]}" >&2
