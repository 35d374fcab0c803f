#!/usr/bin/env bash
# Runs a command while the in-process word count (`squall local`, CPU-bound: one core each) runs
# beside it N times, as on a shared CI machine; stops them by PID when the command ends.
#
#   scripts/busy-machine.sh [-n N] -- <command...>     (default N=1)
#
# e.g. scripts/busy-machine.sh -n 2 -- npx jest test/cluster test/integration
set -euo pipefail
cd "$(dirname "$0")/.."
n=1
if [ "${1:-}" = "-n" ]; then n=$2; shift 2; fi
[ "${1:-}" = "--" ] && shift
[ $# -gt 0 ] || { echo "usage: $0 [-n N] -- <command...>" >&2; exit 2; }
[ -f dist/cli/main.js ] || node scripts/build.js
pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT
for _ in $(seq "$n"); do
  node bin/squall.js local examples/word-count/topology.ts --duration 86400 --no-progress >/dev/null 2>&1 &
  pids+=($!)
done
status=0
"$@" || status=$?
exit "$status"
