-- wrk script for `make bench-conversions`: POST /api/v2/transactions with three product
-- lines each. BENCH_DATA names a Lua file written by bench_conversions.py that returns
-- the token, event UUIDs, click UUIDs, a run prefix and the mode:
--   create: a new orderNumber per request (run-thread-counter), a click picked in turn;
--   replay: the stored (orderNumber, click) pairs again, for the idempotent 200 path.
-- done() prints one line "RESULT {json}" with counts and latency percentiles (µs).

local data = dofile(os.getenv("BENCH_DATA"))
local threads = {}

local BODY = '{"event":"%s","click":"%s","orderNumber":"%s","orderSum":42200,"vatSum":8440,'
  .. '"currency":"SEK","products":['
  .. '{"event":"%s","reference":"SKU-1","name":"Running shoe","quantity":1,"price":12500,"vat":2500},'
  .. '{"event":"%s","reference":"SKU-2","name":"Sock","quantity":2,"price":4900,"vat":980},'
  .. '{"event":"%s","reference":"SKU-3","name":"Jacket","quantity":1,"price":19900,"vat":3980}]}'

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  created, replayed, refused = 0, 0, 0
  headers = {
    ["Authorization"] = "Bearer " .. data.token,
    ["Content-Type"] = "application/json",
  }
end

function request()
  counter = counter + 1
  local order, click
  if data.mode == "replay" then
    local item = data.replay[((id - 1) * 7919 + counter) % #data.replay + 1]
    order, click = item[1], item[2]
  else
    order = data.run .. "-" .. id .. "-" .. counter
    click = data.clicks[((id - 1) * 7919 + counter) % #data.clicks + 1]
  end
  local body = string.format(BODY, data.events[1], click, order,
    data.events[1], data.events[2], data.events[3])
  return wrk.format("POST", "/api/v2/transactions", headers, body)
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  elseif status == 200 then
    replayed = replayed + 1
  else
    refused = refused + 1
    if refused <= 3 then io.stderr:write("unexpected " .. status .. ": " .. body .. "\n") end
  end
end

function done(summary, latency, requests)
  local totals = {created = 0, replayed = 0, refused = 0}
  for _, thread in ipairs(threads) do
    totals.created = totals.created + thread:get("created")
    totals.replayed = totals.replayed + thread:get("replayed")
    totals.refused = totals.refused + thread:get("refused")
  end
  local errors = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"created":%d,"replayed":%d,"refused":%d,'
      .. '"socket_errors":%d,"p50":%d,"p95":%d,"p99":%d,"max":%d}\n',
    summary.requests, summary.duration, totals.created, totals.replayed, totals.refused,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
