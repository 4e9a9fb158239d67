#!/usr/bin/env bash
# make fuzz's runner: each libFuzzer target for FUZZ_TIME seconds (0: only replay the seeds), a
# working corpus under OUT that grows across runs, crashes saved there; ends with a summary line.
# Usage: run.sh OUT SECONDS TARGET...
set -uo pipefail
out=$1 secs=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
failed=0
start=$(date +%s)
for t in "$@"; do
	corpus=$out/corpus/$t
	mkdir -p "$corpus" "$out/crashes"
	log=$out/$t.log
	if [ "$secs" -gt 0 ]; then
		args=(-max_total_time="$secs")
	else
		args=(-runs=0)
	fi
	# New inputs go to the first directory (the working corpus); the seeds are only read. Every
	# target bounds its own input length, and -timeout turns a hang into a reported crash.
	# Inputs of crashes found before (tests/fuzz/regress) are replayed with the seeds.
	dirs=("$corpus" "$here/seeds/$t")
	[ -d "$here/regress/$t" ] && dirs+=("$here/regress/$t")
	"$out/$t" "${args[@]}" -timeout=10 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
		-artifact_prefix="$out/crashes/$t-" "${dirs[@]}" >"$log" 2>&1
	rc=$?
	runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n1)
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n1)
	corp=$(find "$corpus" -type f | wc -l)
	if [ "$rc" -eq 0 ]; then
		echo "PASS $t: ${runs:-?} inputs in ${secs}s, ${cov:-cov: ?}, corpus $corp, no crash"
	else
		failed=$((failed + 1))
		echo "FAIL $t: exit $rc, see $log"
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -n 5 | sed 's/^/    /'
	fi
done
echo "fuzz-summary: $(( $# - failed )) passed, $failed failed in $(( $(date +%s) - start )) s"
[ "$failed" -eq 0 ]
