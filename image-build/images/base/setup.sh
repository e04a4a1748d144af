#!/bin/sh
# Runs inside the freshly debootstrapped rootfs:  chroot <rootfs> /bin/sh /setup.sh <build id>
# Turns a minbase rootfs into a small container base image (dovelab/base:bookworm).
# The apt source written by debootstrap (the mirror given to it) is kept: images
# built FROM this base install their packages from the same mirror.

# Guard, before anything else: this script rewrites apt and dpkg settings, upgrades every
# package, empties /etc/resolv.conf and wipes /tmp of the system it runs on (run on a host by
# mistake, it broke the host's name resolution). Only `dovelab images build`
# (agent/docker/images.ts) runs it: it writes a build id to /.dovelab-rootfs in the rootfs and
# passes the same id as $1. Anywhere else, stop here, having changed nothing (exit 3).
dovelab_build_id=
[ -f /.dovelab-rootfs ] && IFS= read -r dovelab_build_id < /.dovelab-rootfs
if [ -z "$dovelab_build_id" ] || [ "$dovelab_build_id" != "${1-}" ]; then
    echo "setup.sh: refusing to run: this is not a dovelab base rootfs being built (no /.dovelab-rootfs matching the build id given as the first argument)." >&2
    echo "setup.sh: it rewrites apt/dpkg settings, upgrades all packages, empties /etc/resolv.conf and wipes /tmp; only 'dovelab images build' runs it, in a chroot. Nothing was changed." >&2
    exit 3
fi

set -eu

export DEBIAN_FRONTEND=noninteractive LC_ALL=C

# 1. Never start services from maintainer scripts (no init system in a container).
cat > /usr/sbin/policy-rc.d <<'EOT'
#!/bin/sh
# Installed by dovelab base setup.sh: do not start daemons from package scripts.
exit 101
EOT
chmod 0755 /usr/sbin/policy-rc.d

# 2. apt: no recommends/suggests, no translations, no caches left behind.
cat > /etc/apt/apt.conf.d/90dovelab <<'EOT'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
APT::AutoRemove::RecommendsImportant "false";
APT::AutoRemove::SuggestsImportant "false";
Acquire::Languages "none";
Acquire::GzipIndexes "true";
Acquire::CompressionTypes::Order:: "gz";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
EOT

# 3. dpkg: do not install docs, man pages, info, translations (keep copyright files).
cat > /etc/dpkg/dpkg.cfg.d/90dovelab-nodoc <<'EOT'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOT
# Faster, container-friendly dpkg (no fsync per file; the image layer is the unit of safety).
echo force-unsafe-io > /etc/dpkg/dpkg.cfg.d/90dovelab-unsafe-io

# 4. Also track bookworm-updates and bookworm-security on the same mirror when it
#    serves them (derived from the source debootstrap wrote; tried, dropped if absent).
mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
if [ -n "$mirror" ]; then
    mirror=${mirror%/}
    echo "deb $mirror bookworm-updates main" > /etc/apt/sources.list.d/bookworm-updates.list
    if ! apt-get -q update >/dev/null 2>&1; then
        rm -f /etc/apt/sources.list.d/bookworm-updates.list
    fi
    case "$mirror" in
    */debian)
        echo "deb $mirror-security bookworm-security main" > /etc/apt/sources.list.d/bookworm-security.list
        if ! apt-get -q update >/dev/null 2>&1; then
            echo "setup.sh: no bookworm-security at the mirror, skipped" >&2
            rm -f /etc/apt/sources.list.d/bookworm-security.list
        fi
        ;;
    esac
fi
apt-get -q update
apt-get -qy -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold dist-upgrade
apt-get -qy autoremove --purge
apt-get clean

# 5. Remove what the dpkg excludes did not cover (installed before they existed).
find /usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
find /usr/share/doc -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf /usr/share/man/* /usr/share/groff/* /usr/share/info/* /usr/share/lintian/* \
       /usr/share/linda/* /usr/share/locale/*

# 6. Empty caches, lists, logs and host leftovers.
rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/cache/debconf/*-old \
       /var/lib/dpkg/*-old /var/log/apt/* /var/log/*.log /tmp/* /var/tmp/* \
       /root/.cache
: > /var/log/dpkg.log 2>/dev/null || true
rm -f /var/log/dpkg.log /var/log/bootstrap.log /var/log/alternatives.log
# docker supplies these at run time; do not ship the build host's copies.
: > /etc/resolv.conf
echo localhost > /etc/hostname
rm -f /etc/machine-id /var/lib/dbus/machine-id
: > /etc/machine-id

rm -f /setup.sh
