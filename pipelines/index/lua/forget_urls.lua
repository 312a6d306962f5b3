-- Drop the URL entries that lead to a doc, or (recorded before it was indexed) to its
-- article id; return how many. A repair: the caller passes every URL bucket, in batches.
-- KEYS: URL buckets; ARGV: doc ('' when none), article id.
local doc, byid = ARGV[1], '=' .. ARGV[2] .. ':'
local removed = 0
for i = 1, #KEYS do
  local entries = redis.call('HGETALL', KEYS[i])
  for j = 1, #entries, 2 do
    local v = entries[j + 1]
    local hit = doc ~= '' and (v == doc or string.sub(v, 1, #doc + 1) == doc .. ':')
    if not hit and string.sub(v, 1, #byid) == byid then
      -- "=<id>:<kind>": the id may hold ':', the kind never does.
      hit = not string.find(v, ':', #byid + 1, true)
    end
    if hit then
      redis.call('HDEL', KEYS[i], entries[j])
      removed = removed + 1
    end
  end
end
return removed
