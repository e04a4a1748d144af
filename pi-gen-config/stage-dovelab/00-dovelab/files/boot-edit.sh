#!/bin/bash
# Edits of the boot partition's files, idempotent (running them twice changes nothing more).
#   boot-edit.sh cmdline FILE          adds the memory cgroup to the kernel command line
#   boot-edit.sh config FILE BLOCK     puts BLOCK's lines at the end of config.txt between markers
set -euo pipefail
BEGIN='# >>> dovelab (pi-gen-config/stage-dovelab; edits between these markers are replaced on rebuild)'
END='# <<< dovelab'

cmdline() {
  local file=$1 line w
  [[ -f $file ]] || { echo "boot-edit: $file: not found" >&2; return 1; }
  line=$(head -n1 "$file")
  # Without cgroup_enable=memory the Pi kernel has no memory cgroup: lab hosts' limits do nothing.
  for w in cgroup_enable=memory cgroup_memory=1; do
    case " $line " in *" $w "*) ;; *) line="$line $w" ;; esac
  done
  printf '%s\n' "$line" > "$file.dovelab.tmp" && mv "$file.dovelab.tmp" "$file"
}

config() {
  local file=$1 block=$2
  [[ -f $file ]] || { echo "boot-edit: $file: not found" >&2; return 1; }
  [[ -f $block ]] || { echo "boot-edit: $block: not found" >&2; return 1; }
  # Everything outside our markers stays; our block is replaced whole.
  awk -v b="$BEGIN" -v e="$END" '$0 == b {skip = 1; next} $0 == e {skip = 0; next} !skip' "$file" > "$file.dovelab.tmp"
  { printf '%s\n' "$BEGIN"; cat "$block"; printf '%s\n' "$END"; } >> "$file.dovelab.tmp"
  mv "$file.dovelab.tmp" "$file"
}

case ${1:-} in
  cmdline) cmdline "$2" ;;
  config) config "$2" "$3" ;;
  *) echo "usage: boot-edit.sh cmdline FILE | config FILE BLOCK" >&2; exit 2 ;;
esac
