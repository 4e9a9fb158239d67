#!/usr/bin/env bash
# bench deps: host packages for `make bench` (apt-get install, idempotent) and the Debian packages the
# Linux guest is made of (apt-get download, extracted with dpkg-deb -x, never installed on the host):
# the cloud kernel, busybox-static, nginx-light and dpdk with every library they pull in.
#   scripts/bench/deps.sh OUT       (OUT = build/bench)
set -euo pipefail
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
DEBS=$OUT/debs
SYS=$OUT/sysroot
log() { echo "bench-deps: $*"; }
die() { echo "bench-deps: error: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (network namespaces, apt-get)"

HOST_PACKAGES=(qemu-system-x86 ovmf dnsmasq-base iproute2 wrk apache2-utils gnuplot-nox kmod gcc python3 curl nftables)
# dpdk-testpmd is in dpdk-dev (Debian 12); its Depends are the DPDK libraries (and the header
# package libdpdk-dev, not needed to run it). librte-net-virtio23 and librte-mempool-ring23 are the
# plugins testpmd loads for a virtio-net device.
GUEST_PACKAGES=(linux-image-cloud-amd64 busybox-static nginx-light dpdk-dev librte-net-virtio23 librte-mempool-ring23)

missing=()
for p in "${HOST_PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
updated=0
if [ ${#missing[@]} -gt 0 ]; then
	log "apt-get install ${missing[*]}"
	apt-get update -qq
	updated=1
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The guest packages and everything they depend on, whatever this host has installed (what the
# host has is no part of the guest: since 1.22.1-9+deb12u12, nginx-light is an empty metapackage and
# the binary is in nginx, which a host with nginx installed would not download). The key records
# the candidate versions.
# Bump RECIPE when the way the guest is assembled changes.
RECIPE=2
key="r$RECIPE $(apt-cache policy "${GUEST_PACKAGES[@]}" 2>/dev/null | grep -E '^[a-z]|Candidate' | tr -d ' \n')"
if [ -f "$SYS/.ready" ] && [ "$(cat "$SYS/.ready")" = "$key" ]; then
	log "guest packages up to date ($SYS)"
	exit 0
fi
[ "$updated" = 1 ] || apt-get update -qq
rm -rf "$DEBS" "$SYS"
mkdir -p "$DEBS" "$SYS"
# linux-image-cloud-amd64 is a metapackage: the kernel itself is its dependency.
dpdk_libs=$(apt-cache show --no-all-versions dpdk-dev | sed -n 's/^Depends: //p' | tr ',' '\n' \
	| sed -E 's/\(.*\)//; s/^ +//; s/ +$//; s/ *\|.*//' | grep -vE '^(libdpdk-dev|python3|ibverbs-providers)$')
others=()
for p in "${GUEST_PACKAGES[@]}"; do [ "$p" = dpdk-dev ] || others+=("$p"); done
# The closure of Depends and Pre-Depends (every alternative; virtual names, shown as <name>, left
# out: a package that provides one is listed under it too).
pkgs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
	--no-enhances "${others[@]}" $dpdk_libs | grep -E '^[a-z0-9]' | sort -u)
pkgs=$( (echo "$pkgs"; printf '%s\n' "${GUEST_PACKAGES[@]}") | sort -u | grep -v '^$')
log "apt-get download $(wc -w <<<"$pkgs") packages into $DEBS"
(cd "$DEBS" && chown _apt: . 2>/dev/null || true; apt-get download -qq $pkgs) >/dev/null
for d in "$DEBS"/*.deb; do dpkg-deb -x "$d" "$SYS"; done
ls "$SYS"/boot/vmlinuz-*-cloud-amd64 >/dev/null || die "no cloud kernel in the packages"
[ -x "$SYS/usr/bin/dpdk-testpmd" ] || die "no dpdk-testpmd in the dpdk package"
[ -x "$SYS/usr/sbin/nginx" ] || die "no nginx binary (usr/sbin/nginx) in nginx-light or what it depends on: \
Debian's packaging of nginx changed; name the package that has the binary in GUEST_PACKAGES ($0)"
[ -x "$SYS/bin/busybox" ] || die "no busybox in busybox-static"
echo "$key" >"$SYS/.ready"
log "guest packages extracted into $SYS"
