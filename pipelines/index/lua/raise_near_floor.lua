-- Raise the near floor; it only rises (two workers may prune at once).
-- KEYS: nf; ARGV: floor.
if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
