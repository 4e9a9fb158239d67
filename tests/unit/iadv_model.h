/* What the 82576 and 82599 models share: the multicast table lookup as the manuals describe it
 * (82575EB/82576 RCTL.MO and MTA[127:0], 14.5.1; 82599 MCSTCTRL.MO and MTA): the offset picks
 * 12 bits of the destination address, 0: bits 47:36, 1: 46:35, 2: 45:34, 3: 43:32; the upper 7
 * of them name one of 128 registers, the lower 5 its bit. */
#ifndef POLLUX_IADV_MODEL_H
#define POLLUX_IADV_MODEL_H

#include <stdbool.h>
#include <stdint.h>

/* The MTA's contents after a reset are undefined (initial value X): a driver must write every
 * register. */
#define IADV_MODEL_MTA_JUNK 0x5a5a5a5au

static inline bool iadv_model_mta_hit(const uint32_t mta[128], unsigned mo, const uint8_t dst[6])
{
	static const unsigned shift[4] = { 4, 3, 2, 0 };        /* address bit 32 is byte 4's bit 0 */
	uint32_t h = ((uint32_t)dst[4] | (uint32_t)dst[5] << 8) >> shift[mo & 3] & 0xfff;
	return mta[h >> 5] >> (h & 31) & 1;
}

#endif
