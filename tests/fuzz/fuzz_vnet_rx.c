/*
 * fuzz_vnet_rx: drivers/virtio_net.c and drivers/nic.c against a hostile device (libFuzzer, ASan,
 * UBSan). The device model (tests/unit/vnet_model.c) runs 2 queue pairs with RSS; between the
 * driver's calls the fuzzer has it deliver frames, write used entries of any id and length on the
 * RX and TX queues, move the used index, lie about lengths, drop the link or ask for a reset,
 * while the network layer holds and returns buffers in any order and sends frames in place. No
 * buffer may be handed up twice (nic.c's panic must never fire), no frame may lie outside its
 * buffer, every frame sent in place must be given back exactly once, every used entry that is
 * certainly bad must be counted, and after each input the device comes back from a reset and
 * delivers a frame whole.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "drivers/nic.h"
#include "drivers/pci.h"
#include "drivers/virtio_net_reg.h"
#include "vnet_model.h"
#include "nic_fuzz.h"

#define PAIRS 2
#define HDR ((uint32_t)sizeof(struct virtio_net_hdr))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

void fz_dma_add(const void *p, uint64_t len) { vm_dma_add(p, len); }
void fz_device_step(uint32_t ms) { (void)ms; vm_step(); }
int fz_wire(const uint8_t *f, uint32_t len) { return vm_rx(f, len, true); }

static void boot_once(void)
{
	struct vm_cfg c = { .pairs = PAIRS };
	vm_init(&c);
	if (pci_scan(&vm_acpi) != 1)
		fz_fail("no virtio-net function", 0, 0);
	fz_start(PAIRS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool booted;
	if (!booted) {
		boot_once();
		booted = true;
	}
	struct fz_in in = { data, size };
	fz_input_start();
	uint64_t resets0 = fz_resets_begun();
	uint64_t before[PAIRS], bad[PAIRS] = { 0 };
	bool unsure[PAIRS] = { false };        /* entries skipped or a reset: nothing owed */
	for (uint32_t q = 0; q < PAIRS; q++)
		before[q] = fz_counted(q);
	for (int step = 0; step < 400 && in.n; step++) {
		uint32_t q = fz_take(&in, 1) & 1;
		uint16_t qi = (uint16_t)(2 * q);        /* RX queue of pair q */
		uint32_t op = fz_take(&in, 1) % 12;
		fz_trace(" q%u:op%u", q, op);
		if (fz_resets_begun() != resets0)
			fz_trace(" [reset begun]");
		switch (op) {
		case 0: {       /* a frame from the wire, placed by RSS */
			uint8_t f[1600];
			uint32_t len = fz_frame(f, nic_dev()->mac, fz_take(&in, 4));
			vm_rx(f, len, fz_take(&in, 1) & 1);
			break;
		}
		case 1: {       /* a used entry as the device likes: any id, any length */
			uint32_t pick = fz_take(&in, 1);
			uint32_t id = pick & 0x80 ? fz_take(&in, 4) : fz_take(&in, 1) % vm.q[qi].size;
			uint32_t len = pick & 0x40 ? fz_take(&in, 4) : fz_take(&in, 2);
			vm_put_used(qi, id, len);
			fz_trace("(id %u len %u)", id, len);
			/* Out of the ring, longer than a buffer or shorter than a frame: never a frame. */
			if (id >= vm.q[qi].size || len > NIC_BUF_SIZE || len < HDR + 14)
				bad[q]++;
			break;
		}
		case 2:         /* the used index moved by anything */
			vm_used_idx_jump(qi, (uint16_t)fz_take(&in, 2));
			unsure[q] = true;
			break;
		case 3: {       /* a frame whose used length is a lie */
			uint8_t f[1600];
			uint32_t len = fz_frame(f, nic_dev()->mac, fz_take(&in, 4));
			uint32_t lie = fz_take(&in, 4);
			vm.rx_len_lie = lie;
			int p = vm_rx(f, len, true);
			vm.rx_len_lie = 0;
			if (p >= 0 && lie && (lie > NIC_BUF_SIZE || lie < HDR + 14))
				bad[p]++;
			break;
		}
		case 4:         /* the network layer takes frames, keeping some */
			fz_burst(q, 1 + (int)(fz_take(&in, 1) % 64), fz_take(&in, 1) & 1);
			break;
		case 5:         /* ... and gives buffers back */
			fz_return(q, fz_take(&in, 1) % 16);
			break;
		case 6:
			nic_flush(q);
			break;
		case 7:         /* a quarter second: the slow path */
			host_clock += FZ_HZ / 4;
			vm_step();
			fz_trace("(ev %u)", nic_slow_poll());
			break;
		case 8:
			if (fz_take(&in, 1) & 1)
				vm_set_needs_reset();
			else
				vm_set_link(!vm.link);
			unsure[0] = unsure[1] = true;
			break;
		case 10:        /* the network layer sends, the payload in place */
			fz_trace("(sent %d)", fz_send(q, fz_take(&in, 4)));
			break;
		case 11: {      /* a used entry on the TX queue: any id, any length */
			uint32_t pick = fz_take(&in, 1);
			uint32_t id = pick & 0x80 ? fz_take(&in, 4) : fz_take(&in, 1) % vm.q[qi + 1].size;
			vm_put_used((uint16_t)(qi + 1), id, fz_take(&in, 2));
			fz_trace("(tx id %u)", id);
			if (id >= vm.q[qi + 1].size)
				bad[q]++;
			break;
		}
		default:
			vm_step();
			break;
		}
	}
	/* Whatever is left in the used rings is taken now. */
	for (int i = 0; i < 8; i++)
		for (uint32_t q = 0; q < PAIRS; q++) {
			fz_burst(q, 64, false);
			nic_flush(q);
		}
	for (uint32_t q = 0; q < PAIRS; q++)
		if (!unsure[q] && fz_resets_begun() == resets0 && fz_counted(q) - before[q] < bad[q])
			fz_fail("bad used entries not counted (counted, written)", fz_counted(q) - before[q], bad[q]);
	if (!vm.link)
		vm_set_link(true);
	fz_recover(PAIRS);
	return 0;
}
