#!/usr/bin/env bash
# The Node.js that development, `npm test`, the bench and CI run on: the release the single
# executables embed (NODE_VERSION in deploy/build/binary-targets.ts), from the npm registry package
# node-linux-<arch>. Installs it once and prints its bin directory:
#
#   export PATH="$(bash deploy/node-runtime.sh):$PATH"
#
# Same cache and layout as the binary build's runtime (deploy/build/node-runtime.ts), so one
# download serves both. Only npm and tar are needed: the machine's own Node may be any version.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="$(sed -n "s/^export const NODE_VERSION = '\([0-9][0-9.]*\)';.*/\1/p" "$root/deploy/build/binary-targets.ts")"
if [ -z "$version" ]; then
  echo "node-runtime.sh: no NODE_VERSION in deploy/build/binary-targets.ts" >&2
  exit 1
fi
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "node-runtime.sh: unsupported machine $(uname -m) (need x86_64 or aarch64)" >&2; exit 1 ;;
esac
cache="${EG_BINARY_CACHE_DIR:-$HOME/.cache/edge-gateway/binary}"
dir="$cache/node-v$version-linux-$arch"

if [ "$("$dir/bin/node" --version 2>/dev/null)" != "v$version" ]; then
  mkdir -p "$cache"
  tmp="$(mktemp -d "$cache/tmp-node-sh-XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  echo "node-runtime.sh: npm pack node-linux-$arch@$version -> $dir" >&2
  # npm refuses to *install* a package whose engines/cpu do not match; pack + untar never checks.
  npm pack "node-linux-$arch@$version" --pack-destination "$tmp" --silent >/dev/null
  tar -xzf "$tmp"/node-linux-"$arch"-"$version".tgz -C "$tmp"
  "$tmp/package/bin/node" --version >/dev/null
  rm -rf "$dir"
  # Rename into place: a concurrent or interrupted install never leaves a half-extracted runtime.
  mv "$tmp/package" "$dir"
fi
echo "$dir/bin"
