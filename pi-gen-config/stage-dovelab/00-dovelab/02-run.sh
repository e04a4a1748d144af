#!/bin/bash -e
# pi-gen (host side, in this sub-stage's directory): copy Dovelab into the image's root.
./files/install-rootfs.sh "${ROOTFS_DIR}"
