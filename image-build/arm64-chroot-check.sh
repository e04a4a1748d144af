#!/bin/bash
# The arm64 chroot check (issue 10): the Pi image's stage runs in a Debian arm64 root file system
# and the installed agent passes `dovelab doctor --offline` there, under qemu-user-static.
#   image-build/arm64-chroot-check.sh [--keep | --base-only]
# --base-only: make (or check) the cached base root of step 1 and stop (`npm test` starts that in
# the background while its amd64 tiers run). One run at a time makes the base: a second waits on
# $CACHE/.lock (at most 90 min), then takes the base from the cache, checked as below.
# 1. A Debian arm64 root (debootstrap --arch=arm64, the release of the pi-gen branch: trixie)
#    with the stage's package list (00-packages-nr) installed. Cached in /var/cache/dovelab/
#    arm64-rootfs/<key>, the key a hash of release, packages and the recipe below; a cached root is
#    used only when its DONE file holds the key and dpkg in it says every package is installed.
# 2. Always fresh, on a copy of that root: the stage's own scripts (install-rootfs.sh,
#    03-run-chroot.sh -> setup-in-chroot.sh) with Node 22 arm64 + the agent from pi-bundle.sh,
#    then `node cli.js doctor --offline` inside the chroot. The cache holds only Debian's
#    packages: nothing of Dovelab's comes from it, so it cannot make a broken stage pass.
# Not checked here: Raspberry Pi OS-only packages (01-packages-nr), pi-gen's stages 0-2, and
# anything needing the Pi's kernel or dockerd (doctor --offline prints the list it skips).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
stage=$repo/pi-gen-config/stage-dovelab/00-dovelab
RELEASE=${DOVELAB_CHECK_RELEASE:-trixie}
CACHE=${DOVELAB_CACHE:-/var/cache/dovelab}/arm64-rootfs
keep=0; base_only=0
case ${1:-} in
  --keep) keep=1 ;;
  --base-only) base_only=1 ;;
  '') ;;
  *) echo "arm64-check: unknown option $1 (--keep or --base-only)" >&2; exit 2 ;;
esac
t0=$(date +%s)
say() { echo "[arm64-check $(( $(date +%s) - t0 ))s] $*"; }
fail() { echo "arm64-check: FAILED: $*" >&2; exit 1; }

# What the host needs, checked before anything is made.
[[ $(id -u) == 0 ]] || fail "run as root (debootstrap and chroot need it)"
for c in debootstrap chroot npm node sha256sum; do command -v "$c" >/dev/null || fail "$c not found: run image-build/host-setup.sh"; done
binfmt=/proc/sys/fs/binfmt_misc/qemu-aarch64
{ [[ -f $binfmt ]] && grep -qx enabled "$binfmt"; } || fail "no qemu-aarch64 in binfmt_misc: apt-get install qemu-user-static binfmt-support (host-setup.sh does)"
grep -q '^flags:.*F' "$binfmt" || fail "qemu-aarch64 binfmt entry lacks the F flag (the interpreter must work inside a chroot)"
mirror=${DOVELAB_DEBIAN_MIRROR:-}
if [[ -z $mirror ]]; then
  mirror=$(grep -hs -A3 '^URIs:' /etc/apt/sources.list.d/*.sources | awk '/^URIs:/ {print $2}' | grep -v security | head -n1 || true)
  [[ -n $mirror ]] || mirror=$(grep -hsE '^deb\s' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | grep -v security | awk '{print $2}' | head -n1 || true)
fi
[[ -n $mirror ]] || fail "no Debian mirror found in /etc/apt: set DOVELAB_DEBIAN_MIRROR"

# pi-gen's stages 0-2 bring these on Raspberry Pi OS; here they stand in for them.
STANDINS=(systemd systemd-sysv passwd ca-certificates)
mapfile -t PACKAGES < <(grep -hvE '^\s*(#|$)' "$stage/00-packages-nr" | tr -s ' \t' '\n' | grep -v '^$')
ALL=("${STANDINS[@]}" "${PACKAGES[@]}")

make_base() { # DIR: debootstrap + the package list, services kept from starting
  local dir=$1
  debootstrap --arch=arm64 --variant=minbase "$RELEASE" "$dir" "$mirror"
  say "debootstrap done"
  printf '#!/bin/sh\nexit 101\n' > "$dir/usr/sbin/policy-rc.d"; chmod +x "$dir/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$dir/etc/resolv.conf"
  # A failed index download is an error here, not a warning (apt-get update exits 0 on those).
  chroot "$dir" apt-get -o Acquire::Retries=5 update -q --error-on=any
  DEBIAN_FRONTEND=noninteractive chroot "$dir" apt-get -o Acquire::Retries=5 install -y -q --no-install-recommends "${ALL[@]}"
  chroot "$dir" apt-get clean
  say "packages installed"
  rm -f "$dir/usr/sbin/policy-rc.d"
}
key=$( { echo "$RELEASE arm64"; printf '%s\n' "${ALL[@]}" | sort; declare -f make_base; } | sha256sum | cut -c1-16)
base=$CACHE/$RELEASE-$key

installed_ok() { # DIR: every package of the list installed, as dpkg in that root says
  local out
  # shellcheck disable=SC2016 # ${...} is dpkg-query's format, not the shell's
  out=$(chroot "$1" dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${ALL[@]}" 2>&1) || { echo "$out" >&2; return 1; }
  ! grep -v '^ii ' <<<"$out" | grep -q .
}

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
  say "another run is making the base root ($CACHE/.lock): waiting for it"
  flock -w 5400 9 || fail "another run kept $CACHE/.lock for 90 min"
  say "the other run is done"
fi
if [[ -f $base/DONE && $(cat "$base/DONE") == "$key" ]] && installed_ok "$base/rootfs"; then
  say "base root from cache: $base"
else
  say "making the base root ($RELEASE arm64, ${#ALL[@]} packages; no cache for key $key)"
  # An interrupted debootstrap can leave proc/sys mounted in its target: never rm -rf through them.
  awk -v c="$CACHE/" 'index($2, c) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$base" "$CACHE/.tmp-$key"
  # Roots of other keys (an older package list) are dead weight: about 1.2 GB each.
  find "$CACHE" -mindepth 1 -maxdepth 1 -name "$RELEASE-*" ! -name "$RELEASE-$key" -exec rm -rf {} +
  mkdir -p "$CACHE/.tmp-$key"
  make_base "$CACHE/.tmp-$key/rootfs"
  installed_ok "$CACHE/.tmp-$key/rootfs" || fail "packages missing after apt-get install"
  echo "$key" > "$CACHE/.tmp-$key/DONE"
  mv "$CACHE/.tmp-$key" "$base"
  say "base root made and cached: $base ($(du -sh "$base/rootfs" | cut -f1))"
fi
flock -u 9; exec 9>&-
if ((base_only)); then say "base root ready"; exit 0; fi

work=$(mktemp -d /var/tmp/dovelab-arm64-check.XXXXXX)
root=$work/rootfs
cleanup() {
  local m
  for m in "$root/proc" "$root/dev/pts"; do mountpoint -q "$m" && umount "$m"; done
  if ((keep)); then echo "arm64-check: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
cp -a "$base/rootfs" "$root"
say "copied the base root"

# The Node + agent bundle the image ships, made fresh from this checkout.
bash "$repo/image-build/pi-bundle.sh" "$stage/files/opt-dovelab"
say "bundle made"
# Stand-ins for the boot partition pi-gen's stage1 makes (Raspberry Pi OS's stock files).
mkdir -p "$root/boot/firmware"
echo 'console=serial0,115200 console=tty1 root=PARTUUID=00000000-02 rootfstype=ext4 fsck.repair=yes rootwait' > "$root/boot/firmware/cmdline.txt"
printf '%s\n' 'dtparam=audio=on' 'camera_auto_detect=1' 'display_auto_detect=1' 'auto_initramfs=1' \
  'dtoverlay=vc4-kms-v3d' 'max_framebuffers=2' 'arm_64bit=1' 'disable_overscan=1' '[cm4]' 'otg_mode=1' '[all]' > "$root/boot/firmware/config.txt"

"$stage/files/install-rootfs.sh" "$root"
mount -t proc proc "$root/proc"
chroot "$root" /bin/bash < "$stage/03-run-chroot.sh"
say "stage scripts ran"
grep -q 'cgroup_enable=memory' "$root/boot/firmware/cmdline.txt" || fail "cmdline.txt lacks cgroup_enable=memory"
[[ $(chroot "$root" /opt/dovelab/node/bin/node -p 'process.arch + " " + process.versions.node') =~ ^arm64\ 22\. ]] || fail "the image's node is not Node 22 on arm64"
[[ -L $root/etc/systemd/system/multi-user.target.wants/dovelab-agent.service ]] || fail "dovelab-agent.service not enabled"

# The units against the target's own systemd and the real programs they run (any output fails:
# systemd-analyze verify exits 0 after unknown keys and bad values).
mapfile -t units < <(cd "$root/etc/systemd/system" && ls dovelab-*.service)
verify=$(chroot "$root" systemd-analyze verify "${units[@]/#//etc/systemd/system/}" 2>&1) || fail "systemd-analyze verify (in the chroot): $verify"
[[ -z $verify ]] || fail "systemd-analyze verify (in the chroot) reported: $verify"
say "systemd-analyze verify of ${#units[@]} units (the target's systemd $(chroot "$root" systemctl --version | awk 'NR==1 {print $2}')): clean"

say "dovelab doctor --offline (arm64, in the chroot):"
chroot "$root" /opt/dovelab/node/bin/node /opt/dovelab/agent/dist/agent/cli.js doctor --offline || fail "doctor --offline found problems (above)"
say "PASSED in $(( $(date +%s) - t0 )) s"
