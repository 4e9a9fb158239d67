/* UEFI entry: collect the memory map, ACPI and the image, leave boot services, enter the kernel. */
#include <efi.h>
#include <efilib.h>

#include "efimap.h"

/* Linker-script symbols of arch/<arch>/image.lds (GNU-EFI's layout; _rodata, _erodata are ours). */
extern char ImageBase[], _text[], _etext[], _rodata[], _erodata[], _edata[];

static EFI_GUID acpi20_guid = ACPI_20_TABLE_GUID;
static EFI_GUID acpi10_guid = ACPI_TABLE_GUID;
static EFI_GUID rng_guid = EFI_RNG_PROTOCOL_GUID;

static int guid_eq(const EFI_GUID *a, const EFI_GUID *b)
{
	const unsigned char *x = (const void *)a, *y = (const void *)b;
	for (unsigned i = 0; i < sizeof(EFI_GUID); i++)
		if (x[i] != y[i])
			return 0;
	return 1;
}

/* The ACPI 2.0 RSDP if the firmware has one (it carries the XSDT), else the 1.0 one. */
static UINT64 find_rsdp(EFI_SYSTEM_TABLE *st)
{
	UINT64 v1 = 0;
	for (UINTN i = 0; i < st->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &st->ConfigurationTable[i];
		if (guid_eq(&t->VendorGuid, &acpi20_guid))
			return (UINT64)(UINTN)t->VendorTable;
		if (guid_eq(&t->VendorGuid, &acpi10_guid))
			v1 = (UINT64)(UINTN)t->VendorTable;
	}
	return v1;
}

/* n bytes from the firmware's random number generator (UEFI 2.10, 37.5 EFI_RNG_PROTOCOL, its
 * default algorithm), or 0 when it has none or it fails. Gone after ExitBootServices: read now. */
static uint32_t efi_rng(EFI_BOOT_SERVICES *bs, uint8_t *out, uint32_t n)
{
	EFI_RNG_PROTOCOL *rng = NULL;
	if (EFI_ERROR(uefi_call_wrapper(bs->LocateProtocol, 3, &rng_guid, NULL, (void **)&rng)) || !rng)
		return 0;
	if (EFI_ERROR(uefi_call_wrapper(rng->GetRNG, 4, rng, NULL, (UINTN)n, out)))
		return 0;
	return n;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	uint64_t t0 = efimap_counter();
	EFI_BOOT_SERVICES *bs = st->BootServices;
	EFI_STATUS s;

	InitializeLib(image, st);

	/* One allocation for the boot info and one for the raw map, sized with slack: allocating
	 * after GetMemoryMap would change the map key and make ExitBootServices fail. */
	EFI_PHYSICAL_ADDRESS bi_pa = 0;
	UINTN bi_pages = (sizeof(struct boot_info) + 4095) / 4096;
	s = uefi_call_wrapper(bs->AllocatePages, 4, AllocateAnyPages, EfiLoaderData, bi_pages, &bi_pa);
	if (EFI_ERROR(s)) {
		Print(L"pollux: cannot allocate boot info: %r\n", s);
		return s;
	}
	struct boot_info *bi = (struct boot_info *)(UINTN)bi_pa;

	UINTN map_size = 0, key = 0, desc_size = 0;
	UINT32 desc_ver = 0;
	uefi_call_wrapper(bs->GetMemoryMap, 5, &map_size, NULL, &key, &desc_size, &desc_ver);
	UINTN map_cap = map_size + 32 * (desc_size ? desc_size : 48);
	EFI_PHYSICAL_ADDRESS map_pa = 0;
	s = uefi_call_wrapper(bs->AllocatePages, 4, AllocateAnyPages, EfiLoaderData, (map_cap + 4095) / 4096, &map_pa);
	if (EFI_ERROR(s)) {
		Print(L"pollux: cannot allocate the memory map: %r\n", s);
		return s;
	}
	void *map = (void *)(UINTN)map_pa;

	for (unsigned i = 0; i < sizeof(*bi); i++)
		((volatile char *)bi)[i] = 0;
	bi->t0 = t0;
	bi->rsdp = find_rsdp(st);
	bi->image_base = (uint64_t)(UINTN)ImageBase;
	bi->image_size = (uint64_t)(_edata - ImageBase);
	bi->text_start = (uint64_t)(UINTN)_text & ~4095ULL;
	bi->text_end = ((uint64_t)(UINTN)_etext + 4095) & ~4095ULL;
	bi->rodata_start = (uint64_t)(UINTN)_rodata;    /* both page aligned by the linker script */
	bi->rodata_end = (uint64_t)(UINTN)_erodata;
	bi->rng_len = efi_rng(bs, bi->rng, sizeof(bi->rng));

	/* ExitBootServices fails with EFI_INVALID_PARAMETER when the map changed after we read it
	 * (UEFI 2.10, 7.4): read it again into the same buffer and retry. Nothing may print here. */
	for (int tries = 0;; tries++) {
		map_size = map_cap;
		s = uefi_call_wrapper(bs->GetMemoryMap, 5, &map_size, map, &key, &desc_size, &desc_ver);
		if (EFI_ERROR(s)) {
			Print(L"pollux: GetMemoryMap failed: %r\n", s);
			return s;
		}
		s = uefi_call_wrapper(bs->ExitBootServices, 2, image, key);
		if (!EFI_ERROR(s))
			break;
		if (s != EFI_INVALID_PARAMETER || tries == 8) {
			Print(L"pollux: ExitBootServices failed: %r\n", s);
			return s;
		}
	}

	/* From here on, no firmware call. */
	efimap_convert(map, map_size, desc_size, bi);
	kmain(bi);
}
