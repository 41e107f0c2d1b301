local t = {}
for i = 1, 10 do t[#t + 1] = string.rep('x', i) end
return { admins = { 1, 2, 3 }, exchange = { intervals = { '1m', '2m' } } }
