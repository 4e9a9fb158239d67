/* What boot/ hands the kernel: the firmware's memory map in our own form, ACPI, the image. */
#ifndef POLLUX_BOOTINFO_H
#define POLLUX_BOOTINFO_H

#include <stdint.h>

/* Kinds of physical range, from the UEFI memory type (UEFI 2.10, 7.2 GetMemoryMap). */
enum mem_kind {
	MEM_FREE = 1,   /* EfiConventionalMemory: the allocator may hand it out */
	MEM_USED,       /* RAM that is taken: loader, boot/runtime services, ACPI */
	MEM_RESERVED,   /* firmware-reserved or unusable: mapped as RAM, never handed out */
	MEM_MMIO,       /* EfiMemoryMappedIO / port space: mapped as device memory */
};

struct mem_range {
	uint64_t base;
	uint64_t size;
	uint32_t kind;          /* enum mem_kind */
	uint32_t efi_type;      /* the original UEFI type, for `mem` */
};

#define BOOT_MAX_RANGES 512

struct boot_info {
	uint64_t t0;            /* arch counter read first thing in efi_main */
	uint64_t rsdp;          /* physical address of the ACPI RSDP, 0 if none */
	uint64_t image_base;    /* where UEFI loaded us, and how much */
	uint64_t image_size;
	uint64_t text_start;    /* [text_start, text_end): mapped read-only and executable */
	uint64_t text_end;
	uint64_t rodata_start;  /* [rodata_start, rodata_end): constant data (.rodata, .data.rel.ro, the GOT), */
	uint64_t rodata_end;    /* written only by the relocation before efi_main: mapped read-only */
	uint8_t rng[32];        /* from the firmware's EFI_RNG_PROTOCOL, before ExitBootServices */
	uint32_t rng_len;       /* bytes of rng filled: 0 when the firmware has no generator */
	uint32_t nranges;
	uint32_t ranges_dropped;   /* descriptors that did not fit (reported by `mem`) */
	struct mem_range ranges[BOOT_MAX_RANGES]; /* sorted by base, merged, non-overlapping */
};

#endif
