/* x86-64 4-level paging entries (Intel SDM vol 3, 4.5): what each pt_kind looks like in a PTE. */
#include "kernel.h"

/* Entry bits, SDM vol 3, 4.5, tables 4-15 to 4-20. */
#define X86_P    (1ULL << 0)    /* present */
#define X86_RW   (1ULL << 1)    /* writable; clear = read-only (CR0.WP makes it bind ring 0 too) */
#define X86_US   (1ULL << 2)    /* user accessible: never set, everything is supervisor */
#define X86_PWT  (1ULL << 3)    /* page-level write-through: PAT index bit 0 */
#define X86_PCD  (1ULL << 4)    /* page-level cache disable: PAT index bit 1 */
#define X86_A    (1ULL << 5)    /* accessed: set by the CPU on first use unless already set */
#define X86_D    (1ULL << 6)    /* dirty (leaves only): set by the CPU on first write unless set */
#define X86_PS   (1ULL << 7)    /* page size: leaf in a PDPTE (1 GiB) or PDE (2 MiB); PAT bit in a PTE */
#define X86_NX   (1ULL << 63)   /* execute-disable (needs EFER.NXE) */
#define X86_ADDR 0x000FFFFFFFFFF000ULL  /* bits 51:12: address of the next table or the page */

/*
 * Cache type: the PAT index is PAT:PCD:PWT (SDM vol 3, 11.12.3). Every core loads IA32_PAT =
 * PT_X86_PAT before our tables (kernel.h): the power-on value (PA0 = WB ... PA3 = UC) except PA1,
 * which is WC. So index 0 is write-back, index 1 (PWT) write-combining and index 3 (PCD|PWT)
 * uncacheable, and the PAT bit (bit 12 in large leaves, bit 7 in 4 KiB leaves) stays 0. The
 * effective type also depends on the MTRRs; firmware sets MMIO to UC there, and PAT WC over MTRR UC
 * is WC (SDM vol 3, table 11-7). pt_build never lets a page straddle an MTRR bound
 * (arch_cache_bounds), so each page has one type.
 */
#define X86_CACHE_WB 0ULL
#define X86_CACHE_WC X86_PWT
#define X86_CACHE_UC (X86_PCD | X86_PWT)
_Static_assert(((PT_X86_PAT >> 8 * 0) & 7) == 6 && ((PT_X86_PAT >> 8 * 1) & 7) == 1 &&
	       ((PT_X86_PAT >> 8 * 3) & 7) == 0, "PT_X86_PAT: index 0 WB, 1 WC, 3 UC");

/*
 * Accessed and dirty are preset on every entry the CPU could update: it sets A on every
 * paging-structure entry it uses and D on leaves it writes through (SDM vol 3, 4.8), and an
 * entry that already has them is never written. So the tables stay byte-for-byte what pt_build
 * made, and pt_checksum stays constant.
 */
static uint64_t x86_table(uint64_t pa)
{
	return (pa & X86_ADDR) | X86_P | X86_RW | X86_A;
}

static uint64_t x86_leaf(uint64_t pa, int level, enum pt_kind k)
{
	if (level < 1 || level > 3)
		return 0;       /* no 512 GiB pages: a PML4E is always a table */
	uint64_t e = (pa & X86_ADDR) | X86_P | X86_A | X86_D;
	if (level < 3)
		e |= X86_PS;
	switch (k) {
	case PT_TEXT:
		e |= X86_CACHE_WB;                      /* read-only, executable */
		break;
	case PT_RODATA:
		e |= X86_CACHE_WB | X86_NX;             /* read-only, never executable */
		break;
	case PT_RAM:
		e |= X86_CACHE_WB | X86_RW | X86_NX;
		break;
	case PT_WC:
		e |= X86_CACHE_WC | X86_RW | X86_NX;
		break;
	case PT_DEVICE:
	case PT_HOLE:   /* unlisted space may hold BARs the firmware did not report: reach it uncached */
	default:
		e |= X86_CACHE_UC | X86_RW | X86_NX;
		break;
	}
	return e;
}

/* Levels 0-2: a present entry without PS points to a table (PS in a PML4E is reserved). */
static int x86_is_table(uint64_t e, int level)
{
	if (level < 0 || level > 2 || !(e & X86_P))
		return 0;
	return level == 0 || !(e & X86_PS);
}

static uint64_t x86_next(uint64_t e)
{
	return e & X86_ADDR;
}

const struct pt_format pt_format_x86_64 = {
	.name = "x86_64",
	.table = x86_table,
	.leaf = x86_leaf,
	.is_table = x86_is_table,
	.next = x86_next,
};
