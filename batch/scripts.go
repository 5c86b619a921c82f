package batch

import "github.com/redis/go-redis/v9"

// Every script gets the batch's keys in keys.all() order:
// KEYS[1] meta, KEYS[2] st, KEYS[3] items, KEYS[4] jobs, KEYS[5] pay, KEYS[6] err.
// They all share the batch's hash tag.

// Lua 5.1 writes -0 for the negation of 0, which HINCRBY refuses: scripts
// subtract from 0 instead.

// luaFinish ends the batch once every item is final: it stamps finished,
// turns running into completed (cancelled stays), counts the completion
// (epoch), marks its callback pending (cb) when there is a callback URL, and
// starts the retention TTL on every key. ARGV[n] now (ms) and ARGV[n+1]
// the TTL (s) are passed to it. It returns the pending callback's epoch, 0
// if none.
const luaFinish = `
local function finish(now, ttl)
  local m = redis.call('HMGET', KEYS[1], 'finished', 'total', 'ns', 'nf', 'nc', 'callback', 'status')
  if not m[1] and m[2] and
     tonumber(m[3] or '0') + tonumber(m[4] or '0') + tonumber(m[5] or '0') == tonumber(m[2]) then
    redis.call('HSET', KEYS[1], 'finished', now)
    if m[7] == 'running' then redis.call('HSET', KEYS[1], 'status', 'completed') end
    local e = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
    if m[6] and m[6] ~= '' then redis.call('HSET', KEYS[1], 'cb', e) end
    for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ttl) end
  end
  return tonumber(redis.call('HGET', KEYS[1], 'cb') or '0')
end
`

// transitionScript moves every item of job ARGV[1] whose state is one of
// ARGV[3] to state ARGV[2], adjusting the counts with each change; ARGV[4]
// is the error text for failed items. ARGV[5] now (ms), ARGV[6] TTL (s).
// It returns {changed, live, cb}: live counts the job's items still queued,
// running or retrying after the change.
var transitionScript = redis.NewScript(luaFinish + `
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0, 0} end
local idxs = redis.call('HGET', KEYS[4], ARGV[1])
if not idxs then return {0, 0, 0} end
local to, from = ARGV[2], ARGV[3]
local changed, live = 0, 0
for idx in string.gmatch(idxs, '%d+') do
  local i = tonumber(idx)
  local cur = redis.call('GETRANGE', KEYS[2], i, i)
  if cur ~= to and cur ~= '' and string.find(from, cur, 1, true) then
    redis.call('SETRANGE', KEYS[2], i, to)
    redis.call('HINCRBY', KEYS[1], 'n' .. cur, -1)
    redis.call('HINCRBY', KEYS[1], 'n' .. to, 1)
    if to == 'f' then redis.call('HSET', KEYS[6], idx, ARGV[4]) end
    changed = changed + 1
    cur = to
  end
  if cur == 'q' or cur == 'r' or cur == 't' then live = live + 1 end
end
local cb = finish(ARGV[5], ARGV[6])
return {changed, live, cb}
`)

// cancelScript cancels every queued or retrying item (running ones finish)
// and marks the batch cancelled. ARGV[1] now (ms), ARGV[2] TTL (s). It
// returns {cancelled, cb}, or {-1, 0} when the batch had already ended.
var cancelScript = redis.NewScript(luaFinish + `
if redis.call('EXISTS', KEYS[1]) == 0 then return {-2, 0} end
if redis.call('HEXISTS', KEYS[1], 'finished') == 1 then return {-1, 0} end
local st = redis.call('GET', KEYS[2]) or ''
local nq, nt = 0, 0
st = string.gsub(st, 'q', function() nq = nq + 1; return 'c' end)
st = string.gsub(st, 't', function() nt = nt + 1; return 'c' end)
redis.call('SET', KEYS[2], st)
redis.call('HINCRBY', KEYS[1], 'nq', 0 - nq)
redis.call('HINCRBY', KEYS[1], 'nt', 0 - nt)
redis.call('HINCRBY', KEYS[1], 'nc', nq + nt)
redis.call('HSET', KEYS[1], 'status', 'cancelled')
local cb = finish(ARGV[1], ARGV[2])
return {nq + nt, cb}
`)

// retryScript queues every failed item again, reopens the batch (running,
// no TTL) and starts a new dispatch generation. It returns {requeued, gen},
// or {-2, 0} for an unknown batch.
var retryScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {-2, 0} end
local st = redis.call('GET', KEYS[2]) or ''
local n = 0
st = string.gsub(st, 'f', function() n = n + 1; return 'q' end)
if n == 0 then return {0, tonumber(redis.call('HGET', KEYS[1], 'gen') or '0')} end
redis.call('SET', KEYS[2], st)
redis.call('HINCRBY', KEYS[1], 'nf', 0 - n)
redis.call('HINCRBY', KEYS[1], 'nq', n)
redis.call('DEL', KEYS[6])
redis.call('HSET', KEYS[1], 'status', 'running')
redis.call('HDEL', KEYS[1], 'finished')
for i = 1, #KEYS do redis.call('PERSIST', KEYS[i]) end
local gen = redis.call('HINCRBY', KEYS[1], 'gen', 1)
return {n, gen}
`)

// clearCallbackScript clears the pending-callback mark if it is still
// ARGV[1] (a later completion keeps its own).
var clearCallbackScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'cb') == ARGV[1] then redis.call('HDEL', KEYS[1], 'cb') return 1 end
return 0
`)
