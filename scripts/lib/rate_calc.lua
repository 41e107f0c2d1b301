-- /rate's arithmetic: which currencies, how a pair is quoted, the base
-- rate from the sources' numbers, the margin, the sum.  Exact: decimals
-- only (no float), one rounding per number, by the rule below (README
-- "/rate", tests/spec/rate_calc_spec.lua against Python's decimal).
--
-- The rounding rule:
--   * A rate is quoted as the price of one unit of a currency in another
--     ("95.12 RUB per USDT") and has 2 places: the base rate is rounded
--     once from the sources' exact numbers, the final rate once from
--     base x (100 +- margin) / 100; both ROUND_HALF_UP (as a desk does on
--     paper).
--   * The sum paid out has the currency's own places (DECIMALS: IDR none)
--     and is rounded ROUND_DOWN (toward zero): the desk never pays out a
--     fraction more than the rate gives.
--   * The margin always goes to the desk: when the client pays in the
--     quote's currency (RUB per USDT, client gives RUB) the rate goes up,
--     base x (1 + m/100); when the client receives the quote's currency
--     (client gives USDT, gets RUB per USDT) it goes down, x (1 - m/100).
local M = {}

M.GIVES = { "RUB", "USDT" }
M.GETS = {
  RUB = { "USDT", "USD", "EUR", "THB", "AED", "ZAR", "IDR" },
  USDT = { "RUB", "USD", "EUR", "THB", "AED", "ZAR", "IDR" },
}
M.FIAT = { "RUB", "EUR", "THB", "AED", "ZAR", "IDR" }   -- asked of the fiat sources, per USD
M.DECIMALS = { RUB = 2, USDT = 2, USD = 2, EUR = 2, THB = 2, AED = 2, ZAR = 2, IDR = 0 }
M.RATE_PLACES, M.RATE_MODE, M.SUM_MODE = 2, "half_up", "down"
M.MARGIN_MIN, M.MARGIN_MAX, M.MARGIN_PLACES = -20, 20, 2
M.AMOUNT_MAX = 1000000000000   -- 10^12

-- Whether give -> get is a pair /rate offers.
function M.pair_ok(give, get)
  for _, g in ipairs(M.GETS[give] or {}) do if g == get then return true end end
  return false
end

-- How the pair's rate is quoted: the price of one `unit` in `per`.  The
-- client giving RUB sees "RUB per <get>" (IDR: "IDR per RUB", as one
-- rupiah is a fraction of a kopeck); the client giving USDT sees
-- "<get> per USDT".
function M.quote(give, get)
  if give == "RUB" then
    if get == "IDR" then return "RUB", "IDR" end
    return get, "RUB"
  end
  return "USDT", get
end

-- The base rate of the pair, exact to RATE_PLACES, from the sources:
--   usdt = {ask =, bid =} (RUB per USDT, Rapira), fiat = {X = units per
--   USD, ...} (APILayer or the fallback; RUB among them).
-- cross: "rub" (USDT -> fiat through Rapira's RUB, the default) or
-- "usd" (1 USDT taken as 1 USD).  Returns rate, path, needs (the
-- sources used: {usdt = true, fiat = true}); nil, sentence when a number
-- it needs is missing.
function M.base(give, get, usdt, fiat, cross)
  local P, mode = M.RATE_PLACES, M.RATE_MODE
  local function need_fiat(c) return c == "USD" and decimal.new(1) or (fiat and fiat[c]) end
  if give == "RUB" and get == "USDT" then
    if not (usdt and usdt.ask) then return nil, "no USDT/RUB rate" end
    return usdt.ask:round(P, mode), "RUB → USDT directly (Rapira's ask)"
  elseif give == "USDT" and get == "RUB" then
    if not (usdt and usdt.bid) then return nil, "no USDT/RUB rate" end
    return usdt.bid:round(P, mode), "USDT → RUB directly (Rapira's bid)"
  elseif give == "RUB" then
    local rub, x = need_fiat("RUB"), need_fiat(get)
    if not (rub and x) then return nil, "no RUB/" .. get .. " rate" end
    if get == "IDR" then return x:div(rub, P, mode), "RUB → USD → IDR (fiat rates per USD)" end
    return rub:div(x, P, mode), get == "USD" and "RUB → USD (fiat rate)"
                                               or ("RUB → USD → " .. get .. " (fiat rates per USD)")
  end
  -- USDT -> fiat
  local x = need_fiat(get)
  if not x then return nil, "no " .. get .. " rate" end
  if cross == "usd" then
    return x:round(P, mode), "USDT = USD → " .. get .. " (1 USDT taken as 1 USD)"
  end
  local rub = need_fiat("RUB")
  if not (usdt and usdt.bid and rub) then return nil, "no USDT/RUB rate" end
  return (usdt.bid * x):div(rub, P, mode), "USDT → RUB (Rapira's bid) → " .. get .. " (fiat rate)"
end

-- Which sources the pair's base rate reads: "usdt" and/or "fiat".
function M.sources(give, get, cross)
  if (give == "RUB" and get == "USDT") or (give == "USDT" and get == "RUB") then return { "usdt" } end
  if give == "RUB" or cross == "usd" then return { "fiat" } end
  return { "usdt", "fiat" }
end

-- The final rate: the base with the margin (a decimal, percent) to the desk.
function M.final(base, margin, give, get)
  local _, per = M.quote(give, get)
  local factor = per == give and (100 + margin) or (100 - margin)
  return (base * factor):div(100, M.RATE_PLACES, M.RATE_MODE)
end

-- The sum the client gets for `amount` of `give` at the final rate;
-- nil when the rate is zero (a margin of 100 % or more cannot happen:
-- MARGIN_MAX).
function M.sum(amount, final, give, get)
  local _, per = M.quote(give, get)
  if per == give then
    if final:is_zero() then return nil end
    return amount:div(final, M.DECIMALS[get], M.SUM_MODE)
  end
  return (amount * final):round(M.DECIMALS[get], M.SUM_MODE)
end

-- A typed margin: a decimal in [MARGIN_MIN, MARGIN_MAX] with at most
-- MARGIN_PLACES places; nil, sentence otherwise.
function M.parse_margin(text)
  local s = (text or ""):gsub("%%%s*$", "")
  local m, err = decimal.parse(s, { comma = true })
  if not m then
    return nil, "Send the margin in percent as a number, like 2, 2.5 or -1."
  end
  if m < M.MARGIN_MIN or M.MARGIN_MAX < m then
    return nil, string.format("A margin is from %d to %d percent. Send a number like 2, 2.5 or -1.",
                              M.MARGIN_MIN, M.MARGIN_MAX)
  end
  if m:scale() > M.MARGIN_PLACES and m:cmp(m:round(M.MARGIN_PLACES, "down")) ~= 0 then
    return nil, "A margin has at most two decimals, like 2.25. Send it again."
  end
  return m
end

-- A typed amount of `give`: > 0, at most AMOUNT_MAX, at most the
-- currency's places; spaces and a comma as the point accepted.
function M.parse_amount(text, give)
  local a, err = decimal.parse(text or "", { comma = true })
  if not a then return nil, err end
  if a:sign() <= 0 then return nil, "The amount must be more than zero. Send it like 10 000 or 10 000,50." end
  if M.AMOUNT_MAX < a then return nil, "That amount is too large: at most 1 000 000 000 000. Send a smaller one." end
  local places = M.DECIMALS[give] or 2
  if a:scale() > places and a:cmp(a:round(places, "down")) ~= 0 then
    return nil, string.format("%s has at most %d decimals. Send the amount like 10 000,50.", give, places)
  end
  return a
end

-- Shown numbers: groups of three set apart by spaces.
function M.fmt_amount(d, cur) return d:format{ decimals = M.DECIMALS[cur] or 2, group = " " } end
function M.fmt_rate(d) return d:format{ decimals = M.RATE_PLACES, group = " " } end

return M
