# Shared by run.sh and test.sh: install what the repository pins, nothing more.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# npm ci is slow; skip it when node_modules already matches the committed lock file.
ensure_node_modules() {
  local stamp="$repo_root/node_modules/.package-lock.json"
  if [ ! -x "$repo_root/node_modules/.bin/azurite-table" ] || [ ! -x "$repo_root/node_modules/.bin/redocly" ] || [ "$repo_root/package-lock.json" -nt "$stamp" ]; then
    echo "==> npm ci (Azurite and Redocly CLI, pinned by package-lock.json)"
    (cd "$repo_root" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

require_tools() {
  command -v dotnet >/dev/null || { echo "The .NET 10 SDK is required (dotnet not found)." >&2; exit 1; }
  command -v npm >/dev/null || { echo "Node.js and npm are required (npm not found)." >&2; exit 1; }
}

# wait_for_port PORT NAME [PID]: gives up early when PID (the process that should listen) has exited.
wait_for_port() {
  local port=$1 name=$2 pid=${3:-}
  for _ in $(seq 1 150); do
    if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.2
  done
  echo "$name did not start listening on 127.0.0.1:$port" >&2
  return 1
}

# The approval-page tests drive Debian's Chromium; install it when it is missing (needs root, as on CI).
ensure_chromium() {
  if [ -n "${CHROMIUM_PATH:-}" ] || command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then
    return 0
  fi
  echo "==> apt-get install chromium (for the approval-page browser test)"
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
}
