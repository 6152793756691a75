#!/usr/bin/env bash
# End-to-end benchmark (docs/performance.md): builds the app (Release, plus a ReadyToRun publish for the
# cold-start comparison), starts its own in-memory Azurite, runs bench/EndToEnd and prints Markdown.
# Options go to the program, e.g. ./bench/run.sh --orders 1000 --connections 1,20,200 --large 10000
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x node_modules/.bin/azurite-table ] || npm ci --no-audit --no-fund
dotnet build src/Functions/ThreePL.Functions.csproj -c Release -nologo -v quiet
r2r="$PWD/bench/EndToEnd/bin/r2r"
if dotnet publish src/Functions/ThreePL.Functions.csproj -c Release -r linux-x64 --self-contained false \
     -p:PublishReadyToRun=true -o "$r2r" -nologo -v quiet >/dev/null 2>&1; then
  r2r_args=(--r2r-dll "$r2r/ThreePL.Functions.dll")
else
  echo "ReadyToRun publish failed; cold start measured without it" >&2
  r2r_args=()
fi
dotnet build bench/EndToEnd -c Release -nologo -v quiet
mkdir -p bench/EndToEnd/bin
exec dotnet bench/EndToEnd/bin/Release/net10.0/ThreePL.Bench.EndToEnd.dll "${r2r_args[@]}" --out bench/EndToEnd/bin/results.md "$@"
