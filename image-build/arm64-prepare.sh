#!/bin/bash
# The slow, cacheable part of the arm64 tier, for `npm test` to start in the background while its
# amd64 tiers run: the Pi's container images built for arm64 under emulation (into
# $DOVELAB_CACHE/arm64-images, default /var/cache/dovelab) and the chroot check's Debian arm64
# root (arm64-chroot-check.sh --base-only), both at once, at the lowest CPU and I/O priority.
# Nothing here is a test: the arm64 tier builds again, which waits for these jobs (their locks)
# and then checks the cache itself (recipe hash, tar size and sha256; the root's key and dpkg's
# package list), so a job that failed here is redone there and fails the tier if it fails again.
# Prints one timestamped line per step; ends with both exit codes. As root.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
cache=${DOVELAB_CACHE:-/var/cache/dovelab}
t0=$(date +%s)
stamp() { while IFS= read -r l; do printf '[%s +%ss %s] %s\n' "$(date -u +%T)" "$(( $(date +%s) - t0 ))" "$1" "$l"; done; }
nice -n 19 ionice -c 3 node dist/agent/cli.js images build --arch arm64 --out "$cache/arm64-images" 2>&1 | stamp images &
images=$!
nice -n 19 ionice -c 3 bash image-build/arm64-chroot-check.sh --base-only 2>&1 | stamp chroot &
chroot=$!
wait "$images"; a=$?
wait "$chroot"; b=$?
echo "arm64 prepare: images exit $a, chroot root exit $b, after $(( $(date +%s) - t0 )) s"
