#!/usr/bin/env bash
# End-to-end benchmark of issue 14 (docs/performance.md, "How to run"): builds the development host (src/LocalHost,
# Release; it brings the Functions app with it) and, except with --quick, a ReadyToRun publish of it for the
# cold-start comparison; installs Azurite if needed; runs bench/EndToEnd, which starts its own in-memory Azurites,
# a counting proxy and the app as a process, and prints Markdown ending with one `bench:` line.
# Options go to the program, e.g. ./bench/run.sh --quick, or ./bench/run.sh --connections 20,200 --large 10000.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x node_modules/.bin/azurite-table ] || npm ci --no-audit --no-fund
dotnet build src/LocalHost/ThreePL.LocalHost.csproj -c Release -nologo -v quiet
r2r_args=()
if [[ " $* " != *" --quick "* ]]; then
  r2r="$PWD/bench/EndToEnd/bin/r2r"
  if dotnet publish src/LocalHost/ThreePL.LocalHost.csproj -c Release -r linux-x64 --self-contained false \
       -p:PublishReadyToRun=true -o "$r2r" -nologo -v quiet >/dev/null 2>&1; then
    r2r_args=(--r2r-dll "$r2r/ThreePL.LocalHost.dll")
  else
    echo "ReadyToRun publish failed; cold start measured without it" >&2
  fi
fi
dotnet build bench/EndToEnd -c Release -nologo -v quiet
mkdir -p bench/EndToEnd/bin
exec dotnet bench/EndToEnd/bin/Release/net10.0/ThreePL.Bench.EndToEnd.dll "${r2r_args[@]}" --out "$PWD/bench/EndToEnd/bin/results.md" "$@"
