/* AArch64 VMSAv8-64 stage 1 descriptors, 4 KiB granule (ARM ARM D8.3): what each pt_kind looks like. */
#include "kernel.h"

/* Descriptor type, bits 1:0 (ARM ARM D8.3). Levels 0-2: 0b11 table; levels 1-2: 0b01 block
 * (no level 0 blocks with a 4 KiB granule without FEAT_LPA2); level 3: 0b11 page. */
#define A64_VALID     (1ULL << 0)
#define A64_TYPE_MASK 3ULL
#define A64_TABLE     3ULL
#define A64_BLOCK     1ULL
#define A64_PAGE      3ULL

/* Block and page attributes (ARM ARM D8.3, stage 1 attribute fields). */
#define A64_ATTRIDX(i) ((uint64_t)(i) << 2)     /* bits 4:2: index into MAIR_EL1 */
#define A64_AP_RW_EL1  (0ULL << 6)              /* AP[2:1] = 00: read-write at EL1, no EL0 access */
#define A64_AP_RO_EL1  (2ULL << 6)              /* AP[2:1] = 10: read-only at EL1, no EL0 access */
#define A64_SH_NONE    (0ULL << 8)              /* SH[1:0]: ignored for Device memory */
#define A64_SH_OUTER   (2ULL << 8)              /* outer shareable: what Normal non-cacheable is anyway */
#define A64_SH_INNER   (3ULL << 8)              /* inner shareable: all our cores see one coherent RAM */
#define A64_AF         (1ULL << 10)             /* access flag */
#define A64_PXN        (1ULL << 53)             /* privileged (EL1) execute-never */
#define A64_UXN        (1ULL << 54)             /* unprivileged (EL0) execute-never */
#define A64_ADDR       0x0000FFFFFFFFF000ULL    /* bits 47:12: output address (48-bit OA) */

/*
 * MAIR_EL1 slots these entries use (ARM ARM, register description of MAIR_EL1). The arch code programs
 * MAIR_EL1 = PT_AARCH64_MAIR = 0xFF04: attr0 = 0x04 Device-nGnRE (no gathering or reordering,
 * early write acknowledgement allowed: what PCIe MMIO needs), attr1 = 0xFF Normal memory,
 * inner and outer write-back, read- and write-allocate, non-transient, attr2 = 0x44 Normal memory,
 * inner and outer non-cacheable: stores may be gathered (write-combining) and reads may be
 * speculative, which suits a device-memory BAR the CPU only writes descriptors into.
 */
#define A64_MAIR_DEVICE 0
#define A64_MAIR_NORMAL 1
#define A64_MAIR_NC 2
_Static_assert(((PT_AARCH64_MAIR >> 8 * A64_MAIR_DEVICE) & 0xff) == 0x04 &&
	       ((PT_AARCH64_MAIR >> 8 * A64_MAIR_NORMAL) & 0xff) == 0xff &&
	       ((PT_AARCH64_MAIR >> 8 * A64_MAIR_NC) & 0xff) == 0x44, "PT_AARCH64_MAIR slots");

/* Table descriptors carry no attributes of ours (APTable/XNTable/PXNTable 0: no restriction). */
static uint64_t a64_table(uint64_t pa)
{
	return (pa & A64_ADDR) | A64_TABLE;
}

/*
 * AF is always set: with it clear the first access faults (or, with TCR_EL1.HA, the hardware
 * writes it), and the tables must stay exactly as built for pt_checksum. DBM (bit 51) is never set,
 * so hardware dirty-state management never writes either.
 */
static uint64_t a64_leaf(uint64_t pa, int level, enum pt_kind k)
{
	if (level < 1 || level > 3)
		return 0;       /* level 0 entries are always tables */
	uint64_t e = (pa & A64_ADDR) | (level == 3 ? A64_PAGE : A64_BLOCK) | A64_AF;
	switch (k) {
	case PT_TEXT:
		/* Read-only and executable at EL1; EL0 runs nothing of ours. */
		e |= A64_ATTRIDX(A64_MAIR_NORMAL) | A64_AP_RO_EL1 | A64_SH_INNER | A64_UXN;
		break;
	case PT_RODATA:
		e |= A64_ATTRIDX(A64_MAIR_NORMAL) | A64_AP_RO_EL1 | A64_SH_INNER | A64_PXN | A64_UXN;
		break;
	case PT_RAM:
		e |= A64_ATTRIDX(A64_MAIR_NORMAL) | A64_AP_RW_EL1 | A64_SH_INNER | A64_PXN | A64_UXN;
		break;
	case PT_WC:
		/* Non-cacheable Normal memory is Outer Shareable whatever SH says (ARM ARM B2.7.2). */
		e |= A64_ATTRIDX(A64_MAIR_NC) | A64_AP_RW_EL1 | A64_SH_OUTER | A64_PXN | A64_UXN;
		break;
	case PT_DEVICE:
	case PT_HOLE:   /* unlisted space may hold BARs the firmware did not report: reach it as device */
	default:
		/* Never executable: speculative instruction fetch from device memory must not happen. */
		e |= A64_ATTRIDX(A64_MAIR_DEVICE) | A64_AP_RW_EL1 | A64_SH_NONE | A64_PXN | A64_UXN;
		break;
	}
	return e;
}

static int a64_is_table(uint64_t e, int level)
{
	return level >= 0 && level <= 2 && (e & A64_TYPE_MASK) == A64_TABLE;
}

static uint64_t a64_next(uint64_t e)
{
	return e & A64_ADDR;
}

const struct pt_format pt_format_aarch64 = {
	.name = "aarch64",
	.table = a64_table,
	.leaf = a64_leaf,
	.is_table = a64_is_table,
	.next = a64_next,
};
