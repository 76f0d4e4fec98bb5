-- wrk script: POST presence lines to /v1/commands/batch (LINES per request) or /v1/commands (LINES=1, SINGLE=1).
-- Every line has a fresh eventId, so nothing is a duplicate. Reads users.txt (one user id a line) and the
-- environment: TOKEN, LINES, SINGLE, RUN.
local users = {}
for line in io.lines("users.txt") do users[#users + 1] = line end
local token = os.getenv("TOKEN")
local lines = tonumber(os.getenv("LINES") or "500")
local single = os.getenv("SINGLE") == "1"
local availabilities = { "Available", "Busy", "Away", "BeRightBack", "DoNotDisturb" }
local counter = 0
local thread_id = 0

function setup(thread)
    thread:set("thread_id", thread_id)
    thread_id = thread_id + 1
end

-- RUN (set per wrk invocation) and the thread keep ids of different runs and threads apart.
local run = tonumber(os.getenv("RUN") or "0")

local function uuid(n)
    local hex = string.format("%022x", n)
    return string.format("%04x%04x-%s-4%s-8%s-%s", run, thread_id, hex:sub(1, 4), hex:sub(5, 7), hex:sub(8, 10),
        hex:sub(11, 22))
end

local function line()
    counter = counter + 1
    local user = users[(counter % #users) + 1]
    local availability = availabilities[(counter % #availabilities) + 1]
    local seconds = counter % 86400
    return string.format(
        '{"command":"recordPresence","occurredAt":"2026-11-23T%02d:%02d:%02dZ","eventId":"%s","user":"%s","availability":"%s"}',
        math.floor(seconds / 3600), math.floor(seconds / 60) % 60, seconds % 60, uuid(counter), user, availability)
end

request = function()
    if single then
        return wrk.format("POST", "/v1/commands",
            { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }, line())
    end
    local body = {}
    for i = 1, lines do body[i] = line() end
    return wrk.format("POST", "/v1/commands/batch",
        { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/x-ndjson" },
        table.concat(body, "\n"))
end

done = function(summary, latency, requests)
    local count = summary.requests * (single and 1 or lines)
    io.write(string.format("RESULT lines/s %.0f p99_ms %.2f non2xx %d\n",
        count / (summary.duration / 1e6), latency:percentile(99) / 1000, summary.errors.status))
end

-- The first few refusals go to standard error, so a non-2xx count can be explained.
local reported = 0
response = function(status, headers, body)
    if status >= 300 and reported < 3 then
        io.stderr:write(string.format("HTTP %d: %s\n", status, body:sub(1, 300)))
        reported = reported + 1
    end
end
