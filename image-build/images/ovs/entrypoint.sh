#!/bin/sh
# dovelab/ovs entrypoint (run under `tini -g`): ovsdb-server in the background, then exec
# ovs-vswitchd in the foreground (logs on stdout/stderr for `docker logs`; SIGTERM from
# tini reaches both daemons, which exit cleanly).
# Environment (all optional):
#   OVS_LOG_LEVEL     console log level for both daemons (default: info)
#   OVS_MLOCKALL      1 (default) = ovs-vswitchd --mlockall (needs CAP_IPC_LOCK), 0 = off
#   OVS_DATAPATH      force the recorded datapath (system|netdev) instead of detecting it

# Guard, before anything else: this script deletes pid files and sockets in
# /var/run/openvswitch, creates or converts /etc/openvswitch/conf.db and starts its own
# ovsdb-server and ovs-vswitchd; on a host that runs Open vSwitch it would break that switch.
# It belongs only in the dovelab/ovs container, whose Dockerfile writes "dovelab/ovs" to
# /.dovelab-image. Anywhere else, stop here, having changed nothing (exit 3).
dovelab_image=
[ -f /.dovelab-image ] && IFS= read -r dovelab_image < /.dovelab-image
if [ "$dovelab_image" != dovelab/ovs ]; then
    echo "ovs-entrypoint: refusing to run: this is not the dovelab/ovs container (/.dovelab-image does not say dovelab/ovs)." >&2
    echo "ovs-entrypoint: it removes the OVS sockets and pid files in /var/run/openvswitch and starts its own OVS daemons. Nothing was changed." >&2
    exit 3
fi

set -eu

DB=/etc/openvswitch/conf.db
SCHEMA=/usr/share/openvswitch/vswitch.ovsschema
RUN=/var/run/openvswitch
LEVEL=${OVS_LOG_LEVEL:-info}

log() { echo "ovs-entrypoint: $*" >&2; }

mkdir -p /etc/openvswitch "$RUN" /var/log/openvswitch

# 1. Database: create, or convert to the schema of this OVS version.
if [ ! -s "$DB" ]; then
    log "creating $DB"
    ovsdb-tool create "$DB" "$SCHEMA"
elif [ "$(ovsdb-tool needs-conversion "$DB" "$SCHEMA")" = yes ]; then
    log "converting $DB to schema $(ovsdb-tool schema-version "$SCHEMA")"
    ovsdb-tool convert "$DB" "$SCHEMA"
fi

# 2. Leftovers of a previous run (docker restart, host reboot): pid files, control
#    sockets, db.sock, bridge mgmt/snoop sockets. The run dir is shared with the host.
find "$RUN" -maxdepth 1 \( -name '*.pid' -o -name '*.ctl' -o -type s \) -exec rm -f {} +

# 3. ovsdb-server, in the background (not --detach, so its log reaches docker logs).
ovsdb-server "$DB" \
    --remote=punix:"$RUN/db.sock" \
    --remote=db:Open_vSwitch,Open_vSwitch,manager_options \
    --pidfile="$RUN/ovsdb-server.pid" \
    -vconsole:"$LEVEL" -vsyslog:off -vfile:off &
DBPID=$!

i=0
until [ -S "$RUN/db.sock" ] && ovs-vsctl --db=unix:"$RUN/db.sock" --timeout=2 --no-wait show >/dev/null 2>&1; do
    if ! kill -0 "$DBPID" 2>/dev/null; then log "ovsdb-server exited"; exit 1; fi
    i=$((i + 1))
    if [ "$i" -gt 100 ]; then log "ovsdb-server did not come up"; exit 1; fi
    sleep 0.1
done

# 4. Initialise and record versions and the datapath this host supports.
ovs-vsctl --no-wait init
if [ -n "${OVS_DATAPATH:-}" ]; then
    DP=$OVS_DATAPATH
elif [ -d /sys/module/openvswitch ]; then
    DP=system
else
    DP=netdev
fi
OVS_VER=$(ovs-vswitchd --version | sed -n '1s/.* //p')
DB_VER=$(ovsdb-tool schema-version "$SCHEMA")
ovs-vsctl --no-wait set Open_vSwitch . \
    ovs_version="$OVS_VER" db_version="$DB_VER" \
    external_ids:dovelab-datapath="$DP"
log "ovs $OVS_VER, schema $DB_VER, datapath $DP"

# 5. ovs-vswitchd in the foreground (ovsdb-server stays its child, same process group).
set -- --pidfile="$RUN/ovs-vswitchd.pid" -vconsole:"$LEVEL" -vsyslog:off -vfile:off
if [ "${OVS_MLOCKALL:-1}" = 1 ]; then
    set -- "$@" --mlockall
fi
exec ovs-vswitchd unix:"$RUN/db.sock" "$@"
