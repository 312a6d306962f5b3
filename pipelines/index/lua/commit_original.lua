-- Make a pending claim permanent, if it is still ours; index its URLs.
-- KEYS: aidkey, url keys...; ARGV: prefix, aid, doc, sha, version, url fields...
if redis.call('HGET', KEYS[1], ARGV[2]) ~= ARGV[3] then return 0 end
local doc = tonumber(ARGV[3])
slot_write(doc, @SHA@, ARGV[4] .. struct.pack('>I2', tonumber(ARGV[5])))
for i = 2, #KEYS do redis.call('HSETNX', KEYS[i], ARGV[4 + i], ARGV[3]) end
redis.call('HDEL', prefix .. 'pend', ARGV[3])
redis.call('ZREM', prefix .. 'pendz', ARGV[3])
return 1
