#!/usr/bin/env bash
# Boot a Pollux image in QEMU (TCG) with the serial console on stdio: qemu.sh ARCH IMAGE CORES MEM [qemu args...]
# NET=user: QEMU user networking, host ports 8080 and 8007 forwarded to the guest's 80 and 7 (no root).
# NET=tap: the existing tap device $TAP (default tap0) with $QUEUES queue pairs. Unset: no NIC.
# NIC=igb: QEMU's Intel 82576 instead of virtio-net (16 queue pairs, RSS done by the NIC itself).
# QEMU_MACHINE: the -machine value instead of q35 / virt, e.g. virt,gic-version=3 (Graviton's GIC).
# QEMU_RNG: 1 for a virtio-rng device (the default on AArch64), 0 for none.
set -euo pipefail
arch=$1 img=$2 cores=$3 mem=$4
shift 4
nic=()
case "${NIC:-virtio}" in
virtio) NIC_DEV=virtio-net-pci ;;
igb) NIC_DEV=igb ;;
*)
	echo "qemu.sh: NIC must be virtio or igb, not '$NIC'" >&2
	exit 2 ;;
esac
case "${NET:-}" in
"") ;;
user)
	nic=(-netdev "user,id=n0,net=198.18.0.0/24,hostfwd=tcp::8080-:80,hostfwd=tcp::8007-:7,hostfwd=udp::8007-:7,hostfwd=tcp::9100-:9100"
		-device "${NIC_DEV:-virtio-net-pci},netdev=n0") ;;
tap)
	q=${QUEUES:-1}
	dev=virtio-net-pci,netdev=n0
	[ "$q" -gt 1 ] && dev="$dev,mq=on,rss=on,vectors=$((2 * q + 2))"
	# igb spreads frames over its queues itself: one tap queue feeds them all.
	[ "${NIC:-virtio}" = igb ] && q=1 dev=igb,netdev=n0
	nic=(-netdev "tap,id=n0,ifname=${TAP:-tap0},script=no,downscript=no,queues=$q" -device "$dev") ;;
*)
	echo "qemu.sh: NET must be user or tap, not '$NET'" >&2
	exit 2 ;;
esac
# QEMU_RNG=1 (default on AArch64): a virtio-rng-pci device, whose EFI_RNG_PROTOCOL (AAVMF) seeds
# the random generators with the host's randomness; cortex-a72 has no RNDR (kernel/random.c).
rng=()
if [ "${QEMU_RNG:-$([ "$arch" = aarch64 ] && echo 1 || echo 0)}" = 1 ]; then
	rng=(-device virtio-rng-pci)
fi
set -- "${nic[@]}" "${rng[@]}" "$@"
# snapshot=on: the image is never written, so runs (and parallel tests) can share it.
drive=(-drive "file=$img,format=raw,if=virtio,snapshot=on")
common=(-smp "$cores" -m "$mem" -nographic -no-reboot "${drive[@]}")
case "$arch" in
x86_64)
	# -cpu max: TCG's default CPU lacks 1 GiB pages (PDPE1GB).
	exec qemu-system-x86_64 -machine "${QEMU_MACHINE:-q35}" -cpu max -bios /usr/share/ovmf/OVMF.fd "${common[@]}" "$@"
	;;
aarch64)
	# cortex-a72 is the core of EC2 A1 (Graviton).
	exec qemu-system-aarch64 -machine "${QEMU_MACHINE:-virt}" -cpu cortex-a72 -bios /usr/share/qemu-efi-aarch64/QEMU_EFI.fd "${common[@]}" "$@"
	;;
*)
	echo "qemu.sh: ARCH must be x86_64 or aarch64, not '$arch'" >&2
	exit 2
	;;
esac
