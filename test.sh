#!/usr/bin/env bash
# Sets everything up and runs every test. The test fixtures start their own Azurite on free ports.
source "$(dirname "$0")/scripts/common.sh"
cd "$repo_root"
require_tools
ensure_node_modules
ensure_chromium

results="$repo_root/.data/test-results"
rm -rf "$results"
mkdir -p "$results"

echo "==> dotnet test"
status=0
dotnet test ThreePL.sln -c Release -nologo --logger "trx" --results-directory "$results" "$@" || status=$?

# One plain closing line over all test assemblies, summed from the result files.
passed=0 failed=0 skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  n=$(sed -n 's/.* notExecuted="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${n:-0}))
done
if [ "$passed" -eq 0 ] && [ "$status" -eq 0 ]; then
  echo "No tests ran." >&2
  status=1
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status
