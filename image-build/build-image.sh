#!/bin/bash
# Builds the Dovelab SD card image, dovelab-<version>-arm64.img.xz, with pi-gen (64-bit
# Raspberry Pi OS Lite from pi-gen's arm64 branch + pi-gen-config/stage-dovelab).
#   image-build/build-image.sh [--pi-gen DIR] [--out DIR] [--native]
# Needs a Linux machine with internet (Raspberry Pi OS packages, the npm registry) and either
# Docker (pi-gen's build-docker.sh, the default) or --native (pi-gen's build.sh on a Debian host
# with pi-gen's dependencies); about 10 GB of disk and, on amd64, qemu-user-static (binfmt_misc).
# It also needs the arm64 container image tars: dist/arm64/images/*.tar + manifest.json
# (image-build's arm64 build), which the first boot loads with `docker load`.
#   --pi-gen DIR   a clone of pi-gen's arm64 branch (default: cloned into .build/pi-gen)
#   --out DIR      where the image goes (default: dist/pi)
# The first user's password: DOVELAB_FIRST_USER_PASS (required: pi-gen-config/config holds a
# placeholder that this script refuses to ship).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
pigen=$repo/.build/pi-gen
out=$repo/dist/pi
mode=docker
while (($#)); do
  case $1 in
    --pi-gen) pigen=$(realpath -m "$2"); shift 2 ;;
    --out) out=$(realpath -m "$2"); shift 2 ;;
    --native) mode=native; shift ;;
    *) echo "build-image: unknown argument $1 (see the comment at the top of $0)" >&2; exit 2 ;;
  esac
done
fail() { echo "build-image: $*" >&2; exit 1; }
PIGEN_URL=${DOVELAB_PIGEN_URL:-}
images=$repo/dist/arm64/images
# `npm test` builds the arm64 tars into the shared cache instead: use it when dist has none.
if [[ ! -f $images/manifest.json && -f /var/cache/dovelab/arm64-images/manifest.json ]]; then images=/var/cache/dovelab/arm64-images; fi
stage_src=$repo/pi-gen-config/stage-dovelab

# Everything this needs, checked before anything is changed.
for c in git node npm xz realpath; do command -v "$c" >/dev/null || fail "$c not found"; done
if [[ $mode == docker ]]; then
  command -v docker >/dev/null || fail "docker not found: pi-gen's build-docker.sh needs Docker (or use --native on a Debian host)"
  docker info >/dev/null 2>&1 || fail "Docker does not answer (start it, or run as a user allowed to use it)"
else
  [[ $(id -u) == 0 ]] || fail "--native runs pi-gen's build.sh, which needs root"
fi
if [[ $(uname -m) != aarch64 ]]; then
  [[ -f /proc/sys/fs/binfmt_misc/qemu-aarch64 ]] || fail "this $(uname -m) machine cannot run arm64 programs: install qemu-user-static and binfmt-support"
fi
[[ -n ${DOVELAB_FIRST_USER_PASS:-} ]] || fail "set DOVELAB_FIRST_USER_PASS: the password of the image's console user (dovelab-admin); the config's placeholder is never shipped"
((${#DOVELAB_FIRST_USER_PASS} >= 8)) || fail "DOVELAB_FIRST_USER_PASS: at least 8 characters"
shopt -s nullglob
tars=("$images"/*.tar)
if [[ ! -f $images/manifest.json ]] || ((${#tars[@]} == 0)); then
  fail "no arm64 image tars in $images (manifest.json + *.tar): build them first with image-build's arm64 build (see image-build/README.md), then run this again"
fi
if [[ ! -d $pigen ]]; then
  [[ -n $PIGEN_URL ]] || fail "no pi-gen clone at $pigen: clone pi-gen's arm64 branch there (git clone --branch arm64 <pi-gen repository> $pigen) or pass --pi-gen DIR, or set DOVELAB_PIGEN_URL to clone it"
  git clone --depth 1 --branch arm64 "$PIGEN_URL" "$pigen"
fi
[[ -x $pigen/build.sh && -d $pigen/stage2 ]] || fail "$pigen is not a pi-gen clone (no build.sh / stage2)"
branch=$(git -C "$pigen" rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
[[ $branch == arm64 ]] || echo "build-image: warning: $pigen is on branch '$branch', not arm64 (the config asks for 64-bit Trixie)" >&2

version=$(node -p "require('$repo/package.json').version")
echo "build-image: Dovelab $version, pi-gen $(git -C "$pigen" rev-parse --short HEAD) ($branch), $mode build"

# The stage, copied into the clone (build-docker.sh only sees the clone), with the bundle and tars.
dest=$pigen/stage-dovelab
rm -rf "$dest"
cp -rL "$stage_src" "$dest"
bash "$repo/image-build/pi-bundle.sh" "$dest/00-dovelab/files/opt-dovelab"
mkdir -p "$dest/00-dovelab/files/images"
cp "$images/manifest.json" "${tars[@]}" "$dest/00-dovelab/files/images/"
# The Lite stage makes no image of its own; only ours is exported.
touch "$pigen/stage2/SKIP_IMAGES"
cfg=$pigen/config
cp "$repo/pi-gen-config/config" "$cfg"
printf '\n# build-image.sh\nFIRST_USER_PASS=%q\n' "$DOVELAB_FIRST_USER_PASS" >> "$cfg"

t0=$(date +%s)
if [[ $mode == docker ]]; then (cd "$pigen" && ./build-docker.sh -c "$cfg"); else (cd "$pigen" && ./build.sh -c "$cfg"); fi
echo "build-image: pi-gen took $(( $(date +%s) - t0 )) s"

made=("$pigen"/deploy/*dovelab*.img.xz)
((${#made[@]} == 1)) || fail "expected one dovelab .img.xz in $pigen/deploy, found ${#made[@]}"
mkdir -p "$out"
final=$out/dovelab-$version-arm64.img.xz
mv "${made[0]}" "$final"
(cd "$out" && sha256sum "$(basename "$final")" > "$(basename "$final").sha256")
echo "build-image: $final ($(du -h "$final" | cut -f1)); flash it with Raspberry Pi Imager (README: \"The Raspberry Pi appliance\")"
