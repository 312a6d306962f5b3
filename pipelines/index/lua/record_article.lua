-- Index an archived article (new, or a revision of a known one).
-- KEYS: aidkey, fpkey, url keys (n), band keys...; ARGV: prefix, aid, fp, keyval, slot,
-- sha, version, n, url fields (n), band fields...
local n = tonumber(ARGV[8])
local doc = redis.call('HGET', KEYS[1], ARGV[2])
if doc and state(doc) == 'x' then doc = nil end
if doc then
  doc = tonumber(doc)
else
  doc = new_doc(KEYS[1], ARGV[2], ARGV[4], ARGV[5])
  add_bands(doc, 3 + n, #KEYS - 2 - n, 9 + n)
end
slot_write(doc, @SHA@, ARGV[6] .. struct.pack('>I2', tonumber(ARGV[7])))
redis.call('HDEL', prefix .. 'pend', doc)
redis.call('ZREM', prefix .. 'pendz', doc)
redis.call('HSETNX', KEYS[2], ARGV[3], doc)
for i = 1, n do redis.call('HSETNX', KEYS[2 + i], ARGV[8 + i], doc) end
return doc
