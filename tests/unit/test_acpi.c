/* Host test of acpi.c: synthetic firmware tables, each in its own exact-size allocation (valgrind sees over-reads). */
#define _GNU_SOURCE             /* mmap and MAP_32BIT for the RSDT test */
#include <stdint.h>
#include <sys/mman.h>

#include "kernel.h"
#include "drivers/uart.h"
#include "test.h"

/* ---- memory for tables: malloc of exactly the table (plus a misalignment), or a region below 4 GiB ---- */
static void *blobs[1024];
static int nblobs;
static uint8_t *low;            /* set while tables must have 32-bit addresses (RSDT) */
static size_t low_used, low_cap;

static uint8_t *blob(size_t len, size_t misalign)
{
	uint8_t *p;
	if (low) {
		low_used = (low_used + 15) & ~(size_t)15;
		if (low_used + misalign + len > low_cap)
			abort();
		p = low + low_used;
		low_used += misalign + len;
	} else {
		if (nblobs == (int)ARRAY_SIZE(blobs) || !(p = malloc(misalign + len)))
			abort();
		blobs[nblobs++] = p;
	}
	memset(p, 0, misalign + len);
	return p + misalign;
}

static void blobs_free(void)
{
	for (int i = 0; i < nblobs; i++)
		free(blobs[i]);
	nblobs = 0;
	low_used = 0;
}

static uint64_t pa(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* Little-endian stores, as the firmware lays the tables out. */
static void put16(uint8_t *t, size_t off, uint16_t v) { t[off] = (uint8_t)v; t[off + 1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *t, size_t off, uint32_t v) { put16(t, off, (uint16_t)v); put16(t, off + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *t, size_t off, uint64_t v) { put32(t, off, (uint32_t)v); put32(t, off + 4, (uint32_t)(v >> 32)); }

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/* ---- table builder: header, then fields by offset, then table_sum() ---- */
static uint8_t *table_ext(const char *sig, uint32_t len, size_t alloc, uint8_t rev, size_t misalign)
{
	uint8_t *t = blob(alloc, misalign);
	memcpy(t, sig, 4);
	put32(t, 4, len);
	t[8] = rev;
	memcpy(t + 10, "PLXOEM", 6);
	memcpy(t + 16, "PLXTABLE", 8);
	put32(t, 24, 1);
	memcpy(t + 28, "PLXT", 4);
	put32(t, 32, 1);
	return t;
}

static uint8_t *table(const char *sig, uint32_t len, uint8_t rev)
{
	return table_ext(sig, len, len, rev, 0);
}

static uint8_t *table_sum(uint8_t *t)
{
	uint32_t len = (uint32_t)t[4] | (uint32_t)t[5] << 8 | (uint32_t)t[6] << 16 | (uint32_t)t[7] << 24;
	t[9] = 0;
	t[9] = (uint8_t)-sum(t, len);
	return t;
}

static uint8_t *rsdp_new(uint8_t rev, const char *oem, uint64_t rsdt, uint64_t xsdt)
{
	size_t len = rev >= 2 ? 36 : 20;
	uint8_t *r = blob(len, 0);
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, oem, 6);
	r[15] = rev;
	put32(r, 16, (uint32_t)rsdt);
	if (rev >= 2) {
		put32(r, 20, 36);
		put64(r, 24, xsdt);
	}
	r[8] = (uint8_t)-sum(r, 20);
	if (rev >= 2)
		r[32] = (uint8_t)-sum(r, 36);
	return r;
}

/* XSDT (esize 8) or RSDT (esize 4) listing tables; misaligned by 3 so 64-bit entries are unaligned. */
static uint8_t *root_new(int esize, uint8_t *const *tables, int n)
{
	uint8_t *t = table_ext(esize == 8 ? "XSDT" : "RSDT", (uint32_t)(36 + esize * n), (size_t)(36 + esize * n),
			       1, 3);
	for (int i = 0; i < n; i++) {
		uint64_t a = pa(tables[i]);
		if (esize == 8)
			put64(t, 36 + 8 * (size_t)i, a);
		else
			put32(t, 36 + 4 * (size_t)i, (uint32_t)a);
	}
	return table_sum(t);
}

/* RSDP v2 -> XSDT -> tables, parsed into *ai. */
static int parse_xsdt(const char *oem, uint8_t *const *tables, int n, struct acpi_info *ai)
{
	uint8_t *x = root_new(8, tables, n);
	return acpi_parse(pa(rsdp_new(2, oem, 0, pa(x))), ai);
}

/* ---- MADT subtables ---- */
struct subs {
	uint8_t b[8192];
	size_t n;
};

static uint8_t *sub_add(struct subs *s, uint8_t type, uint8_t len)
{
	uint8_t *e = s->b + s->n;
	if (s->n + len > sizeof(s->b))
		abort();
	memset(e, 0, len);
	e[0] = type;
	e[1] = len;
	s->n += len;
	return e;
}

static void sub_lapic(struct subs *s, uint8_t uid, uint8_t apic_id, uint32_t flags)
{
	uint8_t *e = sub_add(s, 0, 8);
	e[2] = uid;
	e[3] = apic_id;
	put32(e, 4, flags);
}

static void sub_x2apic(struct subs *s, uint32_t id, uint32_t flags, uint32_t uid)
{
	uint8_t *e = sub_add(s, 9, 16);
	put32(e, 4, id);
	put32(e, 8, flags);
	put32(e, 12, uid);
}

static void sub_override(struct subs *s, uint64_t addr)
{
	put64(sub_add(s, 5, 12), 4, addr);
}

/* len 82 (ACPI 6.5), 80 (6.0), 76 (5.1) or 40 (5.0, no MPIDR) */
static void sub_gicc(struct subs *s, uint8_t len, uint32_t uid, uint32_t flags, uint64_t mpidr)
{
	uint8_t *e = sub_add(s, 0xB, len);
	put32(e, 4, uid);              /* CPU interface number: same as uid here */
	put32(e, 8, uid);
	put32(e, 12, flags);
	put64(e, 32, 0x8010000);        /* GICC base */
	if (len >= 76)
		put64(e, 68, mpidr);
}

static uint8_t *madt_new(uint32_t lapic, const struct subs *s, size_t misalign)
{
	uint8_t *t = table_ext("APIC", (uint32_t)(44 + s->n), 44 + s->n, 5, misalign);
	put32(t, 36, lapic);
	put32(t, 40, 1);                /* PCAT_COMPAT */
	memcpy(t + 44, s->b, s->n);
	return table_sum(t);
}

/* ---- SPCR, MCFG, FADT ---- */
static uint8_t *spcr_new(uint8_t rev, uint32_t len, uint8_t type, uint8_t space, uint8_t access,
			 uint64_t addr, uint8_t baud, uint32_t precise)
{
	uint8_t *t = table("SPCR", len, rev);
	t[36] = type;
	t[40] = space;
	t[41] = access == 3 ? 32 : 8;
	t[43] = access;
	put64(t, 44, addr);
	if (len > 58)
		t[58] = baud;
	if (len >= 84)
		put32(t, 80, precise);
	return table_sum(t);
}

static uint8_t *mcfg_new(int n, uint64_t base0)
{
	uint8_t *t = table("MCFG", (uint32_t)(44 + 16 * n), 1);
	for (int i = 0; i < n; i++) {
		put64(t, 44 + 16 * (size_t)i, base0 + (uint64_t)i * 0x10000000);
		put16(t, 52 + 16 * (size_t)i, (uint16_t)i);
		t[54 + 16 * i] = 0;
		t[55 + 16 * i] = (uint8_t)(0xff - i);
	}
	return table_sum(t);
}

#define FADT_PM_TMR_BLK 76
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_ARM_BOOT 129
#define FADT_X_PM_TMR 208
#define TMR_VAL_EXT (1u << 8)
#define RESET_REG_SUP (1u << 10)
#define HW_REDUCED (1u << 20)

static void put_gas(uint8_t *t, size_t off, uint8_t space, uint8_t width, uint8_t access, uint64_t addr)
{
	t[off] = space;
	t[off + 1] = width;
	t[off + 2] = 0;
	t[off + 3] = access;
	put64(t, off + 4, addr);
}

/* ---- the tests ---- */
static struct acpi_info ai;

/* A QEMU-q35-like x86 machine: xAPIC and x2APIC cores, an override, a full FADT, no SPCR. */
static void test_x86(void)
{
	struct subs s = {0};
	sub_lapic(&s, 0, 0, 1);
	sub_lapic(&s, 1, 2, 1);
	sub_lapic(&s, 2, 4, 0);                 /* disabled */
	sub_lapic(&s, 3, 6, 2);                 /* online capable only: needs hot-add, not counted */
	uint8_t *io = sub_add(&s, 1, 12);       /* I/O APIC: not ours */
	put32(io, 4, 0xFEC00000);
	sub_x2apic(&s, 2, 1, 1);                /* the same core again as x2APIC: not twice */
	sub_x2apic(&s, 0x100, 1, 0x100);
	sub_x2apic(&s, 0x101, 0, 0x101);        /* disabled */
	sub_override(&s, 0x1FEE00000ull);
	uint8_t *madt = madt_new(0xFEE00000, &s, 1);

	uint8_t *fadt = table("FACP", 276, 6);
	put32(fadt, FADT_PM_TMR_BLK, 0x608);
	put32(fadt, FADT_FLAGS, TMR_VAL_EXT | RESET_REG_SUP);
	put_gas(fadt, FADT_X_PM_TMR, 1, 32, 3, 0xB008);
	put_gas(fadt, FADT_RESET_REG, 1, 8, 1, 0xCF9);     /* QEMU q35's */
	fadt[FADT_RESET_VALUE] = 0x0F;
	table_sum(fadt);

	uint8_t *ssdt = table("SSDT", 64, 2);   /* bad checksum, but never read: harmless */
	ssdt[9] = 0x55;
	uint8_t *hpet = table_sum(table("HPET", 56, 1));
	uint8_t *tabs[] = { fadt, ssdt, NULL, madt, hpet };     /* a null entry is skipped */

	memset(&ai, 0xAA, sizeof(ai));          /* everything must be overwritten */
	CHECK_EQ(parse_xsdt("BOCHS ", tabs, 5, &ai), 0);
	CHECK_STR(ai.oem_id, "BOCHS ");
	CHECK_EQ(ai.ncpus, 3);
	CHECK_EQ(ai.cpu[0].hwid, 0);
	CHECK_EQ(ai.cpu[0].uid, 0);
	CHECK_EQ(ai.cpu[1].hwid, 2);
	CHECK_EQ(ai.cpu[1].uid, 1);
	CHECK_EQ(ai.cpu[2].hwid, 0x100);
	CHECK_EQ(ai.cpu[2].uid, 0x100);
	CHECK_EQ(ai.cpu[3].hwid, 0);
	CHECK_EQ(ai.lapic_base, 0x1FEE00000ull);
	CHECK(!ai.has_spcr);
	CHECK_EQ(ai.spcr_addr.address, 0);
	CHECK_EQ(ai.nmcfg, 0);
	CHECK(ai.has_fadt);
	CHECK_EQ(ai.pm_timer.space, 1);
	CHECK_EQ(ai.pm_timer.bit_width, 32);
	CHECK_EQ(ai.pm_timer.access_size, 3);
	CHECK_EQ(ai.pm_timer.address, 0xB008);  /* X_PM_TMR_BLK preferred */
	CHECK(ai.pm_timer_32bit);
	CHECK_EQ(ai.arm_boot_flags, 0);
	CHECK_EQ(ai.reset_reg.space, 1);
	CHECK_EQ(ai.reset_reg.address, 0xCF9);
	CHECK_EQ(ai.reset_value, 0x0F);
	blobs_free();

	/* No override, X_PM_TMR_BLK zero: the header's base and the legacy port. */
	struct subs s2 = {0};
	sub_lapic(&s2, 0, 0, 1);
	madt = madt_new(0xFEE00000, &s2, 0);
	fadt = table("FACP", 244, 5);
	put32(fadt, FADT_PM_TMR_BLK, 0x608);
	put_gas(fadt, FADT_RESET_REG, 1, 8, 1, 0xCF9);     /* without RESET_REG_SUP: not valid */
	fadt[FADT_RESET_VALUE] = 0x06;
	table_sum(fadt);
	uint8_t *tabs2[] = { madt, fadt };
	CHECK_EQ(parse_xsdt("OEMOEM", tabs2, 2, &ai), 0);
	CHECK_EQ(ai.reset_reg.address, 0);
	CHECK_EQ(ai.ncpus, 1);
	CHECK_EQ(ai.lapic_base, 0xFEE00000);
	CHECK_EQ(ai.pm_timer.space, 1);
	CHECK_EQ(ai.pm_timer.address, 0x608);
	CHECK_EQ(ai.pm_timer.bit_width, 32);
	CHECK(!ai.pm_timer_32bit);
	blobs_free();
}

/* A QEMU-virt / Graviton-like AArch64 machine: GICC cores, PL011 SPCR, MCFG, hardware-reduced FADT. */
static void test_aarch64(void)
{
	struct subs s = {0};
	uint8_t *gicd = sub_add(&s, 0xC, 24);   /* GIC distributor: not ours */
	put64(gicd, 8, 0x8000000);
	sub_gicc(&s, 82, 0, 1, 0x0);
	sub_gicc(&s, 82, 1, 1, 0x1);
	sub_gicc(&s, 80, 2, 1, 0x100);          /* ACPI 6.0 length */
	sub_gicc(&s, 82, 3, 1, 0x80000101);     /* bit 31 (RES1) masked off */
	sub_gicc(&s, 82, 4, 0, 0x200);          /* disabled */
	sub_gicc(&s, 82, 5, 8, 0x201);          /* online capable only */
	sub_gicc(&s, 76, 7, 1, 0x181000203ull); /* ACPI 5.1 length; Aff3=1, bit 31 and MT bit 24 masked */
	sub_add(&s, 0xF, 20);                   /* GIC ITS */
	sub_gicc(&s, 40, 6, 1, 0);              /* ACPI 5.0: no MPIDR, cannot be started; last, so
						 * reading an MPIDR would run past the table */
	uint8_t *madt = madt_new(0, &s, 2);

	uint8_t *spcr = spcr_new(2, 80, 3, 0, 3, 0x9000000, 7, 0);
	uint8_t *mcfg = mcfg_new(1, 0x4010000000ull);
	uint8_t *fadt = table("FACP", 276, 6);
	put32(fadt, FADT_FLAGS, HW_REDUCED | TMR_VAL_EXT | RESET_REG_SUP);
	put16(fadt, FADT_ARM_BOOT, 3);
	put_gas(fadt, FADT_X_PM_TMR, 1, 32, 3, 0xB008);  /* must be ignored: hardware reduced */
	put_gas(fadt, FADT_RESET_REG, 0, 8, 1, 0x9050000); /* kept: not fixed hardware */
	fadt[FADT_RESET_VALUE] = 0x01;
	table_sum(fadt);
	uint8_t *tabs[] = { fadt, madt, spcr, mcfg };

	CHECK_EQ(parse_xsdt("LINARO", tabs, 4, &ai), 0);
	CHECK_STR(ai.oem_id, "LINARO");
	CHECK_EQ(ai.ncpus, 5);
	CHECK_EQ(ai.cpu[0].hwid, 0x0);
	CHECK_EQ(ai.cpu[1].hwid, 0x1);
	CHECK_EQ(ai.cpu[2].hwid, 0x100);
	CHECK_EQ(ai.cpu[2].uid, 2);
	CHECK_EQ(ai.cpu[3].hwid, 0x101);
	CHECK_EQ(ai.cpu[3].uid, 3);
	CHECK_EQ(ai.cpu[4].hwid, 0x100000203ull);
	CHECK_EQ(ai.cpu[4].uid, 7);
	CHECK_EQ(ai.lapic_base, 0);
	CHECK(ai.has_spcr);
	CHECK_EQ(ai.spcr_type, 3);
	CHECK_EQ(ai.spcr_addr.space, 0);
	CHECK_EQ(ai.spcr_addr.bit_width, 32);
	CHECK_EQ(ai.spcr_addr.access_size, 3);
	CHECK_EQ(ai.spcr_addr.address, 0x9000000);
	CHECK_EQ(ai.spcr_baud, 115200);
	CHECK_EQ(ai.nmcfg, 1);
	CHECK_EQ(ai.mcfg[0].base, 0x4010000000ull);
	CHECK_EQ(ai.mcfg[0].segment, 0);
	CHECK_EQ(ai.mcfg[0].bus_start, 0);
	CHECK_EQ(ai.mcfg[0].bus_end, 0xff);
	CHECK(ai.has_fadt);
	CHECK_EQ(ai.arm_boot_flags, 3);
	CHECK_EQ(ai.pm_timer.address, 0);
	CHECK(!ai.pm_timer_32bit);
	CHECK_EQ(ai.reset_reg.space, 0);
	CHECK_EQ(ai.reset_reg.address, 0x9050000);
	CHECK_EQ(ai.reset_value, 0x01);
	blobs_free();
}

/* Map a region below 4 GiB so tables have 32-bit addresses; 0 if this host cannot. */
static int low_map(void)
{
	size_t cap = 1 << 20;
	void *p = MAP_FAILED;
#ifdef MAP_32BIT
	p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
#endif
	if (p == MAP_FAILED)    /* a hint, then check where it landed */
		p = mmap((void *)(uintptr_t)0x40000000, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 0;
	if (pa(p) + cap > 0x100000000ull) {
		munmap(p, cap);
		return 0;
	}
	low = p;
	low_cap = cap;
	low_used = 0;
	return 1;
}

/* ACPI 1.0: RSDP revision 0 and the RSDT's 32-bit entries; then the RSDT as fallback for ACPI 2.0+. */
static void test_rsdt(void)
{
	if (!low_map()) {
		TEST_SKIP("test_rsdt", "memory it can map below 4 GiB (the RSDT holds 32-bit addresses)");
		return;
	}
	struct subs s = {0};
	sub_lapic(&s, 0, 0, 1);
	sub_lapic(&s, 1, 1, 1);
	uint8_t *madt = madt_new(0xFEE00000, &s, 0);
	uint8_t *fadt = table("FACP", 116, 1);   /* the ACPI 1.0 FADT */
	put32(fadt, FADT_PM_TMR_BLK, 0x408);
	put32(fadt, FADT_FLAGS, RESET_REG_SUP);  /* but RESET_REG lies past the table's end */
	table_sum(fadt);
	uint8_t *tabs[] = { madt, fadt };
	uint8_t *rsdt = root_new(4, tabs, 2);

	CHECK_EQ(acpi_parse(pa(rsdp_new(0, "OLDBIO", pa(rsdt), 0)), &ai), 0);
	CHECK_STR(ai.oem_id, "OLDBIO");
	CHECK_EQ(ai.ncpus, 2);
	CHECK_EQ(ai.cpu[1].hwid, 1);
	CHECK_EQ(ai.lapic_base, 0xFEE00000);
	CHECK(ai.has_fadt);
	CHECK_EQ(ai.pm_timer.address, 0x408);
	CHECK_EQ(ai.pm_timer.space, 1);
	CHECK_EQ(ai.reset_reg.address, 0);

	/* Revision 2 without an XSDT address: the RSDT. */
	CHECK_EQ(acpi_parse(pa(rsdp_new(2, "NOXSDT", pa(rsdt), 0)), &ai), 0);
	CHECK_EQ(ai.ncpus, 2);

	/* Revision 2 with a damaged XSDT: the RSDT names the same tables. */
	uint8_t *xsdt = root_new(8, tabs, 2);
	xsdt[9]++;
	CHECK_EQ(acpi_parse(pa(rsdp_new(2, "BADXSD", pa(rsdt), pa(xsdt))), &ai), 0);
	CHECK_EQ(ai.ncpus, 2);

	/* Revision 2 with a good XSDT: it wins over an RSDT listing other tables. */
	struct subs s1 = {0};
	sub_lapic(&s1, 0, 7, 1);
	uint8_t *madt1 = madt_new(0xFEE00000, &s1, 0);
	uint8_t *xsdt1 = root_new(8, &madt1, 1);
	CHECK_EQ(acpi_parse(pa(rsdp_new(2, "BOTHOK", pa(rsdt), pa(xsdt1))), &ai), 0);
	CHECK_EQ(ai.ncpus, 1);
	CHECK_EQ(ai.cpu[0].hwid, 7);

	munmap(low, low_cap);
	low = NULL;
	blobs_free();
}

static void test_bad_rsdp(void)
{
	struct subs s = {0};
	sub_lapic(&s, 0, 0, 1);
	uint8_t *madt = madt_new(0xFEE00000, &s, 0);
	uint8_t *xsdt = root_new(8, &madt, 1);

	memset(&ai, 0xAA, sizeof(ai));
	CHECK_EQ(acpi_parse(0, &ai), ACPI_ENORSDP);
	CHECK_EQ(ai.ncpus, 0);                  /* cleared even on failure */
	CHECK_STR(ai.oem_id, "");

	uint8_t *r = rsdp_new(2, "BADSUM", 0, pa(xsdt));
	r[8]++;                                 /* first-20-byte checksum */
	r[32]--;                                /* keep the extended sum right: only the first is wrong */
	CHECK_EQ(acpi_parse(pa(r), &ai), ACPI_ENORSDP);

	r = rsdp_new(2, "BADEXT", 0, pa(xsdt));
	r[33] = 1;                              /* reserved byte inside the 36: extended checksum wrong */
	CHECK_EQ(acpi_parse(pa(r), &ai), ACPI_ENORSDP);

	r = rsdp_new(2, "BADSIG", 0, pa(xsdt));
	r[0] = 'r';
	r[8] = (uint8_t)(r[8] + 'R' - 'r');     /* both sums still right: only the signature is wrong */
	CHECK_EQ(acpi_parse(pa(r), &ai), ACPI_ENORSDP);

	r = rsdp_new(2, "SHORTL", 0, pa(xsdt));
	put32(r, 20, 20);                       /* length below the 36-byte structure */
	r[8] = 0;
	r[8] = (uint8_t)-sum(r, 20);
	CHECK_EQ(acpi_parse(pa(r), &ai), ACPI_ENORSDP);

	r = rsdp_new(2, "GOODOK", 0, pa(xsdt));
	CHECK_EQ(acpi_parse(pa(r), &ai), 0);
	blobs_free();
}

static void test_bad_root(void)
{
	struct subs s = {0};
	sub_lapic(&s, 0, 0, 1);
	uint8_t *madt = madt_new(0xFEE00000, &s, 0);

	uint8_t *x = root_new(8, &madt, 1);
	x[40] ^= 1;                             /* entry changed, checksum now wrong */
	CHECK_EQ(acpi_parse(pa(rsdp_new(2, "XSDTCK", 0, pa(x))), &ai), ACPI_ENOXSDT);
	CHECK_STR(ai.oem_id, "XSDTCK");         /* partly filled: the console can still name the OEM */

	x = root_new(8, &madt, 1);
	x[0] = 'Y';
	table_sum(x);
	CHECK_EQ(acpi_parse(pa(rsdp_new(2, "XSDTSG", 0, pa(x))), &ai), ACPI_ENOXSDT);

	x = table("XSDT", 36, 1);
	put32(x, 4, 20);                        /* length shorter than a header */
	table_sum(x);
	CHECK_EQ(acpi_parse(pa(rsdp_new(2, "XSDTLN", 0, pa(x))), &ai), ACPI_ENOXSDT);

	/* An empty XSDT is well formed; it just lists no MADT. */
	x = table_sum(table("XSDT", 36, 1));
	CHECK_EQ(acpi_parse(pa(rsdp_new(2, "XEMPTY", 0, pa(x))), &ai), ACPI_ENOMADT);
	blobs_free();
}

static void test_bad_tables(void)
{
	struct subs s = {0};
	sub_lapic(&s, 0, 0, 1);
	sub_lapic(&s, 1, 1, 1);
	uint8_t *spcr = spcr_new(2, 80, 0, 1, 1, 0x3F8, 7, 0);

	/* MADT checksum wrong: an error, but the SPCR is still there for the console. */
	uint8_t *madt = madt_new(0xFEE00000, &s, 0);
	madt[44 + 3] = 9;                       /* APIC ID changed after the sum */
	uint8_t *t1[] = { madt, spcr };
	CHECK_EQ(parse_xsdt("BADMAD", t1, 2, &ai), ACPI_EBADTABLE);
	CHECK_EQ(ai.ncpus, 0);
	CHECK(ai.has_spcr);
	CHECK_EQ(ai.spcr_type, 0);
	CHECK_EQ(ai.spcr_addr.space, 1);
	CHECK_EQ(ai.spcr_addr.address, 0x3F8);
	CHECK_STR(ai.oem_id, "BADMAD");

	/* MADT shorter than its fixed part (checksum right). */
	uint8_t *shortm = table("APIC", 40, 5);
	table_sum(shortm);
	CHECK_EQ(parse_xsdt("SHORTM", &shortm, 1, &ai), ACPI_EBADTABLE);

	/* MADT length beyond the sanity cap. */
	uint8_t *hugem = madt_new(0xFEE00000, &s, 0);
	put32(hugem, 4, 0x7fffffff);
	CHECK_EQ(parse_xsdt("HUGEMA", &hugem, 1, &ai), ACPI_EBADTABLE);

	/* A damaged MADT then a good one: the good one is used. */
	uint8_t *good = madt_new(0xFEE00000, &s, 0);
	uint8_t *t2[] = { madt, good };
	CHECK_EQ(parse_xsdt("2MADTS", t2, 2, &ai), 0);
	CHECK_EQ(ai.ncpus, 2);

	/* Two good MADTs: the first wins, the second is not merged in. */
	struct subs s2 = {0};
	sub_lapic(&s2, 0, 5, 1);
	uint8_t *other = madt_new(0xFED00000, &s2, 0);
	uint8_t *t3[] = { good, other };
	CHECK_EQ(parse_xsdt("DUPMAD", t3, 2, &ai), 0);
	CHECK_EQ(ai.ncpus, 2);
	CHECK_EQ(ai.cpu[1].hwid, 1);
	CHECK_EQ(ai.lapic_base, 0xFEE00000);

	/* No MADT at all. */
	uint8_t *fadt = table_sum(table("FACP", 276, 6));
	CHECK_EQ(parse_xsdt("NOMADT", &fadt, 1, &ai), ACPI_ENOMADT);
	CHECK(ai.has_fadt);

	/* Damaged optional tables are as if absent. */
	uint8_t *bspcr = spcr_new(2, 80, 3, 0, 3, 0x9000000, 7, 0);
	bspcr[40] = 1;
	uint8_t *bmcfg = mcfg_new(1, 0x4010000000ull);
	bmcfg[44] = 1;
	uint8_t *bfadt = table("FACP", 276, 6);
	put16(bfadt, FADT_ARM_BOOT, 3);
	table_sum(bfadt);
	bfadt[FADT_ARM_BOOT] = 1;
	uint8_t *sspcr = table_sum(table("SPCR", 51, 2));  /* too short for its base address */
	uint8_t *t4[] = { good, bspcr, bmcfg, bfadt, sspcr };
	CHECK_EQ(parse_xsdt("BADOPT", t4, 5, &ai), 0);
	CHECK_EQ(ai.ncpus, 2);
	CHECK(!ai.has_spcr);
	CHECK_EQ(ai.nmcfg, 0);
	CHECK(!ai.has_fadt);
	CHECK_EQ(ai.arm_boot_flags, 0);

	/* ... and a good table of the same kind after a damaged one is used. */
	uint8_t *gspcr = spcr_new(2, 80, 3, 0, 3, 0x9000000, 6, 0);
	uint8_t *t5[] = { bspcr, good, gspcr };
	CHECK_EQ(parse_xsdt("GOODSP", t5, 3, &ai), 0);
	CHECK(ai.has_spcr);
	CHECK_EQ(ai.spcr_baud, 57600);

	/* Two good SPCRs (or MCFGs, FADTs): the first wins. */
	uint8_t *t6[] = { good, gspcr, spcr_new(2, 80, 0, 1, 1, 0x3F8, 7, 0), mcfg_new(1, 0xB0000000),
			  mcfg_new(2, 0xC0000000), table_sum(table("FACP", 131, 5)), bfadt };
	put16(t6[6], FADT_ARM_BOOT, 3);
	table_sum(t6[6]);
	CHECK_EQ(parse_xsdt("FIRST ", t6, 7, &ai), 0);
	CHECK_EQ(ai.spcr_addr.address, 0x9000000);
	CHECK_EQ(ai.nmcfg, 1);
	CHECK_EQ(ai.mcfg[0].base, 0xB0000000);
	CHECK_EQ(ai.arm_boot_flags, 0);
	blobs_free();
}

/* Subtables that lie about their length end the walk; nothing is read past the table. */
static void test_madt_walk(void)
{
	struct subs s = {0};
	sub_lapic(&s, 0, 0, 1);
	sub_lapic(&s, 1, 1, 1);
	sub_add(&s, 0, 8)[1] = 0;               /* length 0: would loop forever */
	sub_lapic(&s, 2, 2, 1);
	uint8_t *m = madt_new(0xFEE00000, &s, 0);
	CHECK_EQ(parse_xsdt("LEN0  ", &m, 1, &ai), 0);
	CHECK_EQ(ai.ncpus, 2);

	struct subs s1 = {0};
	sub_lapic(&s1, 0, 0, 1);
	sub_add(&s1, 0, 8)[1] = 1;              /* length 1: shorter than type + length */
	sub_lapic(&s1, 2, 2, 1);
	m = madt_new(0xFEE00000, &s1, 0);
	CHECK_EQ(parse_xsdt("LEN1  ", &m, 1, &ai), 0);
	CHECK_EQ(ai.ncpus, 1);

	struct subs s2 = {0};
	sub_lapic(&s2, 0, 0, 1);
	uint8_t *e = sub_add(&s2, 9, 16);       /* x2APIC claiming 200 bytes in a short table */
	put32(e, 4, 5);
	put32(e, 8, 1);
	e[1] = 200;
	m = madt_new(0xFEE00000, &s2, 0);
	CHECK_EQ(parse_xsdt("PAST  ", &m, 1, &ai), 0);
	CHECK_EQ(ai.ncpus, 1);

	struct subs s3 = {0};
	sub_lapic(&s3, 0, 0, 1);
	s3.b[s3.n++] = 9;                       /* a lone type byte at the very end */
	m = madt_new(0xFEE00000, &s3, 0);
	CHECK_EQ(parse_xsdt("TAIL1 ", &m, 1, &ai), 0);
	CHECK_EQ(ai.ncpus, 1);

	struct subs s4 = {0};
	sub_lapic(&s4, 0, 0, 1);
	e = sub_add(&s4, 9, 8);                 /* x2APIC too short for its fields: skipped, walk goes on */
	put32(e, 4, 7);
	e = sub_add(&s4, 0xB, 40);              /* GICC without MPIDR: skipped */
	put32(e, 12, 1);
	sub_x2apic(&s4, 3, 1, 3);
	e = sub_add(&s4, 0x7f, 30);             /* unknown type: skipped by its length */
	e[2] = 0xff;
	sub_lapic(&s4, 4, 4, 1);
	m = madt_new(0xFEE00000, &s4, 0);
	CHECK_EQ(parse_xsdt("SHORT ", &m, 1, &ai), 0);
	CHECK_EQ(ai.ncpus, 3);
	CHECK_EQ(ai.cpu[1].hwid, 3);
	CHECK_EQ(ai.cpu[2].hwid, 4);

	/* No subtables at all. */
	struct subs s5 = {0};
	m = madt_new(0xFEE00000, &s5, 0);
	CHECK_EQ(parse_xsdt("EMPTY ", &m, 1, &ai), 0);
	CHECK_EQ(ai.ncpus, 0);
	blobs_free();
}

/* Older, shorter FADTs: fields past their length do not exist, even if bytes are there. */
static void test_fadt_lengths(void)
{
	struct subs s = {0};
	sub_lapic(&s, 0, 0, 1);
	uint8_t *madt = madt_new(0xFEE00000, &s, 0);

	/* Length 116 (ACPI 1.0) in a 276-byte buffer whose tail holds tempting values. */
	uint8_t *f = table_ext("FACP", 116, 276, 1, 0);
	put32(f, FADT_PM_TMR_BLK, 0x408);
	put32(f, FADT_FLAGS, TMR_VAL_EXT);
	put16(f, FADT_ARM_BOOT, 3);
	put_gas(f, FADT_X_PM_TMR, 1, 32, 3, 0xB008);
	table_sum(f);
	uint8_t *t[] = { madt, f };
	CHECK_EQ(parse_xsdt("FADT1 ", t, 2, &ai), 0);
	CHECK(ai.has_fadt);
	CHECK_EQ(ai.arm_boot_flags, 0);
	CHECK_EQ(ai.pm_timer.address, 0x408);
	CHECK_EQ(ai.pm_timer.space, 1);
	CHECK(ai.pm_timer_32bit);

	/* Length 130: ARM_BOOT_ARCH (129..130) is one byte short. */
	f = table_ext("FACP", 130, 276, 3, 0);
	put16(f, FADT_ARM_BOOT, 3);
	table_sum(f);
	t[1] = f;
	CHECK_EQ(parse_xsdt("FADT130", t, 2, &ai), 0);
	CHECK_EQ(ai.arm_boot_flags, 0);

	/* Length 131 covers it. */
	f = table("FACP", 131, 5);
	put16(f, FADT_ARM_BOOT, 1);
	table_sum(f);
	t[1] = f;
	CHECK_EQ(parse_xsdt("FADT131", t, 2, &ai), 0);
	CHECK_EQ(ai.arm_boot_flags, 1);

	/* Length 219: X_PM_TMR_BLK (208..219) one byte short; 220 covers it. */
	f = table_ext("FACP", 219, 276, 3, 0);
	put32(f, FADT_PM_TMR_BLK, 0x408);
	put_gas(f, FADT_X_PM_TMR, 1, 32, 3, 0xB008);
	table_sum(f);
	t[1] = f;
	CHECK_EQ(parse_xsdt("FADT219", t, 2, &ai), 0);
	CHECK_EQ(ai.pm_timer.address, 0x408);
	f = table("FACP", 220, 3);
	put32(f, FADT_PM_TMR_BLK, 0x408);
	put_gas(f, FADT_X_PM_TMR, 1, 32, 3, 0xB008);
	table_sum(f);
	t[1] = f;
	CHECK_EQ(parse_xsdt("FADT220", t, 2, &ai), 0);
	CHECK_EQ(ai.pm_timer.address, 0xB008);

	/* Header only: present, nothing else known. */
	f = table_sum(table("FACP", 36, 1));
	t[1] = f;
	CHECK_EQ(parse_xsdt("FADT36", t, 2, &ai), 0);
	CHECK(ai.has_fadt);
	CHECK_EQ(ai.pm_timer.address, 0);
	CHECK(!ai.pm_timer_32bit);
	blobs_free();
}

/* More cores than ACPI_MAX_CPUS: capped, in MADT order, and later subtables still seen. */
static void test_cap(void)
{
	struct subs s = {0};
	for (uint32_t i = 0; i < ACPI_MAX_CPUS + 44; i++)
		sub_x2apic(&s, i, 1, 1000 + i);
	sub_override(&s, 0xFEE10000);
	uint8_t *m = madt_new(0xFEE00000, &s, 0);
	CHECK_EQ(parse_xsdt("MANY  ", &m, 1, &ai), 0);
	CHECK_EQ(ai.ncpus, ACPI_MAX_CPUS);
	CHECK_EQ(ai.cpu[0].hwid, 0);
	CHECK_EQ(ai.cpu[ACPI_MAX_CPUS - 1].hwid, ACPI_MAX_CPUS - 1);
	CHECK_EQ(ai.cpu[ACPI_MAX_CPUS - 1].uid, 1000 + ACPI_MAX_CPUS - 1);
	CHECK_EQ(ai.lapic_base, 0xFEE10000);

	uint8_t *mc = mcfg_new(ACPI_MAX_MCFG + 2, 0x80000000);
	uint8_t *t[] = { m, mc };
	CHECK_EQ(parse_xsdt("MCFGS ", t, 2, &ai), 0);
	CHECK_EQ(ai.nmcfg, ACPI_MAX_MCFG);
	CHECK_EQ(ai.mcfg[ACPI_MAX_MCFG - 1].base, 0x80000000ull + (ACPI_MAX_MCFG - 1) * 0x10000000ull);
	CHECK_EQ(ai.mcfg[ACPI_MAX_MCFG - 1].segment, ACPI_MAX_MCFG - 1);
	CHECK_EQ(ai.mcfg[ACPI_MAX_MCFG - 1].bus_end, 0xff - (ACPI_MAX_MCFG - 1));
	blobs_free();
}

static void test_spcr(void)
{
	struct subs s = {0};
	sub_lapic(&s, 0, 0, 1);
	uint8_t *m = madt_new(0xFEE00000, &s, 0);
	static const struct { uint8_t code; uint32_t bps; } codes[] = {
		{ 0, 0 }, { 3, 9600 }, { 4, 19200 }, { 5, 0 }, { 6, 57600 }, { 7, 115200 }, { 8, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(codes); i++) {
		uint8_t *t[] = { m, spcr_new(2, 80, 0x12, 0, 1, 0xFEDC9000, codes[i].code, 0) };
		CHECK_EQ(parse_xsdt("BAUD  ", t, 2, &ai), 0);
		CHECK_EQ(ai.spcr_baud, codes[i].bps);
		CHECK_EQ(ai.spcr_type, 0x12);
	}

	/* Revision 4: a nonzero precise rate overrides the code; zero leaves it. */
	uint8_t *t[] = { m, spcr_new(4, 88, 3, 0, 3, 0x9000000, 7, 1500000) };
	CHECK_EQ(parse_xsdt("PRECIS", t, 2, &ai), 0);
	CHECK_EQ(ai.spcr_baud, 1500000);
	t[1] = spcr_new(4, 88, 3, 0, 3, 0x9000000, 7, 0);
	CHECK_EQ(parse_xsdt("PRECI0", t, 2, &ai), 0);
	CHECK_EQ(ai.spcr_baud, 115200);
	/* The same bytes in a revision 2 table are not a precise rate. */
	t[1] = spcr_new(2, 88, 3, 0, 3, 0x9000000, 7, 1500000);
	CHECK_EQ(parse_xsdt("PRECI2", t, 2, &ai), 0);
	CHECK_EQ(ai.spcr_baud, 115200);

	/* Shortest usable SPCR: through the base address, no baud byte. */
	t[1] = spcr_new(1, 52, 0, 1, 1, 0x2F8, 7, 0);
	CHECK_EQ(parse_xsdt("SPCR52", t, 2, &ai), 0);
	CHECK(ai.has_spcr);
	CHECK_EQ(ai.spcr_addr.address, 0x2F8);
	CHECK_EQ(ai.spcr_baud, 0);
	blobs_free();
}

/* ---- the console UART chosen from SPCR (drivers/uart.c) ---- */

/* A 16550 behind 32-bit MMIO with registers 4 bytes apart: every access is logged; LSR says a
 * byte is waiting and the transmitter is empty, RBR holds 'g'. */
#define U_LOG_MAX 64
static struct { uint64_t off; int size; bool write; uint64_t v; } u_log[U_LOG_MAX];
static int u_nlog;

static uint64_t u_read(void *ctx, uint64_t off, int size)
{
	(void)ctx;
	if (u_nlog < U_LOG_MAX)
		u_log[u_nlog++] = (__typeof__(u_log[0])){ off, size, false, 0 };
	return off == 5 * 4 ? 0x61 : off == 0 ? 'g' : 0;       /* LSR: THRE|DR; RBR */
}

static void u_write(void *ctx, uint64_t off, int size, uint64_t v)
{
	(void)ctx;
	if (u_nlog < U_LOG_MAX)
		u_log[u_nlog++] = (__typeof__(u_log[0])){ off, size, true, v };
}

/* The first (last) write to offset off, or -1. */
static int64_t u_write_at(uint64_t off, bool last)
{
	int64_t v = -1;
	for (int i = 0; i < u_nlog; i++)
		if (u_log[i].write && u_log[i].off == off && (last || v < 0))
			v = (int64_t)u_log[i].v;
	return v;
}

/* Port I/O never happens for an MMIO UART: any use is counted as a failure. */
static int port_io;
uint8_t arch_inb(uint16_t port) { (void)port; port_io++; return 0; }
int arch_default_uart(struct uart *u) { (void)u; return -1; }   /* uart_console's fallback: unused here */
void arch_outb(uint16_t port, uint8_t v) { (void)port, (void)v; port_io++; }

/* A Graviton-like machine (EC2 A1): GICv3 cores, MCFG, PSCI over HVC, and an SPCR naming a
 * 16550-compatible UART at 0x90A0000 through a 32-bit system-memory GAS, interface type 0x12
 * (16550 with GAS) or 0x00 (16550). The console must drive it as a 16550 by 32-bit MMIO with
 * registers 4 bytes apart, and never touch I/O ports. */
static void test_console_graviton(void)
{
	static const uint8_t types[] = { 0x12, 0x00 };
	for (size_t k = 0; k < ARRAY_SIZE(types); k++) {
		struct subs s = {0};
		uint8_t *gicd = sub_add(&s, 0xC, 24);
		put64(gicd, 8, 0x10000000);
		gicd[20] = 3;                                   /* GIC version 3 */
		for (uint32_t i = 0; i < 16; i++)
			sub_gicc(&s, 82, i, 1, ((uint64_t)(i / 4) << 8) | (i % 4));
		uint8_t *madt = madt_new(0, &s, 0);
		uint8_t *spcr = spcr_new(2, 80, types[k], 0, 3, 0x90A0000, 7, 0);
		uint8_t *mcfg = mcfg_new(1, 0x20000000ull);
		uint8_t *fadt = table("FACP", 276, 6);
		put32(fadt, FADT_FLAGS, HW_REDUCED);
		put16(fadt, FADT_ARM_BOOT, 3);                  /* PSCI, over HVC */
		table_sum(fadt);
		uint8_t *tabs[] = { fadt, madt, spcr, mcfg };
		CHECK_EQ(parse_xsdt("AMAZON", tabs, 4, &ai), 0);
		CHECK_EQ(ai.ncpus, 16);
		CHECK_EQ(ai.spcr_type, types[k]);

		struct uart u;
		memset(&u, 0xAA, sizeof(u));
		CHECK_EQ(uart_from_spcr(&ai, &u), 0);
		CHECK_EQ(u.type, UART_16550_MMIO);
		CHECK_EQ(u.base, 0x90A0000);
		CHECK_EQ(u.shift, 2);
		CHECK(u.mmio32);
		CHECK_STR(uart_name(&u), "16550 (MMIO)");

		/* Driven through the model: every access a 32-bit one on a register boundary of the
		 * 8 registers, the registers where a 16550 has them times 4. */
		host_mmio_clear();
		host_mmio_add((struct host_mmio){ 0x90A0000, 0x1000, u_read, u_write, 0 });
		u_nlog = 0;
		port_io = 0;
		uart_init(&u, 300);
		CHECK_EQ(u_write_at(1 * 4, false), 0);          /* IER first: no interrupts */
		CHECK_EQ(u_write_at(3 * 4, false), 0x80);       /* LCR: DLAB on for the divisor */
		CHECK_EQ(u_write_at(0 * 4, true), 384 & 0xff);  /* DLL: 115200 / 300 = 384 */
		CHECK_EQ(u_write_at(1 * 4, true), 384 >> 8);    /* DLM (where IER is with DLAB off) */
		CHECK_EQ(u_write_at(3 * 4, true), 0x03);        /* LCR: 8N1, DLAB off again */
		CHECK_EQ(u_write_at(2 * 4, true), 0x07);        /* FCR: FIFOs on and cleared */
		CHECK_EQ(u_write_at(4 * 4, true), 0x03);        /* MCR: DTR and RTS */
		int writes = u_nlog;
		CHECK_EQ(uart_getc(&u), 'g');
		CHECK(u_nlog > writes);
		CHECK(u_log[writes].off == 5 * 4 && !u_log[writes].write);     /* LSR read first */
		int bad = 0;
		for (int i = 0; i < u_nlog; i++)
			bad += u_log[i].size != 4 || u_log[i].off % 4 != 0 || u_log[i].off >= 8 * 4;
		CHECK_EQ(bad, 0);
		CHECK(u_nlog >= 8 && u_nlog < U_LOG_MAX);
		CHECK_EQ(port_io, 0);
		host_mmio_clear();
		blobs_free();
	}
}

/* The other SPCR shapes: what each names, and what is refused. */
static void test_console_choice(void)
{
	struct subs s = {0};
	sub_lapic(&s, 0, 0, 1);
	uint8_t *m = madt_new(0xFEE00000, &s, 0);
	static const struct {
		uint8_t type, space, access;
		uint64_t addr;
		int ret;
		enum uart_type ut;
		uint32_t shift;
		bool mmio32;
	} c[] = {
		{ 0x12, 0, 1, 0xFEDC9000, 0, UART_16550_MMIO, 0, false },  /* byte registers (x86 metal) */
		{ 0x00, 0, 2, 0xFEDC9000, 0, UART_16550_MMIO, 1, false },  /* 16-bit stride */
		{ 0x00, 1, 1, 0x3F8, 0, UART_16550_PIO, 0, false },        /* COM1 by I/O port */
		{ 0x01, 1, 1, 0x2F8, 0, UART_16550_PIO, 0, false },        /* 16450 subset */
		{ 0x03, 0, 3, 0x9000000, 0, UART_PL011, 0, false },        /* QEMU virt's PL011 */
		{ 0x0d, 0, 3, 0x9000000, 0, UART_PL011, 0, false },        /* SBSA 32-bit */
		{ 0x0e, 0, 3, 0x9000000, 0, UART_PL011, 0, false },        /* SBSA generic */
		{ 0x0f, 0, 3, 0x9000000, -1, UART_NONE, 0, false },        /* ARM DCC: not a UART we drive */
		{ 0x12, 0, 3, 0, -1, UART_NONE, 0, false },                /* no address */
	};
	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		uint8_t *t[] = { m, spcr_new(2, 80, c[i].type, c[i].space, c[i].access, c[i].addr, 7, 0) };
		CHECK_EQ(parse_xsdt("SPCRUT", t, 2, &ai), 0);
		struct uart u = { .type = UART_NONE };
		CHECK_EQ(uart_from_spcr(&ai, &u), c[i].ret);
		if (c[i].ret != 0)
			continue;
		CHECK_EQ(u.type, c[i].ut);
		CHECK_EQ(u.base, c[i].addr);
		if (u.type == UART_16550_MMIO) {
			CHECK_EQ(u.shift, c[i].shift);
			CHECK_EQ(u.mmio32, c[i].mmio32);
		}
	}
	/* No SPCR at all (x86 VMs): the arch default is the caller's business. */
	CHECK_EQ(parse_xsdt("NOSPCR", &m, 1, &ai), 0);
	struct uart u = { .type = UART_NONE };
	CHECK_EQ(uart_from_spcr(&ai, &u), -1);
	blobs_free();
}

static void test_strerror(void)
{
	const int errs[] = { ACPI_ENORSDP, ACPI_ENOXSDT, ACPI_EBADTABLE, ACPI_ENOMADT };
	for (size_t i = 0; i < ARRAY_SIZE(errs); i++) {
		const char *m = acpi_strerror(errs[i]);
		CHECK(m && m[0]);
		CHECK(strcmp(m, acpi_strerror(-99)) != 0);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(m, acpi_strerror(errs[j])) != 0);
	}
	CHECK(acpi_strerror(0) && acpi_strerror(-99) && acpi_strerror(-99)[0]);
}

TEST_MAIN("test_acpi: proves RSDP/XSDT/RSDT, MADT (xAPIC, x2APIC, GICC), SPCR, MCFG and FADT parsing "
	  "checks every length and checksum, honours old short tables and never reads past a table, takes the FADT reset register only "
	  "when RESET_REG_SUP vouches for it and the table holds it, and that a Graviton-like SPCR gives a 16550 console by 32-bit MMIO with registers 4 bytes apart",
	test_x86();
	test_aarch64();
	test_rsdt();
	test_bad_rsdp();
	test_bad_root();
	test_bad_tables();
	test_madt_walk();
	test_fadt_lengths();
	test_cap();
	test_spcr();
	test_console_graviton();
	test_console_choice();
	test_strerror())
