#!/bin/bash
# Prepares a Debian bookworm host (dev VM, CI, or the Pi image build) to build and run Dovelab:
# Debian packages, npm dependencies, the compiled agent. Idempotent; run as root.
set -euo pipefail

# Guards, before anything else: this installs Debian packages with apt and links
# /usr/local/bin/dovelab. As non-root it could only fail half-way; elsewhere than Debian
# (or a derivative: Raspberry Pi OS, Ubuntu) apt-get and dpkg-query do not exist.
if [[ $(id -u) != 0 ]]; then echo "host-setup: run as root (nothing was changed)" >&2; exit 1; fi
if [[ ! -f /etc/debian_version ]] || ! command -v apt-get >/dev/null || ! command -v dpkg-query >/dev/null; then
  echo "host-setup: refusing to run: this is not a Debian system (no /etc/debian_version, apt-get or dpkg-query); nothing was changed" >&2
  exit 1
fi

cd "$(dirname "$0")/.."

PACKAGES=(docker.io debootstrap dnsmasq-base tcpdump ethtool iproute2 iptables util-linux procps
  iputils-ping curl ca-certificates time netcat-openbsd
  # The network driver runs busybox udhcpc in containers' netns (DHCP from the real network).
  busybox
  # The e2e tier drives Debian's Chromium with playwright-core (same major version, DESIGN §5a).
  chromium fonts-dejavu-core
  # mDNS tests ask with dig from another namespace.
  bind9-dnsutils
  # The Pi image's checks: shellcheck of the scripts, systemd-analyze verify of the units, and
  # the arm64 chroot check (debootstrap --arch=arm64 runs aarch64 programs through binfmt_misc).
  shellcheck systemd qemu-user-static binfmt-support)
# The engine bench's namespace-only floor: Mininet from Debian on a Linux bridge (brctl).
PACKAGES+=(mininet bridge-utils)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "host-setup: installing ${missing[*]}"
  # Without systemd, keep package scripts from starting services: the agent starts dockerd itself.
  # Removed again even when apt-get fails: left behind, it would keep every later package
  # install on this host from starting its services.
  made_policy=0
  if [[ ! -d /run/systemd/system && ! -e /usr/sbin/policy-rc.d ]]; then
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
  if ((made_policy)); then rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
fi

# npm ci only when the lockfile changed since the last install.
stamp=node_modules/.dovelab-lock-sha
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "host-setup: npm ci"
  npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
fi
npm run --silent build
chmod +x dist/agent/cli.js
# The `dovelab` command on PATH, pointing at this checkout.
ln -sf "$PWD/dist/agent/cli.js" /usr/local/bin/dovelab
echo "host-setup: ready (dovelab -> $PWD/dist/agent/cli.js)"
