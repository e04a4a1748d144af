#!/bin/bash
# The test command: sets up a fresh Debian machine and runs every test tier.
# Ends with the line "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
bash image-build/host-setup.sh
dovelab() { node dist/agent/cli.js "$@"; }
dovelab engine start
dovelab images build
node dist/test/run.js unit integration e2e
