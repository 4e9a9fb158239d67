/* The UEFI memory map in our own terms; pure code shared by efi_main and the host tests. */
#ifndef POLLUX_EFIMAP_H
#define POLLUX_EFIMAP_H

#include <stddef.h>
#include <stdint.h>

#include "../kernel/bootinfo.h"

/* UEFI 2.10, 7.2 EFI_MEMORY_DESCRIPTOR; the firmware's stride is desc_size, not sizeof. */
struct efimap_desc {
	uint32_t type;
	uint32_t pad;
	uint64_t phys_start;
	uint64_t virt_start;
	uint64_t pages;         /* 4 KiB pages */
	uint64_t attribute;
};

/* UEFI memory types (UEFI 2.10, table 7-6). */
#define EFI_RESERVED_TYPE 0
#define EFI_LOADER_CODE 1
#define EFI_LOADER_DATA 2
#define EFI_BS_CODE 3
#define EFI_BS_DATA 4
#define EFI_RT_CODE 5
#define EFI_RT_DATA 6
#define EFI_CONVENTIONAL 7
#define EFI_UNUSABLE 8
#define EFI_ACPI_RECLAIM 9
#define EFI_ACPI_NVS 10
#define EFI_MMIO 11
#define EFI_MMIO_PORT 12
#define EFI_PAL_CODE 13
#define EFI_PERSISTENT 14

/* Map a UEFI type to enum mem_kind. Boot-services memory stays MEM_USED: our boot stack lives
 * there until the kernel switches stacks, and a few MiB are not worth the risk. */
uint32_t efimap_kind(uint32_t efi_type);
/* Convert the raw map into bi->ranges: sorted by base, touching ranges of equal kind merged.
 * Ranges that do not fit in BOOT_MAX_RANGES are counted in bi->ranges_dropped. */
void efimap_convert(const void *map, uint64_t map_size, uint64_t desc_size, struct boot_info *bi);
/* The arch counter, readable before anything is set up (x86 TSC, AArch64 CNTVCT). */
uint64_t efimap_counter(void);

/* Kernel entry, declared here so efi_main.c need not include kernel.h next to the EFI headers. */
void kmain(struct boot_info *bi) __attribute__((noreturn));

#endif
