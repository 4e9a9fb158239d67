/* udprate: the bench's UDP echo rate client (no Debian client sends datagrams at a rate and
 * counts echoes). FLOWS sockets (distinct source ports, so RSS spreads them), each keeping up to
 * WINDOW datagrams of SIZE bytes in flight: every echo received sends one more; a flow that hears
 * nothing for 20 ms refills its window (the lost ones are counted). Echoes are checked byte for
 * byte against what was sent (a sequence number and a pattern). Only echoes received after
 * WARMUP seconds count; the run ends after WARMUP + SECONDS.
 *   udprate IP PORT SECONDS WARMUP FLOWS WINDOW SIZE
 * prints: pps=N echoes=N sent=N refills=N bad=N seconds=S */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXFLOWS 64
#define BATCH 64

struct flow {
	int fd;
	uint32_t seq;           /* next sequence number sent */
	int inflight;
	double last_rx;         /* time of the last echo or refill */
};

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static void fill(unsigned char *p, int size, uint32_t flow, uint32_t seq)
{
	memcpy(p, &flow, 4);
	memcpy(p + 4, &seq, 4);
	for (int i = 8; i < size; i++)
		p[i] = (unsigned char)(seq * 31 + i);
}

/* Send n datagrams on f; returns how many left. */
static int send_n(struct flow *f, int id, int n, int size, long *sent)
{
	static unsigned char buf[BATCH][2048];
	struct iovec iov[BATCH];
	struct mmsghdr m[BATCH];
	int total = 0;
	while (n > 0) {
		int k = n < BATCH ? n : BATCH;
		for (int i = 0; i < k; i++) {
			fill(buf[i], size, (uint32_t)id, f->seq + (uint32_t)i);
			iov[i] = (struct iovec){ buf[i], (size_t)size };
			m[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
		}
		int r = sendmmsg(f->fd, m, (unsigned)k, 0);
		if (r <= 0)
			break;
		f->seq += (uint32_t)r;
		f->inflight += r;
		total += r;
		n -= r;
	}
	*sent += total;
	return total;
}

int main(int argc, char **argv)
{
	if (argc != 8) {
		fprintf(stderr, "usage: udprate IP PORT SECONDS WARMUP FLOWS WINDOW SIZE\n");
		return 2;
	}
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
	if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
		fprintf(stderr, "udprate: bad address %s\n", argv[1]);
		return 2;
	}
	double secs = atof(argv[3]), warm = atof(argv[4]);
	int nflows = atoi(argv[5]), window = atoi(argv[6]), size = atoi(argv[7]);
	if (nflows < 1 || nflows > MAXFLOWS || window < 1 || size < 8 || size > 1472) {
		fprintf(stderr, "udprate: FLOWS 1..%d, WINDOW >= 1, SIZE 8..1472\n", MAXFLOWS);
		return 2;
	}
	struct flow fl[MAXFLOWS];
	struct pollfd pfd[MAXFLOWS];
	long sent = 0, echoes = 0, counted = 0, refills = 0, bad = 0;
	double t0 = now(), start = t0 + warm, end = start + secs;
	for (int i = 0; i < nflows; i++) {
		int fd = socket(AF_INET, SOCK_DGRAM, 0), buf = 4 << 20;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
		if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
			perror("udprate: socket");
			return 1;
		}
		fcntl(fd, F_SETFL, O_NONBLOCK);
		fl[i] = (struct flow){ .fd = fd, .last_rx = t0 };
		pfd[i] = (struct pollfd){ .fd = fd, .events = POLLIN };
		send_n(&fl[i], i, window, size, &sent);
	}
	static unsigned char rbuf[BATCH][2048], want[2048];
	struct iovec iov[BATCH];
	struct mmsghdr m[BATCH];
	for (;;) {
		double t = now();
		if (t >= end)
			break;
		poll(pfd, (nfds_t)nflows, 2);
		t = now();
		for (int i = 0; i < nflows; i++) {
			struct flow *f = &fl[i];
			int got = 0;
			for (;;) {
				for (int j = 0; j < BATCH; j++) {
					iov[j] = (struct iovec){ rbuf[j], sizeof(rbuf[j]) };
					m[j].msg_hdr = (struct msghdr){ .msg_iov = &iov[j], .msg_iovlen = 1 };
				}
				int r = recvmmsg(f->fd, m, BATCH, MSG_DONTWAIT, NULL);
				if (r <= 0)
					break;
				for (int j = 0; j < r; j++) {
					uint32_t id, seq;
					memcpy(&id, rbuf[j], 4);
					memcpy(&seq, rbuf[j] + 4, 4);
					fill(want, size, (uint32_t)i, seq);
					if ((int)m[j].msg_len != size || id != (uint32_t)i || memcmp(rbuf[j], want, (size_t)size)) {
						bad++;
						continue;
					}
					got++;
				}
			}
			if (got) {
				echoes += got;
				if (t >= start)
					counted += got;
				f->inflight -= got;
				if (f->inflight < 0)
					f->inflight = 0;       /* echoes of datagrams already given up on */
				f->last_rx = t;
			} else if (t - f->last_rx > 0.020) {
				refills++;
				f->inflight = 0;
				f->last_rx = t;
			}
			if (f->inflight < window)
				send_n(f, i, window - f->inflight, size, &sent);
		}
	}
	double measured = now() - start;
	printf("pps=%.0f echoes=%ld sent=%ld refills=%ld bad=%ld seconds=%.2f\n",
	       measured > 0 ? counted / measured : 0.0, echoes, sent, refills, bad, measured);
	return 0;
}
