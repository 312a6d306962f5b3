-- Drop docs below the near floor from LSH buckets.
-- KEYS: band keys; ARGV: floor, band fields...
local floor = tonumber(ARGV[1])
for i = 1, #KEYS do
  local v = redis.call('HGET', KEYS[i], ARGV[i + 1])
  if v then
    local kept = {}
    for j = 1, #v, 4 do
      if struct.unpack('>I4', v, j) >= floor then kept[#kept + 1] = string.sub(v, j, j + 3) end
    end
    if #kept == 0 then redis.call('HDEL', KEYS[i], ARGV[i + 1])
    elseif #kept * 4 < #v then redis.call('HSET', KEYS[i], ARGV[i + 1], table.concat(kept)) end
  end
end
return #KEYS
