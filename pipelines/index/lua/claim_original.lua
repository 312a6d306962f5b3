-- Decide whether an article is new (reserve it, pending) or a copy of an archived or
-- pending one: same article id, same exact fingerprint, or a near-copy.
-- KEYS: aidkey, fpkey, band keys...; ARGV: prefix, aid, fp, keyval, slot, worker, ttl_ms,
-- jaccard_match, containment_match, jaccard_floor, band fields...
local aid, fp, keyval, slot, worker = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local JM, CM, JF = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local function size(sig)
  local a, b, c, d = string.byte(sig, 1, 4)
  return a + b * 256 + c * 65536 + d * 16777216
end
-- neardup.compare_many, the same arithmetic in doubles: Jaccard estimate over 4-bit codes
local function compare(x, y)
  local equal, both, either = 0, 0, 0
  for i = @BODY@ + 1, #x do
    local a, b = string.byte(x, i), string.byte(y, i)
    if a ~= 0 or b ~= 0 then
      local codes = {a % 16, b % 16, math.floor(a / 16), math.floor(b / 16)}
      for k = 1, 3, 2 do
        local p, q = codes[k], codes[k + 1]
        if p ~= 0 and q ~= 0 then
          both = both + 1
          if p == q then equal = equal + 1 end
        end
        if p ~= 0 or q ~= 0 then either = either + 1 end
      end
    end
  end
  local j = ((15 * equal - both) / 14) / math.max(either, 1)
  if j < 0 then j = 0 elseif j > 1 then j = 1 end
  local sa, sb = size(x), size(y)
  local c = 0
  if math.min(sa, sb) > 0 then c = math.min(1, j * (sa + sb) / (1 + j) / math.min(sa, sb)) end
  return j, (j >= JM) or (c >= CM and j >= JF)
end
local deadline = now + tonumber(ARGV[7])
local doc = redis.call('HGET', KEYS[1], aid)
if doc then
  local st, owner = state(doc)
  if st == 'c' then return {'article', doc, 0} end
  if st == 'p' then
    if owner ~= worker then return {'article', doc, 1} end
    redis.call('HSET', prefix .. 'pend', doc, worker .. '\0' .. deadline)
    redis.call('ZADD', prefix .. 'pendz', deadline, doc)
    return {'mine', doc, 0}
  end
end
local fdoc = redis.call('HGET', KEYS[2], fp)
if fdoc then
  local st = state(fdoc)
  if st == 'c' then return {'exact', fdoc, 0} end
  if st == 'p' then return {'exact', fdoc, 1} end
end
if string.byte(slot, @HAS@ + 1) == 1 then
  local mine = string.sub(slot, @SIG@ + 1, @SIG@ + @SIGB@)
  local seen, best, best_j, best_p = {}, nil, -1, 0
  for i = 3, #KEYS do
    local v = redis.call('HGET', KEYS[i], ARGV[8 + i]) or ''
    for j = 1, #v, 4 do
      local cand = struct.unpack('>I4', v, j)
      if not seen[cand] then
        seen[cand] = true
        local st = state(tostring(cand))
        if st == 'c' or st == 'p' then
          local other = slot_read(cand)
          if #other > @SIG@ and string.byte(other, @HAS@ + 1) == 1 then
            local sim, match = compare(mine, string.sub(other, @SIG@ + 1, @SIG@ + @SIGB@))
            if match and sim > best_j then
              best, best_j, best_p = cand, sim, (st == 'p') and 1 or 0
            end
          end
        end
      end
    end
  end
  if best then return {'near', tostring(best), best_p, string.format('%.17g', best_j)} end
end
doc = new_doc(KEYS[1], aid, keyval, slot)
redis.call('HSET', KEYS[2], fp, doc)
add_bands(doc, 3, #KEYS - 2, 11)
redis.call('HSET', prefix .. 'pend', doc, worker .. '\0' .. deadline)
redis.call('ZADD', prefix .. 'pendz', deadline, doc)
return {'mine', doc, 0}
