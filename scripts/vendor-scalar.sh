#!/usr/bin/env bash
# Re-vendors the Scalar API Reference bundle served at /docs (see src/Functions/Http/ApiReference/README.md):
# `npm pack` of the pinned version, its dist/browser/standalone.js copied in and checked against the recorded hash.
# To move to another version, change both below and the README.
set -euo pipefail
version=1.76.0
sha256=dcb027152bf20bf2f6dcd66e8f9fb073c1a9e274cf0b94b939a7d99ab8947060
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "@scalar/api-reference@$version" --silent >/dev/null && tar xzf ./*.tgz package/dist/browser/standalone.js)
echo "$sha256  $work/package/dist/browser/standalone.js" | sha256sum --check --quiet
cp "$work/package/dist/browser/standalone.js" "$repo_root/src/Functions/Http/ApiReference/scalar-standalone.js"
echo "vendored @scalar/api-reference $version"
