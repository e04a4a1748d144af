#!/bin/bash
# What `dovelab images build --arch arm64` needs beyond host-setup.sh (the Pi's images, built on
# an amd64 machine): buildah (builds in its own storage, records the arm64 architecture) and
# qemu-user-static + binfmt-support (aarch64 binaries run under emulation, in chroots and
# containers). Idempotent; run as root after host-setup.sh. Checks the binfmt_misc entry at the end.
set -euo pipefail

if [[ $(id -u) != 0 ]]; then echo "arm64-setup: run as root (nothing was changed)" >&2; exit 1; fi
if [[ ! -f /etc/debian_version ]] || ! command -v apt-get >/dev/null || ! command -v dpkg-query >/dev/null; then
  echo "arm64-setup: refusing to run: this is not a Debian system (no /etc/debian_version, apt-get or dpkg-query); nothing was changed" >&2
  exit 1
fi

PACKAGES=(buildah qemu-user-static binfmt-support debootstrap)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "arm64-setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# binfmt_misc: mounted, and the aarch64 entry registered with the F flag (the interpreter is
# opened at registration, so it also works inside containers and chroots).
entry=/proc/sys/fs/binfmt_misc/qemu-aarch64
if [[ ! -e /proc/sys/fs/binfmt_misc/status ]]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
if [[ ! -e $entry ]]; then
  update-binfmts --enable qemu-aarch64
fi
if ! grep -q '^enabled' "$entry" 2>/dev/null || ! grep -q '^flags:.*F' "$entry"; then
  echo "arm64-setup: $entry is not enabled with the F flag:" >&2
  cat "$entry" >&2 2>/dev/null || true
  exit 1
fi
echo "arm64-setup: ready ($(grep '^interpreter' "$entry"), $(grep '^flags' "$entry"))"
