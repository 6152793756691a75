#!/usr/bin/env bash
# Runs Azurite's blob, queue and table services for run.sh, and stops them in the one way that keeps their data.
#
#   scripts/azurite.sh DIR BLOB_PORT QUEUE_PORT TABLE_PORT    (data in DIR/blob, DIR/queue, DIR/table)
#
# Azurite holds its data in memory and writes it to disk every 5 s and when it shuts down gracefully.
# azurite-table shuts down gracefully on SIGINT only: SIGTERM and SIGKILL lose everything written since the last
# save (measured: docs/operations.md, "Local data durability"). So run.sh starts this script in a session of its
# own (setsid), out of reach of signals sent to run.sh's process group (Ctrl+C in a terminal, kill -TERM -<pgid>),
# and this script stops Azurite with SIGINT, and waits for it, when its stdin reaches end of file: when run.sh
# closes the pipe after the app has stopped, or when run.sh itself dies.
set -euo pipefail

dir=$1 blob_port=$2 queue_port=$3 table_port=$4
bin="$(cd "$(dirname "$0")/.." && pwd)/node_modules/.bin"

pids=()
start() {
  local service=$1 port=$2
  mkdir -p "$dir/$service"
  "$bin/azurite-$service" "--${service}Host" 127.0.0.1 "--${service}Port" "$port" --location "$dir/$service" \
    --silent --disableTelemetry --skipApiVersionCheck </dev/null &
  pids+=($!)
}

stop() {
  trap '' INT TERM HUP
  kill -INT "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" || true
}
trap 'stop; exit 0' INT TERM HUP

# Separate processes: a queue clean-up pause in Azurite then does not freeze table or blob requests.
start blob "$blob_port"
start queue "$queue_port"
start table "$table_port"

# Block until the caller closes the pipe (or dies); a trapped signal ends `read` at once too.
while read -r _; do :; done
stop
