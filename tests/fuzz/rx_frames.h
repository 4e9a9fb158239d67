/* fuzz_rx's frames: the addresses its seeds use, the input's control bits, the checksum fix-up and
 * the DHCP server that gives core 0 its lease (tests/fuzz/rx_frames.c). */
#ifndef POLLUX_FUZZ_RX_FRAMES_H
#define POLLUX_FUZZ_RX_FRAMES_H

#include <stdint.h>

#define FZ_FRAME_MAX 2048                       /* a whole RX buffer: longer frames are cut */
#define FZ_OUR_MAC "\x02\x00\x5e\x10\x00\x01"
#define FZ_SERVER_MAC "\x02\x00\x5e\x10\x00\xfe"
#define FZ_OUR_IP 0xc6120002u                   /* 198.18.0.2, leased by the DHCP server */
#define FZ_OUR_IP_BE 0x020012c6u                /* the same as lwIP keeps it (network order) */
#define FZ_SERVER_IP 0xc6120001u                /* 198.18.0.1: DHCP server and router */
#define FZ_ISN 0x10000000u                      /* every connection's initial sequence number */

/* Input record control bits (tests/fuzz/fuzz_rx.c). */
#define FZ_Q1 0x01
#define FZ_FIX_CSUM 0x02
#define FZ_CSUM_OK 0x04
#define FZ_HASH 0x08
#define FZ_RESET 0x10
#define FZ_LINK 0x20

/* Set the IPv4 header checksum of an Ethernet frame f[0..len), and the TCP, UDP or ICMP one when
 * the frame holds the whole datagram; for IPv6, the TCP, UDP or ICMPv6 one right after the fixed
 * header. */
void fz_fix_checksums(uint8_t *f, uint32_t len);
/* The DHCP server's answer to frame f (an OFFER to a DISCOVER, an ACK to a REQUEST, for 198.18.0.2
 * with an infinite lease) into r; returns its length, 0 when f is not for the server. */
uint32_t fz_dhcp_reply(const uint8_t *f, uint32_t len, uint8_t *r);

#endif
