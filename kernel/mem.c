/* Physical memory: one early pool for boot-time allocations, then one arena per core. */
#include <string.h>

#include "kernel.h"

static struct mem_pool early;
static struct arena {
	struct mem_pool pool;
} __attribute__((aligned(CACHELINE))) arenas[POLLUX_MAX_CORES];
static uint32_t narenas;
static uint64_t total_ram;

void mem_init(const struct boot_info *bi)
{
	for (uint32_t i = 0; i < bi->nranges; i++)
		if (bi->ranges[i].kind == MEM_FREE || bi->ranges[i].kind == MEM_USED)
			total_ram += bi->ranges[i].size;
	/* Leave the first MiB alone: the x86 AP trampoline and legacy areas live there. */
	mem_pool_init(&early, bi->ranges, bi->nranges, MiB(1));
	if (mem_pool_bytes(&early) == 0)
		panic("mem: the UEFI map has no free memory above 1 MiB");
}

/* The boot core keeps 1/16 of free memory (at most 256 MiB) for stacks and tables of cores
 * not yet started; the rest is split evenly so each core owns a contiguous share. */
void mem_init_arenas(uint32_t ncores)
{
	uint64_t keep = mem_pool_bytes(&early) / 16;
	if (keep > MiB(256))
		keep = MiB(256);
	uint64_t share = (mem_pool_bytes(&early) - keep) / ncores;
	for (uint32_t i = 0; i < ncores && i < POLLUX_MAX_CORES; i++)
		mem_pool_take(&early, &arenas[i].pool, share);
	narenas = ncores;
}

uint64_t mem_alloc_raw(uint32_t core, uint64_t size, uint64_t align)
{
	return core < narenas ? mem_pool_alloc(&arenas[core].pool, size, align, 0) : 0;
}

uint64_t mem_alloc(uint32_t core, uint64_t size, uint64_t align)
{
	uint64_t pa = mem_alloc_raw(core, size, align);
	if (pa)
		memset((void *)(uintptr_t)pa, 0, ALIGN_UP(size, 64));
	return pa;
}

uint64_t mem_arena_bytes(uint32_t core)
{
	return core < narenas ? mem_pool_bytes(&arenas[core].pool) : 0;
}

uint64_t mem_alloc_early(uint64_t size, uint64_t align, uint64_t below)
{
	uint64_t pa = mem_pool_alloc(&early, size, align, below);
	if (pa)
		memset((void *)(uintptr_t)pa, 0, ALIGN_UP(size, 64));
	return pa;
}

uint64_t mem_free_bytes(void)
{
	uint64_t sum = mem_pool_bytes(&early);
	for (uint32_t i = 0; i < narenas; i++)
		sum += mem_pool_bytes(&arenas[i].pool);
	return sum;
}

uint64_t mem_total_ram(void)
{
	return total_ram;
}
