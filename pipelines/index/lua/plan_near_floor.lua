-- Plan how far the near floor may rise: past whole signature blocks, oldest first, while
-- every doc in the block was indexed before the cutoff. Returns {floor, new floor};
-- RedisIndex.prune_near does the rest.
-- ARGV: prefix, cutoff (s), max blocks.
local prefix, cutoff = ARGV[1], tonumber(ARGV[2])
local old = tonumber(redis.call('GET', prefix .. 'nf') or '0')
local floor = old
local seq = tonumber(redis.call('GET', prefix .. 'seq') or '0')
for _ = 1, tonumber(ARGV[3]) do
  local first = floor
  local last = first + @PERS@ - 1
  if last > seq then break end
  local off = (first % @PERM@) * @META@
  local metas = redis.call('GETRANGE', prefix .. 'd:' .. math.floor(first / @PERM@), off,
    off + @PERS@ * @META@ - 1)
  local newest = 0
  for i = 0, math.floor(#metas / @META@) - 1 do
    local at = struct.unpack('>I4', metas, i * @META@ + @AT@ + 1)
    if at > newest then newest = at end
  end
  if newest >= cutoff then break end
  floor = last + 1
end
return {old, floor}
