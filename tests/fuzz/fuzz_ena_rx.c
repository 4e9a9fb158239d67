/*
 * fuzz_ena_rx: drivers/ena.c and drivers/nic.c against a hostile device (libFuzzer, ASan, UBSan).
 * The ENA model (tests/unit/ena_model.c) runs 2 queue pairs with RSS; between the driver's calls
 * the fuzzer has it deliver frames, write RX and TX completion descriptors straight into the
 * completion queues (any status and phase bit, length, request id, offset, hash), post
 * asynchronous events of any group and data, and stop its keep-alives, while the network layer
 * holds and returns buffers in any order and sends frames in place. No buffer may be handed up
 * twice (nic.c's panic must never fire), no frame may lie outside its buffer, every frame sent in
 * place must be given back exactly once, every completion that is certainly bad and was reached
 * must be counted, and after each input the device comes back from a reset and delivers a frame
 * whole.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "drivers/nic.h"
#include "drivers/pci.h"
#include "drivers/ena_reg.h"
#include "ena_model.h"
#include "nic_fuzz.h"

#define PAIRS 2

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

void fz_dma_add(const void *p, uint64_t len) { (void)p, (void)len; }
void fz_device_step(uint32_t ms) { em_tick(ms); }
int fz_wire(const uint8_t *f, uint32_t len)
{
	int i = em_rx(f, len);
	if (i < 0)
		return -1;
	/* The device queue's pair: RX queues are made in pair order. */
	int p = 0;
	for (int j = 0; j < i; j++)
		p += em.q[j].used && !em.q[j].tx;
	return p;
}

static void boot_once(void)
{
	struct em_cfg c = { .max_queues = PAIRS };
	em_init(&c);
	if (pci_scan(&em_acpi) != 1)
		fz_fail("no ENA function", 0, 0);
	fz_start(PAIRS);
}

/* The model's slot of pair p's RX (TX) queue, or -1. */
static int slot_of(uint32_t p, bool tx)
{
	for (int i = 0; i < EM_MAX_Q; i++)
		if (em.q[i].used && em.q[i].tx == tx && p-- == 0)
			return i;
	return -1;
}
static int rx_slot(uint32_t p) { return slot_of(p, false); }
static int tx_slot(uint32_t p) { return slot_of(p, true); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool booted;
	if (!booted) {
		boot_once();
		booted = true;
	}
	struct fz_in in = { data, size };
	fz_input_start();
	uint64_t resets0 = fz_resets_begun(), before = 0, bad = 0;
	uint32_t written[PAIRS] = { 0 };
	bool unsure = false;            /* an entry the driver may never reach: nothing owed */
	const struct nic *n = nic_dev();
	for (uint32_t q = 0; q < PAIRS; q++)
		before += fz_counted(q);
	for (int step = 0; step < 400 && in.n; step++) {
		uint32_t q = fz_take(&in, 1) & 1, op = fz_take(&in, 1) % 12;
		int slot = rx_slot(q);
		fz_trace(" q%u:op%u", q, op);
		switch (op) {
		case 0: {       /* a frame from the wire, placed by RSS */
			uint8_t f[1600];
			uint32_t len = fz_frame(f, n->mac, fz_take(&in, 4));
			int p = fz_wire(f, len);
			if (p >= 0 && p < PAIRS)
				written[p]++;
			break;
		}
		case 1: {       /* an RX completion as the device likes */
			struct ena_rx_cdesc c = { 0 };
			uint32_t pick = fz_take(&in, 1);
			c.status = pick & 0x80 ? fz_take(&in, 4) : ENA_RXC_FIRST | ENA_RXC_LAST | fz_take(&in, 2);
			c.length = (uint16_t)fz_take(&in, 2);
			c.req_id = (uint16_t)(pick & 0x40 ? fz_take(&in, 2) : fz_take(&in, 1) % (2 * n->rx_size));
			c.hash = fz_take(&in, 4);
			c.offset = (uint8_t)(pick & 0x20 ? fz_take(&in, 1) : 0);
			if (slot < 0)
				break;
			struct em_cq *cq = &em.cq[em.q[slot].cq];
			bool right = !(pick & 0x10);    /* the phase bit of this lap, or the last one's */
			c.status = (c.status & ~ENA_RXC_PHASE) | (uint32_t)(cq->phase ^ !right) << 24;
			uint8_t *dst = (uint8_t *)(uintptr_t)cq->ba + (uint64_t)(cq->tail & (cq->depth - 1)) * cq->words * 4;
			memcpy(dst, &c, sizeof(c));
			if ((++cq->tail & (cq->depth - 1)) == 0)
				cq->phase ^= 1;
			written[q]++;
			fz_trace("(st %x len %u id %u off %u)", c.status, c.length, c.req_id, c.offset);
			if (!right)
				unsure = true;  /* the driver stops there until the next lap */
			else if (c.req_id >= 2 * n->rx_size || c.length < 14 || c.length > NIC_BUF_SIZE - n->caps.rx_hdr ||
				 (c.status & (ENA_RXC_FIRST | ENA_RXC_LAST)) != (ENA_RXC_FIRST | ENA_RXC_LAST) || c.offset)
				bad++;
			break;
		}
		case 2:         /* an asynchronous event: any group, any data */
			em_aenq((uint16_t)(fz_take(&in, 1) % 8), fz_take(&in, 4));
			unsure = true;
			break;
		case 3:         /* keep-alives stop, or start again */
			em.keep_alive_stopped = !em.keep_alive_stopped;
			break;
		case 4:         /* the network layer takes frames, keeping some */
			fz_burst(q, 1 + (int)(fz_take(&in, 1) % 64), fz_take(&in, 1) & 1);
			break;
		case 5:         /* ... and gives buffers back */
			fz_return(q, fz_take(&in, 1) % 16);
			break;
		case 6:
			nic_flush(q);
			break;
		case 7:         /* a quarter second: keep-alives, the slow path */
			host_clock += FZ_HZ / 4;
			em_tick(250);
			nic_slow_poll();
			break;
		case 10:        /* the network layer sends, the payload in place */
			fz_trace("(sent %d)", fz_send(q, fz_take(&in, 4)));
			break;
		case 11: {      /* a TX completion as the device likes */
			int ts = tx_slot(q);
			uint32_t pick = fz_take(&in, 1);
			struct ena_tx_cdesc c = { 0 };
			c.req_id = (uint16_t)(pick & 0x80 ? fz_take(&in, 2) : fz_take(&in, 1) % n->tx_size);
			c.status = (uint8_t)fz_take(&in, 1);
			c.sq_head = (uint16_t)fz_take(&in, 2);
			if (ts < 0)
				break;
			struct em_cq *cq = &em.cq[em.q[ts].cq];
			bool right = !(pick & 0x10);
			c.flags = (uint8_t)(cq->phase ^ !right);
			uint8_t *dst = (uint8_t *)(uintptr_t)cq->ba + (uint64_t)(cq->tail & (cq->depth - 1)) * cq->words * 4;
			memcpy(dst, &c, sizeof(c));
			if ((++cq->tail & (cq->depth - 1)) == 0)
				cq->phase ^= 1;
			fz_trace("(tx id %u phase %s)", c.req_id, right ? "ok" : "old");
			if (!right)
				unsure = true;
			else if (c.req_id >= n->tx_size)
				bad++;
			break;
		}
		default:
			em_tick(fz_take(&in, 1) * 10);
			break;
		}
		if (slot >= 0 && written[q] + 64 > em.cq[em.q[slot].cq].depth)
			unsure = true;          /* the device may have written over entries not yet read */
	}
	/* Whatever is left in the completion queues is taken now. */
	for (int i = 0; i < 8; i++)
		for (uint32_t q = 0; q < PAIRS; q++) {
			fz_burst(q, 64, false);
			nic_flush(q);
		}
	uint64_t counted = 0;
	for (uint32_t q = 0; q < PAIRS; q++)
		counted += fz_counted(q);
	if (!unsure && fz_resets_begun() == resets0 && counted - before < bad)
		fz_fail("bad RX completions not counted (counted, written)", counted - before, bad);
	em.keep_alive_stopped = false;
	fz_recover(PAIRS);
	return 0;
}
