/* test_efimap: UEFI memory descriptors become a sorted, merged, classified range list. */
#include "test.h"
#include "../../boot/efimap.h"

static struct boot_info bi;

/* Firmware descriptors are often larger than the struct (OVMF uses 48 bytes): test that stride. */
#define STRIDE 48
static unsigned char raw[STRIDE * 1024];
static unsigned nraw;

static void add(uint32_t type, uint64_t base, uint64_t pages)
{
	struct efimap_desc d = { .type = type, .phys_start = base, .pages = pages };
	memcpy(raw + STRIDE * nraw++, &d, sizeof(d));
}

static void kinds(void)
{
	CHECK_EQ(efimap_kind(EFI_CONVENTIONAL), MEM_FREE);
	CHECK_EQ(efimap_kind(EFI_LOADER_DATA), MEM_USED);
	CHECK_EQ(efimap_kind(EFI_BS_DATA), MEM_USED);
	CHECK_EQ(efimap_kind(EFI_ACPI_NVS), MEM_USED);
	CHECK_EQ(efimap_kind(EFI_MMIO), MEM_MMIO);
	CHECK_EQ(efimap_kind(EFI_MMIO_PORT), MEM_MMIO);
	CHECK_EQ(efimap_kind(EFI_RESERVED_TYPE), MEM_RESERVED);
	CHECK_EQ(efimap_kind(EFI_UNUSABLE), MEM_RESERVED);
	CHECK_EQ(efimap_kind(0x70000000), MEM_RESERVED);   /* OEM types */
}

static void sorted_merged(void)
{
	nraw = 0;
	/* Out of order, with touching ranges of one kind and a zero-page descriptor. */
	add(EFI_CONVENTIONAL, 0x100000, 0x100);         /* 1 MiB .. 2 MiB */
	add(EFI_CONVENTIONAL, 0x0, 0x9f);               /* 0 .. 0x9f000 */
	add(EFI_BS_DATA, 0x200000, 0x10);               /* touches the 1 MiB range, other kind */
	add(EFI_LOADER_CODE, 0x210000, 0x10);           /* same kind (USED) as BS data: merged */
	add(EFI_MMIO, 0xfee00000, 1);
	add(EFI_CONVENTIONAL, 0x220000, 0x0);           /* empty: ignored */
	add(EFI_CONVENTIONAL, 0x101000000ull, 0x1000);  /* above 4 GiB */
	add(EFI_CONVENTIONAL, 0x100000000ull, 0x1000);  /* touches the previous one: merged */
	efimap_convert(raw, STRIDE * nraw, STRIDE, &bi);
	CHECK_EQ(bi.nranges, 5);
	CHECK_EQ(bi.ranges[0].base, 0);
	CHECK_EQ(bi.ranges[0].size, 0x9f000);
	CHECK_EQ(bi.ranges[1].base, 0x100000);
	CHECK_EQ(bi.ranges[1].kind, MEM_FREE);
	CHECK_EQ(bi.ranges[2].base, 0x200000);
	CHECK_EQ(bi.ranges[2].size, 0x20000);
	CHECK_EQ(bi.ranges[2].kind, MEM_USED);
	CHECK_EQ(bi.ranges[3].kind, MEM_MMIO);
	CHECK_EQ(bi.ranges[4].base, 0x100000000ull);
	CHECK_EQ(bi.ranges[4].size, 0x2000000ull);
	for (uint32_t i = 1; i < bi.nranges; i++)
		CHECK(bi.ranges[i - 1].base + bi.ranges[i - 1].size <= bi.ranges[i].base);
	CHECK_EQ(bi.ranges_dropped, 0);
}

/* A range that closes the gap between two neighbours of its kind merges all three. */
static void bridge(void)
{
	nraw = 0;
	add(EFI_CONVENTIONAL, 0x0, 1);
	add(EFI_CONVENTIONAL, 0x2000, 1);
	add(EFI_CONVENTIONAL, 0x1000, 1);
	efimap_convert(raw, STRIDE * nraw, STRIDE, &bi);
	CHECK_EQ(bi.nranges, 1);
	CHECK_EQ(bi.ranges[0].size, 0x3000);
}

/* More alternating ranges than fit: the excess is counted, never written past the array. */
static void overflow(void)
{
	nraw = 0;
	for (unsigned i = 0; i < BOOT_MAX_RANGES + 10; i++)
		add(i % 2 ? EFI_CONVENTIONAL : EFI_MMIO, 0x1000ull * i, 1);
	efimap_convert(raw, STRIDE * nraw, STRIDE, &bi);
	CHECK_EQ(bi.nranges, BOOT_MAX_RANGES);
	CHECK_EQ(bi.ranges_dropped, 10);
}

/* A descriptor size smaller than the structure is refused rather than misread. */
static void bad_stride(void)
{
	nraw = 0;
	add(EFI_CONVENTIONAL, 0, 1);
	efimap_convert(raw, STRIDE, 8, &bi);
	CHECK_EQ(bi.nranges, 0);
}

TEST_MAIN("test_efimap: proves the UEFI map is classified, sorted and merged, with overflow counted",
	  kinds(); sorted_merged(); bridge(); overflow(); bad_stride())
