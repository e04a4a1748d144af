#!/bin/bash
# The test command: sets up a fresh Debian machine and runs every test tier.
# Ends with the line "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
bash image-build/host-setup.sh
bash image-build/arm64-setup.sh
dovelab() { node dist/agent/cli.js "$@"; }
dovelab engine start
dovelab images build

# The arm64 tier's slow part (the Pi's images built under emulation, the chroot check's Debian
# root), started now in the background at the lowest CPU and I/O priority while the amd64 tiers
# run. Both are cached outside the clone by the hash of their inputs (/var/cache/dovelab); the
# arm64 tier builds again, which waits for these and then checks the cache (recipe hash, tar
# size and sha256; the root's key and dpkg's list): a failed background job is redone in the tier
# (image-build/arm64-prepare.sh).
mkdir -p dist
prepare_log=dist/arm64-prepare.log
setsid bash image-build/arm64-prepare.sh > "$prepare_log" 2>&1 < /dev/null &
prepare=$!
trap 'kill -TERM -- -$prepare 2>/dev/null || true' EXIT
echo "arm64 tier: images and the chroot root being prepared in the background (log: $prepare_log)"

# npm test owns the stack for its whole run (tiers run one after another; where others share
# the machine, the whole run goes under the stack lock): the arm64 tier does not lock again.
export DOVELAB_TEST_OWNS_STACK=1
node dist/test/run.js unit integration e2e arm64
