-- Drop a URL claim if it is still held by this worker.
-- KEYS: the claim; ARGV: worker.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
