-- wrk script: GET the path in PATH_TO_GET with the bearer token in TOKEN.
local token = os.getenv("TOKEN")
local path = os.getenv("PATH_TO_GET")
request = function()
    return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end
done = function(summary, latency, requests)
    io.write(string.format("RESULT requests/s %.0f p99_ms %.2f non2xx %d\n",
        summary.requests / (summary.duration / 1e6), latency:percentile(99) / 1000, summary.errors.status))
end
