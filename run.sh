#!/usr/bin/env bash
# Sets everything up and runs ThreePL Connect locally on http://127.0.0.1:7071 against Azurite (blob, queue, table),
# with data under $THREEPL_DATA_DIR (default .data, ignored by git).
#
# run.sh supervises the app as the Functions host supervises its worker: when the app dies it is started again,
# at once, or after a growing pause when it keeps dying right after starting; Azurite keeps running meanwhile.
# Ctrl+C, or SIGTERM to run.sh or to its process group, stops the app, then stops Azurite in the way that saves
# its data (scripts/azurite.sh) and waits for it.
#
# Environment: AZURITE_BLOB_PORT (10000), AZURITE_QUEUE_PORT (10001), AZURITE_TABLE_PORT (10002),
# THREEPL_DATA_DIR (.data), ThreePL__Urls (http://127.0.0.1:7071), ThreePL__Email__PickupDirectory
# ($THREEPL_DATA_DIR/mail), THREEPL_APP_DLL (an already built ThreePL.LocalHost.dll to run instead of building;
# the tests pass their own so that run.sh does not build next to them).
source "$(dirname "$0")/scripts/common.sh"
cd "$repo_root"
require_tools
ensure_node_modules

blob_port="${AZURITE_BLOB_PORT:-10000}"
queue_port="${AZURITE_QUEUE_PORT:-10001}"
table_port="${AZURITE_TABLE_PORT:-10002}"
mkdir -p "${THREEPL_DATA_DIR:-.data}"
data_dir="$(cd "${THREEPL_DATA_DIR:-.data}" && pwd)"
export ThreePL__Email__PickupDirectory="${ThreePL__Email__PickupDirectory:-$data_dir/mail}"
mkdir -p "$ThreePL__Email__PickupDirectory"

if [ -n "${THREEPL_APP_DLL:-}" ]; then
  app_dll=$THREEPL_APP_DLL
  [ -f "$app_dll" ] || { echo "THREEPL_APP_DLL: no such file: $app_dll" >&2; exit 1; }
else
  echo "==> Building"
  dotnet build src/LocalHost/ThreePL.LocalHost.csproj -c Debug -nologo -v quiet
  app_dll=src/LocalHost/bin/Debug/net10.0/ThreePL.LocalHost.dll
fi

app_pid=""
stopping=""

# `wait` returns early when a trapped signal arrives: wait again until the process has really exited.
wait_for_exit() {
  local status=0
  while :; do
    wait "$1" && status=0 || status=$?
    kill -0 "$1" 2>/dev/null || return "$status"
  done
}

# The first Ctrl+C (or SIGTERM) asks the app to shut down; a second one kills it. Azurite is stopped after it either way.
request_stop() {
  local signal=TERM
  if [ -n "$stopping" ]; then signal=KILL; fi
  if [ -n "$app_pid" ]; then
    echo "==> Stopping the app (SIG$signal)"
    kill "-$signal" "$app_pid" 2>/dev/null || true
  fi
  stopping=1
}

stop_everything() {
  if [ -z "$stopping" ]; then request_stop; fi
  if [ -n "$app_pid" ]; then wait_for_exit "$app_pid" || true; fi
  if [ -n "${azurite_pid:-}" ]; then
    echo "==> Stopping Azurite (it saves its data on the way out)"
    exec 9>&-   # end of file for scripts/azurite.sh, which stops Azurite with SIGINT and waits for it
    wait_for_exit "$azurite_pid" || true
  fi
}
trap request_stop INT TERM HUP
trap stop_everything EXIT

echo "==> Starting Azurite (blobs :$blob_port, queues :$queue_port, tables :$table_port; data in $data_dir/azurite)"
# Fd 9 is the pipe whose end tells scripts/azurite.sh to stop; only run.sh holds it (9>&- for everything else).
exec 9> >(exec setsid scripts/azurite.sh "$data_dir/azurite" "$blob_port" "$queue_port" "$table_port")
azurite_pid=$!
echo "==> Azurite runs as process group $azurite_pid"
wait_for_port "$blob_port" "Azurite (blobs)" "$azurite_pid"
wait_for_port "$queue_port" "Azurite (queues)" "$azurite_pid"
wait_for_port "$table_port" "Azurite (tables)" "$azurite_pid"

dev_key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
endpoint="http://127.0.0.1:%s/devstoreaccount1"
export AzureWebJobsStorage="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$dev_key;$(printf \
  "BlobEndpoint=$endpoint;QueueEndpoint=$endpoint;TableEndpoint=$endpoint;" "$blob_port" "$queue_port" "$table_port")"

# A crash right after starting is usually a broken build or configuration: restarting at once would only spin.
quick_exit_seconds=10
quick_exits=0
while [ -z "$stopping" ]; do
  started=$SECONDS
  # The Functions host cannot be installed here; the development host runs the same function classes.
  dotnet "$app_dll" 9>&- &
  app_pid=$!
  if [ -n "$stopping" ]; then kill -TERM "$app_pid" 2>/dev/null || true; fi   # a stop request came just now
  echo "==> ThreePL Connect on ${ThreePL__Urls:-http://127.0.0.1:7071}, app pid $app_pid (Ctrl+C stops it and Azurite)"
  wait_for_exit "$app_pid" && status=0 || status=$?
  app_pid=""
  [ -z "$stopping" ] || break

  ran=$((SECONDS - started))
  if [ "$status" -gt 128 ]; then why="was killed by SIG$(kill -l $((status - 128)))"; else why="exited with status $status"; fi
  if [ "$ran" -ge "$quick_exit_seconds" ]; then
    quick_exits=0
    echo "==> The app $why after $ran s; starting it again" >&2
    continue
  fi
  quick_exits=$((quick_exits + 1))
  pause=$((quick_exits > 5 ? 30 : 1 << (quick_exits - 1)))   # 1, 2, 4, 8, 16, 30, 30 … s
  echo "==> The app $why $ran s after starting; starting it again in $pause s (quick exit $quick_exits in a row:" \
    "if it keeps exiting at once, its output above says why)" >&2
  sleep "$pause" 9>&- &
  pause_pid=$!
  wait "$pause_pid" || true   # a stop request ends the pause at once
  kill "$pause_pid" 2>/dev/null || true
done
