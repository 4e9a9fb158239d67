/* virtio-rng (virtio 1.2, 5.4): an entropy source for the random generators (vrng_). */
#ifndef POLLUX_VIRTIO_RNG_H
#define POLLUX_VIRTIO_RNG_H

/* Boot core, after pci_scan and before the secondaries start (drivers_init): find a virtio-rng
 * device (1af4:1044, or the transitional 1af4:1005 through its modern capabilities; the legacy I/O
 * interface is not driven), set it up, wait at most VRNG_BOOT_MS for VRNG_BOOT_BYTES bytes and give
 * them to random_add ("virtio-rng"), then register the poll hook through which core 0 keeps every
 * core's reseed mailbox filled (random_feed). A device that does not answer in time, or answers
 * with nothing, is reported and credited nothing; the boot goes on. Returns 0 (also with no
 * device), or a negative error already reported. */
#define VRNG_BOOT_BYTES 32
#define VRNG_BOOT_MS 200
int vrng_init(void);

#endif
