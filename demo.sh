#!/usr/bin/env bash
# The guided tour. Start the app first with ./run.sh in another terminal, then run ./demo.sh.
# THREEPL_URL, THREEPL_ADMIN_KEY and THREEPL_MAIL_DIR override the local defaults.
set -euo pipefail
cd "$(dirname "$0")"
command -v node >/dev/null || { echo "Node.js is required." >&2; exit 1; }
exec node scripts/demo.mjs
