-- The prelude of the index scripts: the pending state of a doc, its slot, its LSH buckets.
-- ARGV[1] is the key prefix. Upper-case names between at-signs are layout constants.
local prefix = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function state(doc)
  local p = redis.call('HGET', prefix .. 'pend', doc)
  if not p then return 'c', '' end
  local sep = string.find(p, '\0', 1, true)
  local owner = string.sub(p, 1, sep - 1)
  if tonumber(string.sub(p, sep + 1)) > now then return 'p', owner end
  return 'x', owner
end
local function block_write(k, per, size, index, offset, data)
  if redis.call('EXISTS', k) == 0 then redis.call('SET', k, string.rep('\0', per * size)) end
  redis.call('SETRANGE', k, index * size + offset, data)
end
local function near_floor()
  return tonumber(redis.call('GET', prefix .. 'nf') or '0')
end
-- A logical slot (meta, then the signature) written at ``offset``: the meta part goes to
-- the doc's d: block, the signature part to its s: block (unless that block was pruned).
local function slot_write(doc, offset, data)
  local meta = string.sub(data, 1, math.max(0, @SIG@ - offset))
  if #meta > 0 then
    block_write(prefix .. 'd:' .. math.floor(doc / @PERM@), @PERM@, @META@, doc % @PERM@,
      offset, meta)
  end
  local sig = string.sub(data, #meta + 1, @SIG@ + @SIGB@ - offset)
  local blank = sig == string.rep('\0', #sig)
  local k = prefix .. 's:' .. math.floor(doc / @PERS@)
  if #sig > 0 and doc >= near_floor() and not (blank and redis.call('EXISTS', k) == 0) then
    block_write(k, @PERS@, @SIGB@, doc % @PERS@, offset + #meta - @SIG@, sig)
  end
end
-- The logical slot of a doc; its signature reads as absent once pruned.
local function slot_read(doc)
  local off = (doc % @PERM@) * @META@
  local meta = redis.call('GETRANGE', prefix .. 'd:' .. math.floor(doc / @PERM@), off,
    off + @SIG@ - 1)
  if #meta < @SIG@ then return '' end
  if string.byte(meta, @HAS@ + 1) ~= 1 or doc < near_floor() then
    return string.sub(meta, 1, @HAS@) .. '\0' .. string.rep('\0', @SIGB@)
  end
  local soff = (doc % @PERS@) * @SIGB@
  local sig = redis.call('GETRANGE', prefix .. 's:' .. math.floor(doc / @PERS@), soff,
    soff + @SIGB@ - 1)
  if #sig < @SIGB@ then return string.sub(meta, 1, @HAS@) .. '\0' .. string.rep('\0', @SIGB@) end
  return meta .. sig
end
local function add_bands(doc, first, count, fields_at)
  for i = 0, count - 1 do
    local key, field = KEYS[first + i], ARGV[fields_at + i]
    local v = redis.call('HGET', key, field) or ''
    redis.call('HSET', key, field, v .. struct.pack('>I4', doc))
  end
end
-- Take a doc out of the LSH buckets KEYS[first..first+count-1], fields from ARGV[fields_at].
local function remove_bands(doc, first, count, fields_at)
  local mine = struct.pack('>I4', doc)
  for i = 0, count - 1 do
    local key, field = KEYS[first + i], ARGV[fields_at + i]
    local v = redis.call('HGET', key, field)
    if v then
      local kept = {}
      for j = 1, #v, 4 do
        local d = string.sub(v, j, j + 3)
        if d ~= mine then kept[#kept + 1] = d end
      end
      if #kept == 0 then redis.call('HDEL', key, field)
      else redis.call('HSET', key, field, table.concat(kept)) end
    end
  end
end
local function new_doc(aidkey, aid, keyval, slot)
  local doc = redis.call('INCR', prefix .. 'seq')
  redis.call('HSET', aidkey, aid, doc)
  redis.call('HSET', prefix .. 'k:' .. math.floor(doc / @KPH@), doc, keyval)
  slot_write(doc, 0, slot)
  return doc
end
