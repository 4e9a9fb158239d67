#!/bin/sh
# /init of the bench's Linux guest (busybox). Kernel command line:
#   bench.mode=nginx    nginx on port 80 and the UDP echo server on port 7, tuned (below)
#   bench.mode=testpmd  DPDK testpmd reflecting every frame (5tswap) on the virtio-net device
#   bench.ip=A.B.C.D/N  the address (nginx mode)
#   bench.ip6=ADDR/N    the IPv6 address (nginx mode), static: no SLAAC, no duplicate address
#                       detection (the bench's namespace has no other host on the link)
#   bench.rps=1         with one queue and several CPUs: spread received flows (RPS/RFS)
#   bench.busypoll=US   the latency-tuned configuration (bench.py's linux-lat, with idle=poll on the
#                       command line): sockets busy-poll the device queue for up to US microseconds
#                       (net.core.busy_read) as epoll does (net.core.busy_poll); 0, the default: off
# Prints "bench: ready ..." when serving, "bench: error ..." when it cannot.
/bin/busybox --install -s /bin
/bin/chmod 755 /        # the initramfs root is world-writable, which DPDK refuses for its plugin path
export PATH=/bin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
mode=nginx ip=198.18.0.3/24 ip6=fd00:198:18::3/64 rps=0 busypoll=0
for a in $(cat /proc/cmdline); do
	case "$a" in
	bench.mode=*) mode=${a#bench.mode=} ;;
	bench.ip=*) ip=${a#bench.ip=} ;;
	bench.ip6=*) ip6=${a#bench.ip6=} ;;
	bench.rps=*) rps=${a#bench.rps=} ;;
	bench.busypoll=*) busypoll=${a#bench.busypoll=} ;;
	esac
done
ncpu=$(grep -c ^processor /proc/cpuinfo)
fail() { echo "bench: error $*"; exec sh; }

if [ "$mode" = testpmd ]; then
	# No virtio_pci: the NIC stays unbound and goes to uio_pci_generic (the cloud kernel has no
	# VFIO no-IOMMU mode), hugepages for DPDK's buffers.
	modprobe uio_pci_generic || fail "modprobe uio_pci_generic"
	dev=
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat $d/vendor)" = 0x1af4 ] || continue
		case "$(cat $d/device)" in 0x1000|0x1041) dev=$(basename $d) ;; esac
	done
	[ -n "$dev" ] || fail "no virtio-net PCI function"
	echo uio_pci_generic >/sys/bus/pci/devices/$dev/driver_override
	echo $dev >/sys/bus/pci/drivers_probe
	[ -e /sys/bus/pci/devices/$dev/driver ] || fail "uio_pci_generic did not bind $dev"
	echo 256 >/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
	mount -t hugetlbfs none /mnt/huge
	# One forwarding lcore per CPU, plus testpmd's main lcore (which only sleeps between stats
	# prints) sharing CPU 0.
	fwd=$ncpu lcores="0@0"
	i=1
	while [ $i -le $fwd ]; do lcores="$lcores,$i@$((i - 1))"; i=$((i + 1)); done
	echo "bench: testpmd on $dev, lcores $lcores"
	dpdk-testpmd --lcores="$lcores" -a $dev --iova-mode=pa --huge-dir=/mnt/huge -m 256 --no-telemetry -- \
		--forward-mode=5tswap --nb-cores=$fwd --rxq=$fwd --txq=$fwd --rxd=256 --txd=256 --burst=32 \
		--total-num-mbufs=8192 --stats-period=5 --no-lsc-interrupt 2>&1 &
	sleep 3600000
fi

modprobe virtio_pci && modprobe virtio_net || fail "modprobe virtio_net"
ip link set lo up
ip addr add $ip dev eth0
# IPv6 (the kernel's is built in): the static address usable at once (no DAD, which would keep
# it tentative for a second after the link comes up), and the router advertisements the bench's
# dnsmasq sends for Pollux not taken (no second, SLAAC address).
for k in accept_dad accept_ra autoconf; do echo 0 >/proc/sys/net/ipv6/conf/eth0/$k || fail "ipv6 $k"; done
ip -6 addr add $ip6 dev eth0 || fail "ip -6 addr add $ip6"
ip link set eth0 up
# Tuning a Linux user after speed would do (said in README, "make bench").
echo 8192 >/proc/sys/net/core/somaxconn
echo 8192 >/proc/sys/net/ipv4/tcp_max_syn_backlog
echo 8192 >/proc/sys/net/core/netdev_max_backlog
echo 4194304 >/proc/sys/net/core/rmem_max
echo 4194304 >/proc/sys/net/core/wmem_max
echo 1048576 >/proc/sys/net/core/rmem_default
echo 1048576 >/proc/sys/net/core/wmem_default
echo 0 >/proc/sys/net/ipv4/tcp_slow_start_after_idle
echo "1024 65535" >/proc/sys/net/ipv4/ip_local_port_range
# Low-latency busy polling (Documentation/admin-guide/sysctl/net.rst, networking/napi.rst): a
# blocking read, recvmmsg included, and epoll_wait (nginx's) poll the queue's NAPI instance before
# sleeping. Set before nginx and the echo server open their sockets, whose SO_BUSY_POLL default
# busy_read is. Written back in the ready line, read from the kernel.
echo "$busypoll" >/proc/sys/net/core/busy_read || fail "net.core.busy_read"
echo "$busypoll" >/proc/sys/net/core/busy_poll || fail "net.core.busy_poll"
idle=default
dmesg | grep -q "using polling idle threads" && idle=poll
nq=$(ls -d /sys/class/net/eth0/queues/rx-* | wc -l)
if [ "$rps" = 1 ] && [ "$ncpu" -gt 1 ]; then
	# One queue, several CPUs: Receive Packet/Flow Steering over every CPU.
	mask=$(printf %x $(((1 << ncpu) - 1)))
	echo 32768 >/proc/sys/net/core/rps_sock_flow_entries
	for q in /sys/class/net/eth0/queues/rx-*; do
		echo $mask >$q/rps_cpus
		echo $((32768 / nq)) >$q/rps_flow_cnt
	done
fi
udpecho 7 &
nginx || fail "nginx did not start"
sleep 1
echo "bench: ready cpus=$ncpu queues=$nq rps=$rps busy_poll=$(cat /proc/sys/net/core/busy_poll)" \
	"busy_read=$(cat /proc/sys/net/core/busy_read) idle=$idle ip=$ip" \
	"ip6=$(ip -6 addr show dev eth0 scope global | sed -n 's/.*inet6 \([^ ]*\).*/\1/p' | head -n 1)" \
	"kernel=$(uname -r)"
exec sh
