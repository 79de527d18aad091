#!/usr/bin/env bash
# Runs a command on the project's Node.js (the 24 LTS release the single executables embed),
# fetched once by node-runtime.sh, first on PATH: `npm start`, `npm test`, the bench and the builds
# go through here, so they run on that Node whichever Node started npm (e.g. Debian's 20).
#
#   bash deploy/with-node.sh node build/gateway/src/main.js --version
set -euo pipefail
bin="$(bash "$(dirname "$0")/node-runtime.sh")"
export PATH="$bin:$PATH"
exec "$@"
