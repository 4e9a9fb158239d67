#!/usr/bin/env bash
# make test's runner: host unit tests, then QEMU boot tests on both architectures; ends with "N passed, N failed".
set -uo pipefail
O=${1:-build}
passed=0 failed=0
start=$(date +%s)

echo "== host unit tests"
for t in "$O"/unit/test_*; do
	[ -x "$t" ] || continue
	if out=$("$t" 2>&1); then
		passed=$((passed + 1)); echo "PASS $(basename "$t"): $(head -n1 <<<"$out" | sed 's/^[^:]*: //')"
	else
		failed=$((failed + 1)); echo "FAIL $(basename "$t"):"; sed 's/^/    /' <<<"$out"
	fi
done

# Four boots: each architecture with 4 vCPUs at two RAM sizes. The larger one puts RAM above
# 4 GiB on x86 (q35 splits it around the PCI hole) and more than one whole GiB on AArch64.
echo "== QEMU boot tests (TCG)"
for arch in x86_64 aarch64; do
	for mem in 2G 5G; do
		out=$(timeout 600 python3 tests/qemu/boot.py "$arch" "$O/test/pollux.img" 4 "$mem" 2>&1)
		echo "$out" | grep -v '^boot-summary'
		s=$(grep '^boot-summary' <<<"$out")
		if [ -z "$s" ]; then
			failed=$((failed + 1)); echo "FAIL [$arch 4c $mem] boot test did not finish"
			continue
		fi
		p=$(sed -E 's/.* ([0-9]+) passed.*/\1/' <<<"$s"); f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$s")
		passed=$((passed + p)); failed=$((failed + f))
	done
done

# Network: echo service on a tap device in a namespace of its own, 4 vCPUs with 4 queue pairs.
echo "== network tests (netns + tap + dnsmasq, TCG)"
for arch in x86_64 aarch64; do
	out=$(timeout 600 python3 tests/net/net.py "$arch" "$O/test-echo/pollux.img" 4 4 2>&1)
	echo "$out" | grep -v '^net-summary'
	s=$(grep '^net-summary' <<<"$out")
	if [ -z "$s" ]; then
		failed=$((failed + 1)); echo "FAIL [$arch 4c 4q] network test did not finish"
		continue
	fi
	p=$(sed -E 's/.* ([0-9]+) passed.*/\1/' <<<"$s"); f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$s")
	passed=$((passed + p)); failed=$((failed + f))
done

echo "== $(( $(date +%s) - start )) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
