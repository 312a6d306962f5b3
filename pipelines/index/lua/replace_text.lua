-- Re-index the re-extracted text of an archived article: its exact fingerprint, content
-- hash and near-dup signature. 0 if the doc changed since the caller read it (read, retry).
-- KEYS: aidkey, old fpkey, new fpkey, old band keys (n), new band keys...; ARGV: prefix,
-- aid, doc, old fp, new fp, sha, has-signature byte and signature, n, old band fields (n),
-- new band fields...
local doc = tonumber(ARGV[3])
if redis.call('HGET', KEYS[1], ARGV[2]) ~= ARGV[3] or state(ARGV[3]) ~= 'c' then return 0 end
if string.sub(slot_read(doc), 1, 16) ~= ARGV[4] then return 0 end
local n = tonumber(ARGV[8])
if redis.call('HGET', KEYS[2], ARGV[4]) == ARGV[3] then redis.call('HDEL', KEYS[2], ARGV[4]) end
redis.call('HSETNX', KEYS[3], ARGV[5], doc)
remove_bands(doc, 4, n, 9)
slot_write(doc, 0, ARGV[5])
slot_write(doc, @SHA@, ARGV[6])
-- Below the near floor a doc holds no signature: its block is pruned.
if doc >= near_floor() then
  slot_write(doc, @HAS@, ARGV[7])
  add_bands(doc, 4 + n, #KEYS - 3 - n, 9 + n)
end
return 1
