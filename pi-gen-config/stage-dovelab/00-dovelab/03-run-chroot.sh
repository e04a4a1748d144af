#!/bin/bash -e
# pi-gen feeds this to a shell inside the image's chroot: users, units, permissions.
/usr/local/lib/dovelab/setup-in-chroot.sh
