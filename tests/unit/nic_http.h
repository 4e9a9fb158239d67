/*
 * HTTP end to end through a NIC driver on the host, shared by test_ena_http and test_ixgbe_http:
 * net/net.c, drivers/nic.c and the driver against a device model with 4 queue pairs and RSS, 4
 * cores played in turn each serving svc_http from its own lwIP copy, a fifth copy as the clients
 * on the model's wire (tests/unit/nic_http_client.c), a small DHCP server on the wire. A test
 * supplies the device (struct nh_dev) and runs nh_scenario in a child (harness_run).
 */
#ifndef POLLUX_NIC_HTTP_H
#define POLLUX_NIC_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#define NH_CORES 4              /* server cores, each with a queue pair and lwIP instance 0..3 */
#define NH_MAX_SLOTS 64         /* RX queue slots a device model may name */

/* A device reset the scenario provokes while 128 connections are open and asking. */
struct nh_reset {
	const char *what;               /* as printed: "reset requested" */
	const char *log;                /* the driver says this when it sees the cause */
	void (*provoke)(void);          /* make the device or the driver want the reset */
	void (*after)(void);            /* once the reset is done (NULL: nothing) */
	uint32_t lead_ms;               /* traffic before provoking it */
	uint32_t requests, every_ms;    /* each connection asks this many more, one every every_ms */
	uint32_t bound_ms;              /* the reset must be done within this */
	/* true: the device stops when nic.c stops the queues, and until its reset it still takes
	 * frames into rings nobody polls (lost); false: it stops at once when provoked (its receive
	 * unit off), refusing every frame until the driver has reset it. */
	bool device_takes;
};

/* The device model under test, as the harness drives it. */
struct nh_dev {
	/* Set the model up at power-on with its PCI function in the fake ECAM (pci_scan(acpi) finds
	 * it); every frame it transmits goes to wire as it leaves. */
	void (*init)(void (*wire)(const uint8_t *f, uint32_t len));
	const struct acpi_info *acpi;
	/* A frame from the wire: the RX queue slot (< NH_MAX_SLOTS) it went to, or < 0 when the device
	 * had no descriptor for it or its receive unit is off. */
	int (*rx)(const uint8_t *f, uint32_t len);
	void (*round)(void);            /* after every round of the cores (NULL: nothing) */
	void (*tick_ms)(void);          /* one millisecond of model time (NULL: nothing) */
	/* The core RSS must bring a TCP flow to: tuple holds source and destination address, then
	 * source and destination port, in network order. */
	uint32_t (*core_of)(const uint8_t tuple[12]);
	void (*check_up)(void);         /* the device's own checks after attach (CHECKs of the test) */
	void (*check_end)(void);        /* and after the clients closed */
	struct nh_reset reset[2];
	/* true: the device does no RSS (one RX queue takes every flow) and net.c steers each flow in
	 * software to the core core_of names; false: the device's RSS brings it there. */
	bool sw_steer;
};

/* Bring-up, DHCP, 64 connections, a reset with 128 open, 64 new ones, the second reset, 64 new
 * ones, then close and look for leaks; name starts each printed line. */
void nh_scenario(const struct nh_dev *d, const char *name);
/* Add the harness's checks and failures to the caller's (test.h's counters are per file) and zero
 * its own. */
void nh_collect(int *checks, int *failed);

/* The driver's named counter of queue q (q < 0: the device) by name; UINT64_MAX when it has none. */
uint64_t nh_counter(int q, const char *name);

#endif
