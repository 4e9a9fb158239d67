-- wrk script for the bench's latency run: each connection waits BENCH_DELAY_MS milliseconds
-- between a response and its next request, so the load is fixed and moderate (wrk's latency
-- clock starts when the request is written, after the wait).
local ms = tonumber(os.getenv("BENCH_DELAY_MS") or "4")
function delay()
	return ms
end
