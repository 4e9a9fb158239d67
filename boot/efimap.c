/* Turn the UEFI memory map into the kernel's sorted, merged list of physical ranges. */
#include "efimap.h"

#include "arch_inline.h"

uint64_t efimap_counter(void)
{
	return arch_counter();
}

uint32_t efimap_kind(uint32_t t)
{
	switch (t) {
	case EFI_CONVENTIONAL:
		return MEM_FREE;
	case EFI_LOADER_CODE:
	case EFI_LOADER_DATA:
	case EFI_BS_CODE:
	case EFI_BS_DATA:
	case EFI_RT_CODE:
	case EFI_RT_DATA:
	case EFI_ACPI_RECLAIM:
	case EFI_ACPI_NVS:
	case EFI_PERSISTENT:
		return MEM_USED;
	case EFI_MMIO:
	case EFI_MMIO_PORT:
		return MEM_MMIO;
	default:        /* reserved, unusable, PAL code and types from the future */
		return MEM_RESERVED;
	}
}

/* Insert r keeping the list sorted; merge with a touching neighbour of the same kind. */
static void insert(struct boot_info *bi, struct mem_range r)
{
	uint32_t i = bi->nranges;
	while (i > 0 && bi->ranges[i - 1].base > r.base)
		i--;
	if (i > 0) {
		struct mem_range *p = &bi->ranges[i - 1];
		if (p->kind == r.kind && p->base + p->size == r.base) {
			p->size += r.size;
			if (i < bi->nranges) {
				struct mem_range *n = &bi->ranges[i];
				if (n->kind == p->kind && p->base + p->size == n->base) {
					p->size += n->size;
					for (uint32_t j = i; j + 1 < bi->nranges; j++)
						bi->ranges[j] = bi->ranges[j + 1];
					bi->nranges--;
				}
			}
			return;
		}
	}
	if (i < bi->nranges) {
		struct mem_range *n = &bi->ranges[i];
		if (n->kind == r.kind && r.base + r.size == n->base) {
			n->base = r.base;
			n->size += r.size;
			return;
		}
	}
	if (bi->nranges == BOOT_MAX_RANGES) {
		bi->ranges_dropped++;
		return;
	}
	for (uint32_t j = bi->nranges; j > i; j--)
		bi->ranges[j] = bi->ranges[j - 1];
	bi->ranges[i] = r;
	bi->nranges++;
}

void efimap_convert(const void *map, uint64_t map_size, uint64_t desc_size, struct boot_info *bi)
{
	bi->nranges = 0;
	bi->ranges_dropped = 0;
	if (desc_size < sizeof(struct efimap_desc))
		return;
	for (uint64_t off = 0; off + desc_size <= map_size; off += desc_size) {
		const struct efimap_desc *d = (const void *)((const char *)map + off);
		if (d->pages == 0)
			continue;
		struct mem_range r = {
			.base = d->phys_start,
			.size = d->pages << 12,
			.kind = efimap_kind(d->type),
			.efi_type = d->type,
		};
		insert(bi, r);
	}
}
