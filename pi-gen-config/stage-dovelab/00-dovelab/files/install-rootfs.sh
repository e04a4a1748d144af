#!/bin/bash
# Copies Dovelab into an image's root file system ROOTFS (run on the build host by pi-gen's
# 02-run.sh, and by image-build/arm64-chroot-check.sh): the files under rootfs/, Node and the
# agent (opt-dovelab/, made by image-build/pi-bundle.sh), the arm64 image tars (images/, when
# present), the boot partition's edits and the teacher's dovelab.yaml. Then 03-run-chroot.sh
# runs setup-in-chroot.sh inside it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=${1:?usage: install-rootfs.sh ROOTFS}
root=$(cd "$root" && pwd)
# Never the running system: only a Debian root file system that is not /.
if [[ $root == / || ! -f $root/etc/debian_version ]]; then
  echo "install-rootfs: $root is not an image's root file system (it is / or has no etc/debian_version); nothing was changed" >&2
  exit 3
fi
for need in opt-dovelab/node/bin/node opt-dovelab/agent/dist/agent/cli.js opt-dovelab/agent/node_modules; do
  [[ -e $here/$need ]] || { echo "install-rootfs: $here/$need missing: run image-build/pi-bundle.sh $here/opt-dovelab first; nothing was changed" >&2; exit 1; }
done
fw=$root/boot/firmware
for f in cmdline.txt config.txt; do
  [[ -f $fw/$f ]] || { echo "install-rootfs: $fw/$f missing (pi-gen's stage1 writes it); nothing was changed" >&2; exit 1; }
done

cp -r --no-preserve=ownership "$here/rootfs/." "$root/"
chmod 0600 "$root/etc/dovelab/dovelab.yaml"
rm -rf "$root/opt/dovelab/node" "$root/opt/dovelab/agent"
mkdir -p "$root/opt/dovelab"
cp -a "$here/opt-dovelab/node" "$here/opt-dovelab/agent" "$root/opt/dovelab/"
chown -R 0:0 "$root/opt/dovelab"
if [[ -d $here/images ]]; then
  rm -rf "$root/opt/dovelab/images"
  cp -r --no-preserve=ownership "$here/images" "$root/opt/dovelab/images"
fi

"$here/boot-edit.sh" cmdline "$fw/cmdline.txt"
"$here/boot-edit.sh" config "$fw/config.txt" "$here/config-txt.dovelab"
# The teacher's file: only when there is none (a rebuild keeps an edited one).
[[ -f $fw/dovelab.yaml ]] || cp "$here/dovelab.yaml" "$fw/dovelab.yaml"

# setup-in-chroot.sh refuses to run without this marker (so it never runs on a live system).
install -d -m 0755 "$root/usr/local/lib/dovelab"
install -m 0755 "$here/setup-in-chroot.sh" "$root/usr/local/lib/dovelab/setup-in-chroot.sh"
date -u +%FT%TZ > "$root/etc/dovelab/.stage-install"
echo "install-rootfs: Dovelab copied into $root"
