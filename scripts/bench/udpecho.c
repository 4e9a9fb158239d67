/* udpecho: the Linux guest's UDP echo server for `make bench` (built static, runs as PID 1's child).
 * One thread per CPU, each pinned, each with its own SO_REUSEPORT socket on the port (the kernel
 * spreads flows over them), datagrams taken and returned in batches (recvmmsg/sendmmsg).
 *   udpecho PORT */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define BUFSZ 2048

static int port;

static void *serve(void *arg)
{
	long cpu = (long)arg;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	int s = socket(AF_INET, SOCK_DGRAM, 0), one = 1, buf = 4 << 20;
	setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("udpecho: bind");
		exit(1);
	}
	static __thread char data[BATCH][BUFSZ];
	struct sockaddr_in from[BATCH];
	struct iovec iov[BATCH];
	struct mmsghdr m[BATCH];
	for (;;) {
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ data[i], BUFSZ };
			m[i].msg_hdr = (struct msghdr){ .msg_name = &from[i], .msg_namelen = sizeof(from[i]),
							.msg_iov = &iov[i], .msg_iovlen = 1 };
		}
		int n = recvmmsg(s, m, BATCH, MSG_WAITFORONE, NULL);
		if (n <= 0)
			continue;
		for (int i = 0; i < n; i++)
			iov[i].iov_len = m[i].msg_len;
		for (int done = 0; done < n;) {
			int k = sendmmsg(s, m + done, n - done, 0);
			if (k <= 0)
				break;          /* a full socket buffer drops the rest, as a NIC would */
			done += k;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: udpecho PORT\n");
		return 2;
	}
	port = atoi(argv[1]);
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	pthread_t t;
	for (long i = 1; i < n; i++)
		pthread_create(&t, NULL, serve, (void *)i);
	serve((void *)0);
	return 0;
}
