-- Remove a doc: its article id, fingerprint, buckets, key and slot. Mode 'owner': a
-- claim still held by ARGV[6]; 'expired': a claim past its deadline; 'any': an archived
-- article too (a repair).
-- KEYS: aidkey, fpkey, band keys...; ARGV: prefix, aid, fp, doc, mode, worker, band fields...
local doc = ARGV[4]
local st, owner = state(doc)
if st == 'c' and ARGV[5] ~= 'any' then return 0 end
if ARGV[5] == 'owner' and owner ~= ARGV[6] then return 0 end
if ARGV[5] == 'expired' and st ~= 'x' then return 0 end
if redis.call('HGET', KEYS[1], ARGV[2]) == doc then redis.call('HDEL', KEYS[1], ARGV[2]) end
if redis.call('HGET', KEYS[2], ARGV[3]) == doc then redis.call('HDEL', KEYS[2], ARGV[3]) end
remove_bands(tonumber(doc), 3, #KEYS - 2, 7)
redis.call('HDEL', prefix .. 'k:' .. math.floor(tonumber(doc) / @KPH@), doc)
slot_write(tonumber(doc), 0, string.rep('\0', @SLOT@))
redis.call('HDEL', prefix .. 'pend', doc)
redis.call('ZREM', prefix .. 'pendz', doc)
return 1
