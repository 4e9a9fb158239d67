#!/usr/bin/env bash
# make test's runner: host unit tests, QEMU boot tests and network tests on both architectures;
# ends with "N passed, N failed, N skipped". Every test runs under a time limit: a hang fails.
set -uo pipefail
O=${1:-build}
passed=0 failed=0 skipped=0
start=$(date +%s)
# In CI (CI set and not 0 or false; .ci/run sets it) a skipped part is a failure unless its reason
# names what the machine lacks.
case "${CI:-}" in "" | 0 | false) ci=false ;; *) ci=true ;; esac

# bounded SECS CMD...: CMD under a time limit; a hang ends with status 124 (timeout(1)), and a
# command that ignores SIGTERM is killed 10 s later.
bounded() {
	local secs=$1
	shift
	timeout -k 10 "$secs" "$@"
}

# fail NAME STATUS SECS OUT: count a failure and show why (a time limit, or the output).
fail() {
	failed=$((failed + 1))
	if [ "$2" -eq 124 ] || [ "$2" -eq 137 ]; then
		echo "FAIL $1: no result within $3 s (time limit)"
	else
		echo "FAIL $1:"
	fi
	sed 's/^/    /' <<<"$4"
}

# A unit test's limit: test_site packs and searches a site of 100,000 files (under 4 min on a
# loaded 2-core machine); every other test takes seconds.
unit_limit() {
	case $1 in
	test_site) echo 900 ;;
	*) echo 120 ;;
	esac
}

echo "== host unit tests"
for t in "$O"/unit/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t") secs=$(unit_limit "$(basename "$t")")
	out=$(bounded "$secs" "$t" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		passed=$((passed + 1)); echo "PASS $name: $(head -n1 <<<"$out" | sed 's/^[^:]*: //')"
	else
		fail "$name" "$rc" "$secs" "$out"
	fi
	# Each SKIP line of a test (TEST_SKIP in tests/unit/test.h) is shown and counted.
	while read -r line; do
		skipped=$((skipped + 1)); echo "SKIP $name: ${line#SKIP }"
		if $ci && ! grep -q ': this machine lacks ' <<<"$line"; then
			failed=$((failed + 1)); echo "FAIL $name: skipped in CI for a reason that names nothing the machine lacks"
		fi
	done < <(sed -n 's/^[[:space:]]*\(SKIP .*\)/\1/p' <<<"$out")
done

# Deployment: the CloudFormation template's references, and make ami's image check and dry run.
echo "== deployment"
if out=$(bounded 120 python3 tests/deploy/test_template.py 2>&1); then
	passed=$((passed + 1)); echo "PASS test_template: $(tail -n1 <<<"$out")"
else
	fail test_template $? 120 "$out"
fi
# make bench's table (scripts/bench/table.py): a results.tsv fixture's facts, rows, ratios against
# the better Linux and error marks, README's region rewritten, a malformed file refused.
if out=$(bounded 120 python3 tests/bench/test_table.py 2>&1); then
	passed=$((passed + 1)); echo "PASS test_table: $(tail -n1 <<<"$out")"
else
	fail test_table $? 120 "$out"
fi
# make bench's Linux guest: its Debian packages can still be downloaded and unpacked with the
# binaries it runs (scripts/bench/deps.sh; a Debian update that moves one is caught here, not by
# a user of make bench).
# (It downloads the packages: 600 s leaves room for a slow mirror.)
if out=$(bounded 600 scripts/bench/deps.sh "$O/bench-guest" 2>&1) &&
	[ -x "$O/bench-guest/sysroot/usr/sbin/nginx" ]; then
	passed=$((passed + 1)); echo "PASS bench guest: $(tail -n1 <<<"$out")"
else
	fail "bench guest" $? 600 "$out"
fi
if out=$(bounded 60 promtool check config deploy/prometheus.yml 2>&1); then
	passed=$((passed + 1)); echo "PASS prometheus.yml: promtool check config accepts deploy/prometheus.yml"
else
	fail prometheus.yml $? 60 "$out"
fi
if out=$(DRY=1 BUCKET=b NAME=t bounded 120 scripts/ami.sh "$O/test/pollux.img" 2>&1) &&
	grep -q 'register-image.*--architecture arm64.*--boot-mode uefi --ena-support' <<<"$out" &&
	grep -q 'register-image.*--architecture x86_64' <<<"$out" && grep -q 'BOOTAA64.EFI present' <<<"$out" &&
	! DRY=1 bounded 120 scripts/ami.sh /dev/null >/dev/null 2>&1; then
	passed=$((passed + 1)); echo "PASS ami dry run: image checked, both AMIs, a bad image refused"
else
	fail "ami dry run" 1 120 "$out"
fi

# Run one QEMU test script (bounded in time) and add its "...-summary: N passed, M failed" line.
qemu_test() {
	local name=$1 out s
	shift
	out=$(bounded 600 python3 "$@" 2>&1)
	grep -v -- '-summary: ' <<<"$out"
	s=$(grep -- '-summary: ' <<<"$out")
	if [ -z "$s" ]; then
		failed=$((failed + 1)); echo "FAIL [$name] the test did not finish"
		return
	fi
	passed=$((passed + $(sed -E 's/.* ([0-9]+) passed.*/\1/' <<<"$s")))
	failed=$((failed + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$s")))
}

# Four boots: each architecture with 4 vCPUs at two RAM sizes. The larger one puts RAM above
# 4 GiB on x86 (q35 splits it around the PCI hole) and more than one whole GiB on AArch64.
echo "== QEMU boot tests (TCG)"
for arch in x86_64 aarch64; do
	for mem in 2G 5G; do
		qemu_test "$arch 4c $mem" tests/qemu/boot.py "$arch" "$O/test/pollux.img" 4 "$mem"
	done
done
# x86 on QEMU's i440FX/PIIX machine, as x86 EC2 instances show: no MCFG, so PCI through ports
# 0xCF8/0xCFC, and no reset register in the FADT.
qemu_test "x86_64 4c 2G pc" tests/qemu/boot.py x86_64 "$O/test/pollux.img" 4 2G pc

# Entropy: the sources each CPU and device give (jitter alone, virtio-rng, RNDR, RDSEED), and that
# no two boots share their secrets.
echo "== QEMU entropy tests (TCG)"
for arch in x86_64 aarch64; do
	qemu_test "$arch entropy" tests/qemu/entropy.py "$arch" "$O/test/pollux.img"
done

# Network: each service on a tap device in a namespace of its own, 4 vCPUs with 4 queue pairs
# (RSS), then fewer queue pairs than cores (software steering): http with 1, echo with 2 (RSS and
# steering together), a static address (no DHCP) with 2, and an IPv6-only image with 2; then both
# services on igb. Every run but the flows= ones also runs its checks' IPv6 twins (SLAAC from the
# namespace's dnsmasq), with the NIC's multicast filter: a group not joined never reaches the stack.
echo "== network tests (netns + tap + dnsmasq, TCG)"
for arch in x86_64 aarch64; do
	qemu_test "$arch http" tests/net/net.py "$arch" "$O/test/pollux.img" 4 4 http
	qemu_test "$arch echo" tests/net/net.py "$arch" "$O/test-echo/pollux.img" 4 4 echo
	qemu_test "$arch http 1q" tests/net/net.py "$arch" "$O/test/pollux.img" 4 1 http
	qemu_test "$arch echo 2q" tests/net/net.py "$arch" "$O/test-echo/pollux.img" 4 2 echo
	qemu_test "$arch http 2q static" tests/net/net.py "$arch" "$O/test-static/pollux.img" 4 2 http static
	qemu_test "$arch http 2q v6only" tests/net/net.py "$arch" "$O/test-v6/pollux.img" 4 2 http v6only
	# QEMU's 82576 (-device igb): the Intel ring engine end to end, RSS done by the NIC.
	qemu_test "$arch http igb" tests/net/net.py "$arch" "$O/test/pollux.img" 4 4 http igb
	qemu_test "$arch echo igb" tests/net/net.py "$arch" "$O/test-echo/pollux.img" 4 4 echo igb
	# IPv6 by stateful DHCPv6 as EC2 assigns it (the M flag, IA_NA), renewed at T1; a short run (~90 s).
	qemu_test "$arch http dhcp6" tests/net/net.py "$arch" "$O/test/pollux.img" 4 2 http dhcp6
	# The management port on an address of its own (config/mgmt.h), the service on the others (~30 s).
	qemu_test "$arch http mgmt" tests/net/net.py "$arch" "$O/test-mgmt/pollux.img" 4 2 http mgmt
done
# IPv6 path-MTU discovery (tests/net/ptb6.py): the client behind a namespace router whose link to it
# has MTU 1280; the router's Packet Too Big must shrink the guest's segments, ping6 -s 1400 answered
# in fragments (2 vCPUs, 2 queue pairs: the ICMPv6 error steered to its flow's core; ~1 min each).
for arch in x86_64 aarch64; do
	qemu_test "$arch ptb6" tests/net/ptb6.py "$arch" "$O/test/pollux.img" 2 2
done
# x86 EC2's i440FX layout (-machine pc, no MCFG): the virtio-net found through ports 0xCF8/0xCFC serves HTTP.
qemu_test "x86_64 http pc" tests/net/net.py x86_64 "$O/test/pollux.img" 4 4 http pc
# EC2 A1-shaped (a1.4xlarge): GICv3, 16 cortex-a72 vCPUs, 2 queue pairs; 300 short connections
# are enough for every core to accept some through steering (about 1 min under TCG here).
qemu_test "aarch64 A1" tests/net/net.py aarch64 "$O/test-echo/pollux.img" 16 2 echo gic3 flows=300

# The site (tests/net/site.py), 2 vCPUs on one queue pair (steering; QEMU attaches a netdev filter to
# one queue only, and the long-path check delays them all): an image packed from mksite.py's tree served file for file
# to curl, wget --mirror and 4 clients of a 20 MB file at once; /metrics to promtool and Prometheus;
# then their IPv6 twins on the SLAAC address (curl, wget, Prometheus, Chromium; about 30 s each).
echo "== site tests (netns + tap, curl, wget, promtool, prometheus, TCG)"
for arch in x86_64 aarch64; do
	qemu_test "$arch site" tests/net/site.py "$arch" "$O/test-site/pollux.img" 2 1 "$O/site-tree"
done

# Capacity (tests/net/capacity.py): one vCPU with 1 GiB holds 100,000 keep-alive connections, half
# over IPv6, each answered, a fresh client served meanwhile; then 5,000 half-sent and 2,000
# non-reading clients, half over IPv6.
echo "== capacity tests (netns + tap, TCG)"
for arch in x86_64 aarch64; do
	qemu_test "$arch capacity" tests/net/capacity.py "$arch" "$O/test/pollux.img" 100000
done

# Hostile traffic (tests/net/hostile.py): malformed frames of every layer, floods while wrk runs
# (IPv4 with hping3, then IPv6 with tests/net/flood6.py: SYN, UDP, ICMPv6 echo, router advertisements), a
# port scan, half-sent requests past the connection cap, clients that never read (these three over
# IPv4, then IPv6); 4 vCPUs with 2 queue pairs (RSS and steering), the HTTP image with short
# connection limits (config/hostile.h).
echo "== hostile-traffic tests (netns + tap, scapy, hping3, nmap, TCG)"
for arch in x86_64 aarch64; do
	qemu_test "$arch hostile" tests/net/hostile.py "$arch" "$O/test-hostile/pollux.img" 4 2 config/hostile.h
done

echo "== $(( $(date +%s) - start )) s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
