#!/bin/bash
# dovelab-lesson.service: brings up the lesson named in /etc/dovelab/boot-lesson (written by
# `dovelab boot-config apply` from lesson: in /boot/firmware/dovelab.yaml).
set -euo pipefail
lesson=$(head -n1 /etc/dovelab/boot-lesson)
[[ $lesson =~ ^[a-z0-9][a-z0-9._-]{0,63}$ ]] || { echo "boot-lesson: not a lesson id: '$lesson'" >&2; exit 1; }
exec timeout 9m dovelab up "$lesson"
