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
# The board's own .link files (by USB path), when this version of the agent has the verb.
if timeout 30s dovelab hardware links --help >/dev/null 2>&1; then
  timeout 60s dovelab hardware links || echo "firstboot: dovelab hardware links failed; the default .link files stay" >&2
fi
timeout 10m dovelab infra up
mkdir -p "$(dirname "$MARKER")"
date -u +%FT%TZ > "$MARKER"
echo "firstboot: done"
