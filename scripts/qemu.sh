#!/usr/bin/env bash
# Boot a Pollux image in QEMU (TCG) with the serial console on stdio: qemu.sh ARCH IMAGE CORES MEM [qemu args...]
set -euo pipefail
arch=$1 img=$2 cores=$3 mem=$4
shift 4
# snapshot=on: the image is never written, so runs (and parallel tests) can share it.
drive=(-drive "file=$img,format=raw,if=virtio,snapshot=on")
common=(-smp "$cores" -m "$mem" -nographic -no-reboot "${drive[@]}")
case "$arch" in
x86_64)
	# -cpu max: TCG's default CPU lacks 1 GiB pages (PDPE1GB).
	exec qemu-system-x86_64 -machine q35 -cpu max -bios /usr/share/ovmf/OVMF.fd "${common[@]}" "$@"
	;;
aarch64)
	# cortex-a72 is the core of EC2 A1 (Graviton).
	exec qemu-system-aarch64 -machine virt -cpu cortex-a72 -bios /usr/share/qemu-efi-aarch64/QEMU_EFI.fd "${common[@]}" "$@"
	;;
*)
	echo "qemu.sh: ARCH must be x86_64 or aarch64, not '$arch'" >&2
	exit 2
	;;
esac
