#!/bin/bash
# dovelab-firstboot.service: loads the image tars listed in /opt/dovelab/images/manifest.json,
# writes the dongle .link files when the agent can make them for this board, creates the infra
# containers, then the marker. Any failure leaves no marker: it runs again at the next boot.
set -euo pipefail
IMAGES=/opt/dovelab/images
MARKER=/var/lib/dovelab/.firstboot-done
shopt -s nullglob
tars=("$IMAGES"/*.tar)
if ((${#tars[@]} == 0)); then echo "firstboot: no image tars in $IMAGES: this image was built without them" >&2; exit 1; fi
for t in "${tars[@]}"; do
  echo "firstboot: docker load -i $t"
  timeout 15m docker load -i "$t"
done
# The board's own .link files (10-dovelab-<name>.link, by the USB path of each dongle found),
# ahead of the Pi 4 defaults (20-dovelab-pi4-port*.link). Not its NetworkManager drop-in: the
# image's 90-dovelab-unmanaged.conf already covers the dongle names and the agent's veths, and a
# second file setting unmanaged-devices= would replace that list. Then udev renames the dongles.
if timeout 60s dovelab hardware links --out /etc/systemd/network; then
  udevadm control --reload || true
  udevadm trigger --action=add --subsystem-match=net || true
else
  echo "firstboot: dovelab hardware links failed; the default .link files stay" >&2
fi
timeout 10m dovelab infra up
mkdir -p "$(dirname "$MARKER")"
date -u +%FT%TZ > "$MARKER"
echo "firstboot: done"
