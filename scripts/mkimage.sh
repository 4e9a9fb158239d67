#!/usr/bin/env bash
# mkimage.sh OUT.img X64.EFI AA64.EFI: build a bootable GPT disk image whose EFI System Partition holds both loaders.
set -euo pipefail

if [ $# -ne 3 ]; then
    echo "usage: $0 OUT.img X64.EFI AA64.EFI" >&2
    exit 2
fi
OUT=$1 X64=$2 AA64=$3
for f in "$X64" "$AA64"; do
    [ -f "$f" ] || { echo "mkimage: $f: no such file" >&2; exit 1; }
done

# Layout (512-byte sectors): GPT at the start, ESP at 1 MiB for 62 MiB, and
# the rest left for the backup GPT at the end of the 64 MiB disk. Loaders that do
# not fit (make bench's, each with the bench's 21 MB site packed in) get a disk
# larger by steps of 64 MiB, the ESP all of it but 2 MiB: room for both loaders,
# the FATs (4 bytes per one-sector cluster) and 1 MiB to spare.
SECTOR=512
DISK_MIB=64
ESP_START=2048
need=$(( ($(stat -c %s "$X64") + $(stat -c %s "$AA64")) * 102 / 100 / 1048576 + 1 ))
while [ $((DISK_MIB - 2)) -lt "$need" ]; do DISK_MIB=$((DISK_MIB + 64)); done
ESP_MIB=$((DISK_MIB - 2))
ESP_SECTORS=$((ESP_MIB * 1024 * 1024 / SECTOR))

# Fixed identifiers and timestamps make the image byte-for-byte reproducible
# (mkfs.vfat: -i must follow --invariant, which would reset the volume ID).
DISK_GUID=8F1B2A3C-5D4E-4F60-8172-93A4B5C6D7E8
ESP_GUID=0A1B2C3D-4E5F-4061-8273-94A5B6C7D8E9
VOLUME_ID=504c5558 # "PLUX"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-946684800} # used by mtools
export MTOOLS_SKIP_CHECK=1 # mtools: don't insist on a PC-style disk geometry

# Work next to OUT so a failed run never leaves a half-written image behind.
tmp=$(mktemp -d "$(dirname "$OUT")/.mkimage.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
disk=$tmp/disk.img esp=$tmp/esp.img

# The partition table is written straight into the image file: no loop device.
truncate -s "${DISK_MIB}M" "$disk"
sgdisk --clear --disk-guid="$DISK_GUID" \
    --new=1:$ESP_START:+${ESP_MIB}M --typecode=1:EF00 \
    --partition-guid=1:$ESP_GUID --change-name=1:"EFI System" \
    "$disk" >/dev/null

# FAT32 with one-sector clusters: 62 MiB is too small for FAT32 otherwise.
truncate -s $((ESP_SECTORS * SECTOR)) "$esp"
mkfs.vfat -F 32 -s 1 -S $SECTOR -n POLLUX --invariant -i $VOLUME_ID "$esp" >/dev/null
mmd -i "$esp" ::/EFI ::/EFI/BOOT
mcopy -i "$esp" "$X64" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$esp" "$AA64" ::/EFI/BOOT/BOOTAA64.EFI

# Place the filesystem at the partition's offset; sparse keeps the file small.
dd if="$esp" of="$disk" bs=1M seek=$((ESP_START * SECTOR / 1048576)) \
    conv=notrunc,sparse status=none
mv "$disk" "$OUT"
