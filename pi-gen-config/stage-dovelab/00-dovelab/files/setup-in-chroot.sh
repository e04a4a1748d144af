#!/bin/bash
# Inside the image's chroot (03-run-chroot.sh): the kiosk user, the units, permissions.
# Refuses to run (exit 3, nothing changed) unless install-rootfs.sh just prepared this root.
set -euo pipefail
marker=/etc/dovelab/.stage-install
if [[ ! -f $marker ]]; then
  echo "setup-in-chroot: $marker absent: this is not an image being built; nothing was changed" >&2
  exit 3
fi
# The kiosk's own unprivileged user: video/render/input for cage's seat.
if ! id dovelab-kiosk >/dev/null 2>&1; then
  useradd --system --home-dir /run/dovelab-kiosk --no-create-home --shell /usr/sbin/nologin dovelab-kiosk
fi
for g in video render input; do
  if getent group "$g" >/dev/null; then usermod -a -G "$g" dovelab-kiosk; fi
done
chown -R root:root /opt/dovelab
chmod 0600 /etc/dovelab/dovelab.yaml
# The image's Node runs here (under emulation when the build host is not arm64).
/opt/dovelab/node/bin/node --version
systemctl enable docker.service avahi-daemon.service \
  dovelab-boot-config.service dovelab-firstboot.service dovelab-agent.service \
  dovelab-lesson.service dovelab-kiosk.service
# The kiosk owns tty1; the console stays on tty2-6.
systemctl disable getty@tty1.service 2>/dev/null || true
systemctl set-default multi-user.target
rm -f "$marker"
echo "setup-in-chroot: done"
