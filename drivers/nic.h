/* What every NIC driver and the network stack agree on for a frame: its pieces and its offloads. */
#ifndef POLLUX_NIC_H
#define POLLUX_NIC_H

#include <stdint.h>

/* One piece of a frame to send. */
struct nic_frag {
	const void *p;
	uint32_t len;
};

/* Offloads asked for a TX frame: the L4 checksum field at csum_start + csum_offset holds the
 * pseudo-header sum, and the NIC adds the rest. csum_start == 0: none. */
struct nic_txo {
	uint16_t csum_start, csum_offset;
};

/* RX frame flags. */
#define NIC_RX_CSUM_OK 1        /* TCP/UDP checksum checked by the NIC, or left partial by a sender
				 * on the same host that the NIC trusts: do not verify it */

#endif
