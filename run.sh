#!/usr/bin/env bash
# Sets everything up and runs ThreePL Connect locally on http://127.0.0.1:7071 against Azurite.
# Data lives under .data/ (ignored by git). Ctrl+C stops the app and Azurite.
source "$(dirname "$0")/scripts/common.sh"
cd "$repo_root"
require_tools
ensure_node_modules

table_port="${AZURITE_TABLE_PORT:-10002}"
queue_port="${AZURITE_QUEUE_PORT:-10001}"
mkdir -p .data/azurite/table .data/azurite/queue .data/mail

echo "==> Building"
dotnet build src/LocalHost/ThreePL.LocalHost.csproj -c Debug -nologo -v quiet

echo "==> Starting Azurite (tables :$table_port, queues :$queue_port)"
# Separate processes: a queue clean-up pause in Azurite then does not freeze table requests.
node_modules/.bin/azurite-table --tableHost 127.0.0.1 --tablePort "$table_port" --location .data/azurite/table \
  --silent --disableTelemetry --skipApiVersionCheck &
table_pid=$!
node_modules/.bin/azurite-queue --queueHost 127.0.0.1 --queuePort "$queue_port" --location .data/azurite/queue \
  --silent --disableTelemetry --skipApiVersionCheck &
queue_pid=$!
trap 'kill $table_pid $queue_pid 2>/dev/null; wait $table_pid $queue_pid 2>/dev/null' EXIT
wait_for_port "$table_port" "Azurite (tables)"
wait_for_port "$queue_port" "Azurite (queues)"

dev_key="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
export AzureWebJobsStorage="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$dev_key;TableEndpoint=http://127.0.0.1:$table_port/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$queue_port/devstoreaccount1;"

echo "==> ThreePL Connect on ${ThreePL__Urls:-http://127.0.0.1:7071} (Ctrl+C to stop)"
# The Functions host cannot be installed here; the development host runs the same function classes.
dotnet src/LocalHost/bin/Debug/net10.0/ThreePL.LocalHost.dll
