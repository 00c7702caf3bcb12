-- What every wrk script of bench/run.sh reports when a run ends: one machine-readable line,
-- "RESULT requests/s p50 p90 p99 max(ms) errors requests".
function done(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.2f %.2f %.2f %.2f %d %d\n",
    summary.requests / (summary.duration / 1000000),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests))
end
