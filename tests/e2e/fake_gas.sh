#!/usr/bin/env bash
# The stand-in gas oracle and node (tests/fakes/fake_gas) itself, with
# curl: Etherscan's answer and each of its errors, the JSON-RPC methods and
# errors, the series under control, faults and stats.  The gas e2e test
# trusts it; this checks it says what the real services say.
. "$(dirname "$0")/lib.bash"
KEY=Kx7-good
start_gas --key "$KEY" --block-ms 0 || { fail "the stand-in starts"; finish; exit 1; }
pass "--port 0: it prints the port it listens on"

es() { curl -s --max-time 5 "$GAS$1"; }
oracle() { es "/v2/api?chainid=1&module=gastracker&action=gasoracle&apikey=${1:-$KEY}"; }
rpc() { gas_post /rpc "$1"; }
texts() { jget "$1" result; }
jlen() { printf '%s' "$(jget "$1" "$2")" | perl -MJSON::PP -e 'print scalar @{decode_json(do { local $/; <STDIN> })}'; }
to_hex() { perl -e 'printf "0x%x", $ARGV[0] * 1e9 + 0.5' "$1"; }

# ---- Etherscan: the answer ----
is "$(gas_post /control/series '{"safe":11.5,"propose":12.25,"fast":14.123456789,"base":11.2}')" '{"ok":true}' \
  "the series is set"
a=$(oracle)
is "$(jget "$a" status)/$(jget "$a" message)" "1/OK" "the gas oracle answers status 1, OK"
is "$(jget "$a" result.SafeGasPrice)|$(jget "$a" result.ProposeGasPrice)|$(jget "$a" result.FastGasPrice)|$(jget "$a" result.suggestBaseFee)" \
  "11.5|12.25|14.123456789|11.2" "the lanes and the base fee in gwei, as set"
like "$a" '"LastBlock":"[0-9]+","SafeGasPrice":"[0-9.]+","ProposeGasPrice":"[0-9.]+","FastGasPrice":"[0-9.]+","suggestBaseFee":"[0-9.]+","gasUsedRatio":"[0-9.]+(,[0-9.]+){4}"' \
  "every value a string, in Etherscan's order; five gas used ratios"
b1=$(jget "$a" result.LastBlock)
sleep 0.4   # (Etherscan's 3 calls a second)
gas_post /control/series '{"fast":15}' >/dev/null
b2=$(jget "$(oracle)" result.LastBlock)
[ "$b2" -gt "$b1" ] && pass "LastBlock increases as blocks are mined" || fail "LastBlock increases" "$b1 then $b2"
is "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$GAS/v2/api?chainid=1&module=gastracker&action=gasoracle&apikey=nope")" \
  "200 application/json" "Etherscan's errors come with HTTP 200"
sleep 1.1

# ---- Etherscan: the errors ----
notok() { is "$(jget "$1" status)|$(jget "$1" message)|$(jget "$1" result)" "0|NOTOK|$2" "$3"; }
notok "$(oracle wrong-key)" "Invalid API Key" "a key not in --key: Invalid API Key"
notok "$(es "/v2/api?chainid=1&module=gastracker&action=gasoracle")" "Missing/Invalid API Key" "no key at all"
CHAIN_TEXT="Missing or unsupported chainid parameter (required for v2 api), please see https://api.etherscan.io/v2/chainlist for the list of supported chainids"
notok "$(es "/v2/api?module=gastracker&action=gasoracle&apikey=$KEY")" "$CHAIN_TEXT" "no chainid"
notok "$(es "/v2/api?chainid=999&module=gastracker&action=gasoracle&apikey=$KEY")" "$CHAIN_TEXT" "a chainid not served"
notok "$(es "/api?module=gastracker&action=gasoracle&apikey=$KEY")" \
  "You are using a deprecated V1 endpoint, switch to Etherscan API V2." "the V1 path"
notok "$(es "/v2/api?chainid=1&module=gastrack&action=gasoracle&apikey=$KEY")" "Error! Missing Or invalid Module name" \
  "an unknown module"
sleep 1.1
# four calls of one key at once: the 4th is over 3 a second
burst=$(curl -s --max-time 5 "$GAS/v2/api?chainid=1&module=gastracker&action=gasoracle&apikey=$KEY" \
  "$GAS/v2/api?chainid=1&module=gastracker&action=gasoracle&apikey=$KEY" \
  "$GAS/v2/api?chainid=1&module=gastracker&action=gasoracle&apikey=$KEY" \
  "$GAS/v2/api?chainid=1&module=gastracker&action=gasoracle&apikey=$KEY" | sed 's/}{/}\n{/g')
is "$(printf '%s\n' "$burst" | head -3 | grep -c '"status":"1"')" 3 "three calls in a second are answered"
is "$(printf '%s\n' "$burst" | tail -1)" '{"status":"0","message":"NOTOK","result":"Max rate limit reached"}' \
  "a fourth within the second: Max rate limit reached"
sleep 1.1
is "$(jget "$(oracle)" status)" 1 "the next second the key is served again"

# ---- the series under control ----
sleep 1.1
gas_post /control/script '{"steps":[{"fast":9},{"fast":8},{"fast":7.5}],"advance":"call"}' >/dev/null
seen=""
for _ in 1 2 3 4; do seen="$seen $(jget "$(oracle)" result.FastGasPrice)"; sleep 0.4; done
is "$seen" " 9 8 7.5 7.5" "a scripted series moves one step per call and stays on its last"
gas_post /control/script '{"steps":[{"propose":20},{"propose":21}],"advance":"second","every":0.3}' >/dev/null
wait_for 5 sh -c "curl -s '$GAS/control/stats' | grep -q '\"propose\":21'" \
  && pass "a per-second series moves with the clock" || fail "a per-second series moves"
is "$(jget "$(gas_post /control/series '{"fast":-1}')" error)" \
  "safe, propose, fast and base are numbers of gwei from 0 to 1000000" "a wrong series is refused, saying why"
is "$(curl -s -o /dev/null -w '%{http_code}' -d '[' "$GAS/control/script")" 400 "a body that is not JSON: 400"

# ---- JSON-RPC: eth_feeHistory consistent with the series ----
gas_post /control/series '{"safe":20.5,"propose":21,"fast":23.75,"base":20,"blocks":20}' >/dev/null
h=$(rpc '{"jsonrpc":"2.0","id":7,"method":"eth_feeHistory","params":["0x14","latest",[20,50,80]]}')
is "$(jget "$h" jsonrpc)/$(jget "$h" id)" "2.0/7" "eth_feeHistory answers with the call's id"
bn=$(jget "$(rpc '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}')" result)
is "$(perl -e 'printf "0x%x", hex($ARGV[0]) - 19' "$bn")" "$(jget "$h" result.oldestBlock)" \
  "oldestBlock: the 20th block back from eth_blockNumber's"
is "$(jget "$(jget "$h" result.baseFeePerGas)" 20)" "$(to_hex 20)" "baseFeePerGas: 21 entries, the last the next block's base fee"
is "$(jlen "$h" result.baseFeePerGas)/$(jlen "$h" result.gasUsedRatio)/$(jlen "$h" result.reward)/$(jlen "$h" result.reward.0)" \
  "21/20/20/3" "a gas used ratio and a reward row per block, a reward per percentile"
lanes=$(printf '%s' "$h" | perl -MJSON::PP -e '
  my $r = decode_json(do { local $/; <STDIN> })->{result};
  my $next = hex $r->{baseFeePerGas}[-1];
  my @out;
  for my $i (0 .. 2) {
    my @t = sort { $a <=> $b } map { hex $_->[$i] } @{$r->{reward}};
    push @out, ($next + $t[int(@t / 2)]) / 1e9;
  }
  print join " ", @out;')
is "$lanes" "20.5 21 23.75" "next base fee + the median 20/50/80th percentile tip: the lanes set"
is "$(jget "$(rpc '{"jsonrpc":"2.0","id":"a","method":"eth_gasPrice"}')" result)" "$(to_hex 21)" \
  "eth_gasPrice: the propose lane in wei"
is "$(jget "$(rpc '{"jsonrpc":"2.0","id":1,"method":"eth_feeHistory","params":["0x3","pending",[]]}')" result.oldestBlock)" \
  "$(perl -e 'printf "0x%x", hex($ARGV[0]) - 1' "$bn")" "\"pending\": the newest is the block after the latest"
is "$(jget "$(rpc '{"jsonrpc":"2.0","id":1,"method":"eth_feeHistory","params":[4,"latest"]}')" result.reward)" "<none>" \
  "no percentiles: no reward"
sleep 1.1
is "$(jget "$(oracle)" result.LastBlock)" "$(perl -e 'print hex $ARGV[0]' "$bn")" "Etherscan's LastBlock is the node's block number"

# ---- JSON-RPC: batches and errors ----
bat=$(rpc '[{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"},{"jsonrpc":"2.0","method":"eth_gasPrice"},{"jsonrpc":"2.0","id":2,"method":"eth_gasPrice"}]')
is "$(jget "$bat" 0.id),$(jget "$bat" 1.id),$(jget "$bat" 2)" "1,2,<none>" "a batch: an answer per call in order, none for a notification"
rpc_err() { is "$(jget "$1" error.code) $(jget "$1" error.message)" "$2" "$3"; }
rpc_err "$(rpc '{"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":[]}')" \
  "-32601 the method eth_sendRawTransaction does not exist/is not available" "an unknown method: -32601"
rpc_err "$(rpc '{"jsonrpc":"2.0","id":1,"method":"eth_feeHistory","params":["0x14"]}')" \
  "-32602 missing value for required argument 1" "a missing argument: -32602"
rpc_err "$(rpc '{"jsonrpc":"2.0","id":1,"method":"eth_feeHistory","params":["abc","latest",[50]]}')" \
  '-32602 invalid argument 0: invalid hex or decimal integer "abc"' "a block count that is no number: -32602"
rpc_err "$(rpc '{"jsonrpc":"2.0","id":1,"method":"eth_feeHistory","params":["0x2","latest",[50,20]]}')" \
  "-32000 invalid reward percentile: #0:50.000000 >= #1:20.000000" "percentiles out of order: geth's -32000"
rpc_err "$(rpc '{"jsonrpc":"2.0","id":1,"method":"eth_gasPrice","params":[1]}')" \
  "-32602 too many arguments, want at most 0" "too many arguments: -32602"
rpc_err "$(rpc '{"jsonrpc":"2.0","id":1,"method":')" "-32700 parse error" "a body that is not JSON: -32700"
is "$(jget "$(rpc '{"jsonrpc":"2.0","id":1,"method":')" id)" "null" "(with id null)"
rpc_err "$(rpc '[]')" "-32600 empty batch" "an empty batch: -32600"
is "$(rpc '[7]')" '[{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid request"}}]' \
  "a call in a batch that is not an object: -32600 (in a batch)"
is "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: text/plain' -d '{}' "$GAS/rpc")" 415 \
  "a body that is not application/json: 415, as geth"

# ---- faults per source ----
sleep 1.1
gas_post /control/fault '{"source":"etherscan","kind":"status","status":502,"count":1}' >/dev/null
is "$(curl -s -o /dev/null -w '%{http_code}' "$GAS/v2/api?chainid=1&module=gastracker&action=gasoracle&apikey=$KEY")" 502 \
  "a status fault: that HTTP status"
is "$(jget "$(oracle)" status)" 1 "for the calls asked (count), then answers again"
sleep 1.1
gas_post /control/fault '{"source":"etherscan","kind":"garbage","count":1}' >/dev/null
is "$(jget "$(oracle)" status)" "<bad json>" "a garbage fault: a body that is not JSON"
gas_post /control/fault '{"source":"etherscan","kind":"error","text":"Max rate limit reached, please use API Key for higher rate limit","count":1}' >/dev/null
notok "$(oracle)" "Max rate limit reached, please use API Key for higher rate limit" "an error fault: NOTOK with the text given"
gas_post /control/fault '{"source":"rpc","kind":"hang","count":1}' >/dev/null
curl -s --max-time 1 -H 'Content-Type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"eth_gasPrice"}' "$GAS/rpc" >/dev/null
is "$?" 28 "a hang fault: the call is never answered (curl times out)"
is "$(jget "$(rpc '{"jsonrpc":"2.0","id":1,"method":"eth_gasPrice"}')" result)" "$(to_hex 21)" "the node answers the next call"
gas_post /control/fault '{"source":"rpc","kind":"error","text":"header not found"}' >/dev/null
rpc_err "$(rpc '{"jsonrpc":"2.0","id":1,"method":"eth_gasPrice"}')" "-32000 header not found" "an RPC error fault: -32000 with the text"
sleep 1.1
is "$(jget "$(oracle)" status)" 1 "a fault of one source leaves the other alone"
gas_post /control/fault '{"clear":true}' >/dev/null
is "$(jget "$(rpc '{"jsonrpc":"2.0","id":1,"method":"eth_gasPrice"}')" result)" "$(to_hex 21)" "faults are cleared"
gas_post /control/fault '{"source":"rpc","kind":"delay","delay_ms":300,"count":1}' >/dev/null
is "$(jget "$(rpc '{"jsonrpc":"2.0","id":1,"method":"eth_gasPrice"}')" result)" "$(to_hex 21)" "a delay fault: the answer, later"
is "$(jget "$(gas_post /control/fault '{"source":"smtp","kind":"hang"}')" error)" 'source is "etherscan" or "rpc"' \
  "a fault for an unknown source is refused"
is "$(jget "$(gas_post /control/fault '{"source":"rpc","kind":"hang","count":0}')" error)" \
  "status 100..599, count 1..1000000, delay_ms 0..600000, text a string" "a fault for no call at all is refused (not armed for ever)"
is "$(jget "$(rpc '{"jsonrpc":"2.0","id":1,"method":"eth_gasPrice"}')" result)" "$(to_hex 21)" "(and nothing was armed)"

# ---- stats ----
st=$(curl -s "$GAS/control/stats")
[ "$(jget "$st" etherscan.calls)" -ge 20 ] && pass "Etherscan calls counted" || fail "Etherscan calls counted" "$st"
is "$(jget "$st" etherscan.rate_limited)/$(jget "$st" etherscan.v1)/$(jget "$st" etherscan.bad_chain)" "1/1/2" \
  "rate-limit hits and errors counted by kind"
is "$(jget "$st" etherscan.invalid_key)" 3 "invalid keys counted (the wrong key twice, no key once)"
[ "$(jget "$st" etherscan_today)" -gt 10 ] && is "$(jget "$st" etherscan_today)" "$(jget "$st" etherscan.ok)" \
  "the key's calls today counted: each one answered, none refused" || fail "calls today counted" "$st"
[ "$(jget "$st" etherscan.max_per_s)" -ge 4 ] && pass "the busiest second is kept (the burst of 4)" \
  || fail "the busiest second" "$st"
is "$(jget "$st" rpc.methods.eth_sendRawTransaction)$(jget "$st" rpc.methods.other)" "<none>1" "RPC calls counted per method"
is "$(jget "$st" etherscan.faults)/$(jget "$st" rpc.faults)" 3/3 "faults sent counted per source"
is "$(jget "$st" etherscan.forced)/$(jget "$st" rpc.forced)" 1/1 "error texts forced counted per source"
gas_post /control/reset '{}' >/dev/null
is "$(jget "$(curl -s "$GAS/control/stats")" etherscan.calls)" 0 "reset zeroes the stats"

# ---- the invalid-key throttle and the day's limit (a stand-in of their own) ----
kill "$GAS_PID"; wait "$GAS_PID" 2>/dev/null
start_gas --key "$KEY" --daily-limit 2 || { fail "the second stand-in starts"; finish; exit 1; }
oracle >/dev/null; sleep 0.4
oracle >/dev/null; sleep 0.4
like "$(jget "$(oracle)" result)" '^Max daily rate limit reached' "past --daily-limit calls in the day: the daily limit"
for i in 1 2 3 4 5 6; do r=$(oracle "bad$i"); done
is "$(jget "$r" result)" "Invalid API Key" "six invalid keys in 30 s: the sixth still Invalid API Key"
is "$(jget "$(oracle)" result)" "Too many invalid api key attempts, please try again later" \
  "then every call is refused for 30 s, even with a good key"
"$PWD/$CW_BUILD/tests/fakes/fake_gas" --port 0 --block-ms x >/dev/null 2>&1
is "$?" 2 "a bad option: exit status 2"
finish
