/* udprtt: the bench's UDP round trip at low load: one datagram of SIZE bytes in flight, the next
 * sent GAP_US microseconds after its echo came back, each echo checked byte for byte (a sequence
 * number and a pattern) and timed from its send (CLOCK_MONOTONIC). An echo that does not come
 * within 100 ms is counted lost and the next is sent. Only round trips begun after WARMUP seconds
 * count; the run ends after WARMUP + SECONDS. Lower bound of what any guest can answer in: what
 * this gives against DPDK's testpmd, which polls the device and answers with no stack at all.
 *   udprtt IP PORT SECONDS WARMUP GAP_US SIZE
 * prints: p50_us=N p90_us=N p99_us=N n=N lost=N bad=N */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXN 2000000

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static void fill(unsigned char *p, int size, uint32_t seq)
{
	memcpy(p, &seq, 4);
	for (int i = 4; i < size; i++)
		p[i] = (unsigned char)(seq * 29 + i);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: udprtt IP PORT SECONDS WARMUP GAP_US SIZE\n");
		return 2;
	}
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
	if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
		fprintf(stderr, "udprtt: bad address %s\n", argv[1]);
		return 2;
	}
	double secs = atof(argv[3]), warm = atof(argv[4]), gap = atof(argv[5]) * 1e-6;
	int size = atoi(argv[6]);
	if (secs <= 0 || warm < 0 || gap < 0 || size < 8 || size > 1472) {
		fprintf(stderr, "udprtt: SECONDS > 0, WARMUP >= 0, GAP_US >= 0, SIZE 8..1472\n");
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
		perror("udprtt: socket");
		return 1;
	}
	static double rtt[MAXN];
	static unsigned char out[2048], in[2048];
	long n = 0, lost = 0, bad = 0;
	uint32_t seq = 0;
	double t0 = now(), start = t0 + warm, end = start + secs;
	for (double t = t0; t < end && n < MAXN; t = now()) {
		fill(out, size, ++seq);
		double sent = now();
		if (send(fd, out, (size_t)size, 0) != size) {
			perror("udprtt: send");
			return 1;
		}
		/* Wait for this datagram's echo; older ones arriving late are passed over. */
		for (;;) {
			double left = sent + 0.100 - now();
			struct pollfd p = { fd, POLLIN, 0 };
			if (left <= 0 || poll(&p, 1, (int)(left * 1000) + 1) <= 0) {
				lost++;
				break;
			}
			ssize_t r = recv(fd, in, sizeof(in), MSG_DONTWAIT);
			double back = now();
			uint32_t got;
			if (r < 4)
				continue;
			memcpy(&got, in, 4);
			if (got != seq)
				continue;
			if (r != size || memcmp(in, out, (size_t)size)) {
				bad++;
				break;
			}
			if (sent >= start)
				rtt[n++] = back - sent;
			break;
		}
		if (gap > 0) {
			struct timespec ts = { (time_t)gap, (long)((gap - (double)(time_t)gap) * 1e9) };
			nanosleep(&ts, NULL);
		}
	}
	if (!n) {
		printf("p50_us=0 p90_us=0 p99_us=0 n=0 lost=%ld bad=%ld\n", lost, bad);
		return 1;
	}
	qsort(rtt, (size_t)n, sizeof(rtt[0]), cmp);
	printf("p50_us=%.1f p90_us=%.1f p99_us=%.1f n=%ld lost=%ld bad=%ld\n", rtt[n / 2] * 1e6, rtt[n * 9 / 10] * 1e6,
	       rtt[n * 99 / 100] * 1e6, n, lost, bad);
	return 0;
}
