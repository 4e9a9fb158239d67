/* ACPI tables: RSDP -> XSDT/RSDT -> MADT, SPCR, MCFG, FADT, every length and checksum checked. */
#include "kernel.h"

/* Layouts from ACPI 6.5 (chapter 5.2) and Microsoft's SPCR 1.10. Every struct is packed, so a
 * member read is a bytewise load wherever the compiler cannot prove alignment: firmware places
 * tables at any byte address and -mstrict-align must not fault on them. */
#define PACKED __attribute__((packed))

struct acpi_rsdp {                      /* 5.2.5.3 */
	char sig[8];                    /* "RSD PTR " */
	uint8_t checksum;               /* first 20 bytes sum to 0 */
	char oem_id[6];
	uint8_t revision;               /* 0: ACPI 1.0 (20 bytes); 2: ACPI 2.0+ */
	uint32_t rsdt;
	uint32_t length;                /* revision >= 2 only: the whole structure */
	uint64_t xsdt;
	uint8_t ext_checksum;           /* all `length` bytes sum to 0 */
	uint8_t reserved[3];
} PACKED;
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP size");
_Static_assert(offsetof(struct acpi_rsdp, oem_id) == 9, "RSDP oem_id");
_Static_assert(offsetof(struct acpi_rsdp, revision) == 15, "RSDP revision");
_Static_assert(offsetof(struct acpi_rsdp, rsdt) == 16, "RSDP rsdt");
_Static_assert(offsetof(struct acpi_rsdp, length) == 20, "RSDP length");
_Static_assert(offsetof(struct acpi_rsdp, xsdt) == 24, "RSDP xsdt");
_Static_assert(offsetof(struct acpi_rsdp, ext_checksum) == 32, "RSDP ext_checksum");

struct acpi_header {                    /* 5.2.6: starts every table but the RSDP */
	char sig[4];
	uint32_t length;                /* header included */
	uint8_t revision;
	uint8_t checksum;               /* all `length` bytes sum to 0 */
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} PACKED;
_Static_assert(sizeof(struct acpi_header) == 36, "header size");
_Static_assert(offsetof(struct acpi_header, length) == 4, "header length");
_Static_assert(offsetof(struct acpi_header, checksum) == 9, "header checksum");
_Static_assert(offsetof(struct acpi_header, oem_id) == 10, "header oem_id");

struct acpi_gas_raw {                   /* 5.2.3.2 Generic Address Structure */
	uint8_t space;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} PACKED;
_Static_assert(sizeof(struct acpi_gas_raw) == 12, "GAS size");
_Static_assert(offsetof(struct acpi_gas_raw, address) == 4, "GAS address");

struct acpi_madt {                      /* 5.2.12, signature "APIC" */
	struct acpi_header h;
	uint32_t lapic_addr;            /* 32-bit local APIC base; type 5 may override it */
	uint32_t flags;
	/* interrupt controller structures follow, each starting with type and length bytes */
} PACKED;
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT size");
_Static_assert(offsetof(struct acpi_madt, lapic_addr) == 36, "MADT lapic_addr");

#define MADT_LAPIC 0x0
#define MADT_LAPIC_OVERRIDE 0x5
#define MADT_X2APIC 0x9
#define MADT_GICC 0xB

/* Local APIC / x2APIC flags (5.2.12.2): bit 0 enabled, bit 1 online capable. A core that is only
 * online capable needs hot-add, which Pollux does not do, so only bit 0 counts. GICC bit 0 is
 * also "enabled" (5.2.12.14, bit 3 is its online capable). */
#define MADT_ENABLED 0x1u

struct madt_lapic {                     /* 5.2.12.2 */
	uint8_t type, length;
	uint8_t uid;
	uint8_t apic_id;
	uint32_t flags;
} PACKED;
_Static_assert(sizeof(struct madt_lapic) == 8, "LAPIC size");
_Static_assert(offsetof(struct madt_lapic, flags) == 4, "LAPIC flags");

struct madt_lapic_override {            /* 5.2.12.8 */
	uint8_t type, length;
	uint16_t reserved;
	uint64_t address;
} PACKED;
_Static_assert(sizeof(struct madt_lapic_override) == 12, "LAPIC override size");
_Static_assert(offsetof(struct madt_lapic_override, address) == 4, "LAPIC override address");

struct madt_x2apic {                    /* 5.2.12.12 */
	uint8_t type, length;
	uint16_t reserved;
	uint32_t x2apic_id;
	uint32_t flags;
	uint32_t uid;
} PACKED;
_Static_assert(sizeof(struct madt_x2apic) == 16, "x2APIC size");
_Static_assert(offsetof(struct madt_x2apic, x2apic_id) == 4, "x2APIC id");
_Static_assert(offsetof(struct madt_x2apic, flags) == 8, "x2APIC flags");
_Static_assert(offsetof(struct madt_x2apic, uid) == 12, "x2APIC uid");

struct madt_gicc {                      /* 5.2.12.14: 82 bytes in 6.5, 80 in 6.0, 76 in 5.1 */
	uint8_t type, length;
	uint16_t reserved;
	uint32_t cpu_interface;
	uint32_t uid;
	uint32_t flags;
	uint32_t parking_version;
	uint32_t perf_gsiv;
	uint64_t parked_addr;
	uint64_t gicc_base;
	uint64_t gicv_base;
	uint64_t gich_base;
	uint32_t vgic_gsiv;
	uint64_t gicr_base;
	uint64_t mpidr;
	uint8_t power_class;
	uint8_t reserved2;
	uint16_t spe_gsiv;
	uint16_t trbe_gsiv;
} PACKED;
_Static_assert(sizeof(struct madt_gicc) == 82, "GICC size");
_Static_assert(offsetof(struct madt_gicc, uid) == 8, "GICC uid");
_Static_assert(offsetof(struct madt_gicc, flags) == 12, "GICC flags");
_Static_assert(offsetof(struct madt_gicc, gicr_base) == 60, "GICC gicr_base");
_Static_assert(offsetof(struct madt_gicc, mpidr) == 68, "GICC mpidr");

/* MPIDR_EL1 affinity: Aff3 [39:32], Aff2 [23:16], Aff1 [15:8], Aff0 [7:0]. Bit 31 (RES1) and
 * bit 24 (MT, on older cores) are not part of the identity and must not take part in matching. */
#define MPIDR_AFF_MASK 0xFF00FFFFFFull

struct acpi_spcr {                      /* Microsoft SPCR, table revision 4 (spec 1.10) */
	struct acpi_header h;
	uint8_t interface_type;         /* DBG2 serial port subtype */
	uint8_t reserved[3];
	struct acpi_gas_raw base;
	uint8_t interrupt_type;
	uint8_t irq;
	uint32_t gsi;
	uint8_t baud;                   /* 3 9600, 4 19200, 6 57600, 7 115200, 0 as is */
	uint8_t parity;
	uint8_t stop_bits;
	uint8_t flow_control;
	uint8_t terminal_type;
	uint8_t language;
	uint16_t pci_device_id;
	uint16_t pci_vendor_id;
	uint8_t pci_bus, pci_device, pci_function;
	uint32_t pci_flags;
	uint8_t pci_segment;
	uint32_t uart_clock;            /* revision >= 3 */
	uint32_t precise_baud;          /* revision >= 4: nonzero overrides `baud` */
	uint16_t namespace_len;
	uint16_t namespace_off;
} PACKED;
_Static_assert(sizeof(struct acpi_spcr) == 88, "SPCR size");
_Static_assert(offsetof(struct acpi_spcr, interface_type) == 36, "SPCR interface_type");
_Static_assert(offsetof(struct acpi_spcr, base) == 40, "SPCR base");
_Static_assert(offsetof(struct acpi_spcr, baud) == 58, "SPCR baud");
_Static_assert(offsetof(struct acpi_spcr, pci_segment) == 75, "SPCR pci_segment");
_Static_assert(offsetof(struct acpi_spcr, uart_clock) == 76, "SPCR uart_clock");
_Static_assert(offsetof(struct acpi_spcr, precise_baud) == 80, "SPCR precise_baud");

struct acpi_mcfg {                      /* PCI Firmware spec 3.2, 4.1.2 */
	struct acpi_header h;
	uint8_t reserved[8];
} PACKED;
_Static_assert(sizeof(struct acpi_mcfg) == 44, "MCFG size");

struct mcfg_entry {
	uint64_t base;                  /* ECAM base of bus 0 of the segment */
	uint16_t segment;
	uint8_t bus_start, bus_end;
	uint32_t reserved;
} PACKED;
_Static_assert(sizeof(struct mcfg_entry) == 16, "MCFG entry size");

struct acpi_fadt {                      /* 5.2.9, signature "FACP" */
	struct acpi_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk, pm2_cnt_blk;
	uint32_t pm_tmr_blk;            /* I/O port of the 3.579545 MHz PM timer */
	uint32_t gpe0_blk, gpe1_blk;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len, gpe0_blk_len, gpe1_blk_len;
	uint8_t gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;                 /* end of the ACPI 1.0 FADT (116 bytes) after reset_reg */
	struct acpi_gas_raw reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;         /* ACPI 5.1+ */
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas_raw x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas_raw x_pm2_cnt_blk;
	struct acpi_gas_raw x_pm_tmr_blk;
	struct acpi_gas_raw x_gpe0_blk, x_gpe1_blk;
	struct acpi_gas_raw sleep_control_reg, sleep_status_reg;
	uint64_t hypervisor_vendor;
} PACKED;
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT size");
_Static_assert(offsetof(struct acpi_fadt, pm_tmr_blk) == 76, "FADT pm_tmr_blk");
_Static_assert(offsetof(struct acpi_fadt, iapc_boot_arch) == 109, "FADT iapc_boot_arch");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT flags");
_Static_assert(offsetof(struct acpi_fadt, reset_reg) == 116, "FADT reset_reg");
_Static_assert(offsetof(struct acpi_fadt, arm_boot_arch) == 129, "FADT arm_boot_arch");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT x_dsdt");
_Static_assert(offsetof(struct acpi_fadt, x_pm_tmr_blk) == 208, "FADT x_pm_tmr_blk");
_Static_assert(offsetof(struct acpi_fadt, hypervisor_vendor) == 268, "FADT hypervisor_vendor");

#define FADT_TMR_VAL_EXT (1u << 8)      /* PM timer counts 32 bits, not 24 */
#define FADT_RESET_REG_SUP (1u << 10)   /* RESET_REG and RESET_VALUE are valid (5.2.9.3) */
#define FADT_HW_REDUCED (1u << 20)      /* no fixed hardware: the PM timer fields are to be ignored */

/* True when the table of length len holds all of member m of type t: older and shorter revisions
 * of a table are valid, their missing fields simply do not exist. */
#define HAS_FIELD(len, t, m) ((uint64_t)offsetof(t, m) + sizeof(((t *)0)->m) <= (uint64_t)(len))

/* Sanity cap on a table we checksum: a wild length would otherwise walk far into unmapped space.
 * A MADT for 16k GICC cores is about 1.3 MiB. */
#define ACPI_TABLE_MAX MiB(4)

static const void *phys(uint64_t pa)
{
	return (const void *)(uintptr_t)pa;
}

static bool same(const void *a, const char *b, size_t n)
{
	const uint8_t *p = a;
	for (size_t i = 0; i < n; i++)
		if (p[i] != (uint8_t)b[i])
			return false;
	return true;
}

static uint8_t sum8(const void *p, uint64_t n)
{
	const uint8_t *b = p;
	uint8_t s = 0;
	for (uint64_t i = 0; i < n; i++)
		s = (uint8_t)(s + b[i]);
	return s;
}

/* Little-endian load of n bytes at p, bytewise: XSDT entries sit at offset 36, so every other one
 * is only 4-byte aligned, and firmware does not promise even that for the table itself. */
static uint64_t load_le(const void *p, unsigned n)
{
	const uint8_t *b = p;
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static struct acpi_gas gas_from(const struct acpi_gas_raw *r)
{
	return (struct acpi_gas){ .space = r->space, .bit_width = r->bit_width,
		.bit_offset = r->bit_offset, .access_size = r->access_size, .address = r->address };
}

/* The table at pa if its length fits [min_len, ACPI_TABLE_MAX] and its bytes sum to zero. The
 * signature was already matched by the caller. */
static const struct acpi_header *table_ok(uint64_t pa, uint32_t min_len)
{
	if (pa == 0)
		return NULL;
	const struct acpi_header *h = phys(pa);
	uint32_t len = h->length;
	if (len < min_len || len < sizeof(struct acpi_header) || len > ACPI_TABLE_MAX)
		return NULL;
	if (sum8(h, len) != 0)
		return NULL;
	return h;
}

static void add_cpu(struct acpi_info *out, uint64_t hwid, uint32_t uid)
{
	/* Firmware may list a core twice (an xAPIC entry and an x2APIC one with the same ID):
	 * starting it twice would be wrong, so the first entry wins. */
	for (uint32_t i = 0; i < out->ncpus; i++)
		if (out->cpu[i].hwid == hwid)
			return;
	if (out->ncpus >= ACPI_MAX_CPUS)
		return;
	out->cpu[out->ncpus].hwid = hwid;
	out->cpu[out->ncpus].uid = uid;
	out->ncpus++;
}

static void parse_madt(const struct acpi_madt *m, struct acpi_info *out)
{
	const uint8_t *base = (const uint8_t *)m;
	uint32_t len = m->h.length;
	out->lapic_base = m->lapic_addr;
	/* Walk the subtables; one that is shorter than its own type-and-length bytes or runs past
	 * the table ends the walk, since nothing after it can be located reliably. */
	for (uint32_t off = sizeof(*m); off + 2 <= len;) {
		uint8_t type = base[off], sl = base[off + 1];
		if (sl < 2 || sl > len - off)
			break;
		const void *s = base + off;
		switch (type) {
		case MADT_LAPIC:
			if (sl >= sizeof(struct madt_lapic)) {
				const struct madt_lapic *e = s;
				if (e->flags & MADT_ENABLED)
					add_cpu(out, e->apic_id, e->uid);
			}
			break;
		case MADT_LAPIC_OVERRIDE:
			if (sl >= sizeof(struct madt_lapic_override))
				out->lapic_base = ((const struct madt_lapic_override *)s)->address;
			break;
		case MADT_X2APIC:
			if (sl >= sizeof(struct madt_x2apic)) {
				const struct madt_x2apic *e = s;
				if (e->flags & MADT_ENABLED)
					add_cpu(out, e->x2apic_id, e->uid);
			}
			break;
		case MADT_GICC:
			/* ACPI 5.0 GICC entries (40 bytes) have no MPIDR: such a core cannot be
			 * named to PSCI, so it is left out rather than guessed. */
			if (HAS_FIELD(sl, struct madt_gicc, mpidr)) {
				const struct madt_gicc *e = s;
				if (e->flags & MADT_ENABLED)
					add_cpu(out, e->mpidr & MPIDR_AFF_MASK, e->uid);
			}
			break;
		}
		off += sl;
	}
}

static uint32_t spcr_baud_code(uint8_t code)
{
	switch (code) {
	case 3: return 9600;
	case 4: return 19200;
	case 6: return 57600;
	case 7: return 115200;
	}
	return 0;       /* 0 = as the firmware left it; other values are reserved */
}

static void parse_spcr(const struct acpi_spcr *s, struct acpi_info *out)
{
	uint32_t len = s->h.length;
	out->has_spcr = true;
	out->spcr_type = s->interface_type;
	out->spcr_addr = gas_from(&s->base);
	if (HAS_FIELD(len, struct acpi_spcr, baud))
		out->spcr_baud = spcr_baud_code(s->baud);
	/* Revision 4 adds a precise rate for UARTs faster than the code can say (e.g. 1.5 Mbaud). */
	if (s->h.revision >= 4 && HAS_FIELD(len, struct acpi_spcr, precise_baud) && s->precise_baud)
		out->spcr_baud = s->precise_baud;
}

static void parse_mcfg(const struct acpi_mcfg *m, struct acpi_info *out)
{
	uint32_t n = (m->h.length - (uint32_t)sizeof(*m)) / (uint32_t)sizeof(struct mcfg_entry);
	const struct mcfg_entry *e = (const struct mcfg_entry *)(m + 1);
	for (uint32_t i = 0; i < n && out->nmcfg < ACPI_MAX_MCFG; i++) {
		out->mcfg[out->nmcfg].base = e[i].base;
		out->mcfg[out->nmcfg].segment = e[i].segment;
		out->mcfg[out->nmcfg].bus_start = e[i].bus_start;
		out->mcfg[out->nmcfg].bus_end = e[i].bus_end;
		out->nmcfg++;
	}
}

static void parse_fadt(const struct acpi_fadt *f, struct acpi_info *out)
{
	uint32_t len = f->h.length;
	uint32_t flags = HAS_FIELD(len, struct acpi_fadt, flags) ? f->flags : 0;
	out->has_fadt = true;
	if (HAS_FIELD(len, struct acpi_fadt, arm_boot_arch))
		out->arm_boot_flags = f->arm_boot_arch;
	/* The reset register is not fixed hardware: a hardware-reduced platform may have one too
	 * (5.2.9, RESET_REG). Only an 8-bit register at bit 0 in memory or I/O space is usable
	 * (4.8.3.6); anything else (PCI configuration space, say) is left to the arch's fallbacks. */
	if ((flags & FADT_RESET_REG_SUP) && HAS_FIELD(len, struct acpi_fadt, reset_value) &&
	    f->reset_reg.address && f->reset_reg.bit_width == 8 && f->reset_reg.bit_offset == 0 &&
	    (f->reset_reg.space == 0 || f->reset_reg.space == 1)) {
		out->reset_reg = gas_from(&f->reset_reg);
		out->reset_value = f->reset_value;
	}
	/* A hardware-reduced platform has no PM timer whatever the fields say (5.2.9). */
	if (flags & FADT_HW_REDUCED)
		return;
	out->pm_timer_32bit = (flags & FADT_TMR_VAL_EXT) != 0;
	if (HAS_FIELD(len, struct acpi_fadt, pm_tmr_blk) && f->pm_tmr_blk)
		out->pm_timer = (struct acpi_gas){ .space = 1, .bit_width = 32, .access_size = 3,
						   .address = f->pm_tmr_blk };
	/* The 64-bit GAS supersedes the port when it is present and set (5.2.9, X_PM_TMR_BLK). */
	if (HAS_FIELD(len, struct acpi_fadt, x_pm_tmr_blk) && f->x_pm_tmr_blk.address)
		out->pm_timer = gas_from(&f->x_pm_tmr_blk);
}

int acpi_parse(uint64_t rsdp_pa, struct acpi_info *out)
{
	uint8_t *z = (uint8_t *)out;
	for (size_t i = 0; i < sizeof(*out); i++)
		z[i] = 0;

	if (rsdp_pa == 0)
		return ACPI_ENORSDP;
	const struct acpi_rsdp *rsdp = phys(rsdp_pa);
	if (!same(rsdp->sig, "RSD PTR ", 8) || sum8(rsdp, 20) != 0)
		return ACPI_ENORSDP;
	if (rsdp->revision >= 2) {
		uint32_t len = rsdp->length;
		if (len < sizeof(*rsdp) || len > ACPI_TABLE_MAX || sum8(rsdp, len) != 0)
			return ACPI_ENORSDP;
	}
	for (int i = 0; i < 6; i++)
		out->oem_id[i] = rsdp->oem_id[i];
	out->oem_id[6] = 0;

	/* The XSDT when ACPI 2.0+ offers one; the RSDT if not, or if the XSDT is damaged (its
	 * entries name the same tables, only with 32-bit addresses). */
	const struct acpi_header *root = NULL;
	unsigned esize = 0;
	if (rsdp->revision >= 2 && rsdp->xsdt && same(phys(rsdp->xsdt), "XSDT", 4)) {
		root = table_ok(rsdp->xsdt, sizeof(struct acpi_header));
		esize = 8;
	}
	if (!root && rsdp->rsdt && same(phys(rsdp->rsdt), "RSDT", 4)) {
		root = table_ok(rsdp->rsdt, sizeof(struct acpi_header));
		esize = 4;
	}
	if (!root)
		return ACPI_ENOXSDT;

	const uint8_t *ent = (const uint8_t *)(root + 1);
	uint32_t n = (root->length - (uint32_t)sizeof(*root)) / esize;
	bool have_madt = false, bad_madt = false;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t pa = load_le(ent + (size_t)i * esize, esize);
		if (pa == 0)
			continue;
		const struct acpi_header *h = phys(pa);
		/* Only tables we use are checksummed: the DSDT and SSDTs can be large and are not
		 * read at all. The first good table of each kind wins; a damaged optional table is
		 * as if absent. */
		if (same(h->sig, "APIC", 4)) {
			if (have_madt)
				continue;
			const struct acpi_header *t = table_ok(pa, sizeof(struct acpi_madt));
			if (!t) {
				bad_madt = true;
				continue;
			}
			parse_madt((const struct acpi_madt *)t, out);
			have_madt = true;
		} else if (same(h->sig, "SPCR", 4) && !out->has_spcr) {
			const struct acpi_header *t = table_ok(pa, offsetof(struct acpi_spcr, interrupt_type));
			if (t)
				parse_spcr((const struct acpi_spcr *)t, out);
		} else if (same(h->sig, "MCFG", 4) && out->nmcfg == 0) {
			const struct acpi_header *t = table_ok(pa, sizeof(struct acpi_mcfg));
			if (t)
				parse_mcfg((const struct acpi_mcfg *)t, out);
		} else if (same(h->sig, "FACP", 4) && !out->has_fadt) {
			const struct acpi_header *t = table_ok(pa, sizeof(struct acpi_header));
			if (t)
				parse_fadt((const struct acpi_fadt *)t, out);
		}
	}
	/* Report only now, so the caller still gets the SPCR console to print the error on. */
	if (!have_madt)
		return bad_madt ? ACPI_EBADTABLE : ACPI_ENOMADT;
	return 0;
}

const char *acpi_strerror(int err)
{
	switch (err) {
	case 0: return "ok";
	case ACPI_ENORSDP: return "bad RSDP signature or checksum";
	case ACPI_ENOXSDT: return "bad XSDT/RSDT";
	case ACPI_EBADTABLE: return "MADT length or checksum is wrong";
	case ACPI_ENOMADT: return "no MADT: cores cannot be found";
	}
	return "unknown ACPI error";
}
