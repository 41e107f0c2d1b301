#!/usr/bin/env bash
# make bench: the shared hand-written reference and the real path side by
# side, in the same run, on the same frames and the same presets.
#
# The reference (REF_DIR, by default ../shared/bench beside the project) is
# read, never written: its programs are built and its inputs generated in
# $CW_BUILD/refbench (once per size).  Without it: one line, and nothing
# else (the project does not depend on it).
#   REF_FRAMES  frames to generate (default 2000000; e.g. 200000 for a quick run)
#   REF_USERS   users of 3 presets each (default 10000)
#   REF_TRIALS  rounds of each program, reported by their median (default 3;
#               the real path: as many as fit in REF_BUDGET_S seconds, default 60)
# Prints numbers; asserts nothing.
cd "$(dirname "$0")/../.." || exit 1
B=${CW_BUILD:-build}
REF=${REF_DIR:-$PWD/../shared/bench}
if [ ! -f "$REF/bench_hand.c" ] || [ ! -f "$REF/gen.py" ]; then
  echo "reference: no $REF (../shared/bench beside the project): side-by-side skipped"
  exit 0
fi
REF=$(cd "$REF" && pwd)
FRAMES=${REF_FRAMES:-2000000}; USERS=${REF_USERS:-10000}; ROUNDS=${REF_TRIALS:-3}
OUT=$PWD/$B/refbench
mkdir -p "$OUT"

# its programs, as its build.sh builds them (with the page pretouch)
build() {   # NAME [FLAGS...]
  local name=$1; shift
  if [ ! -x "$OUT/$name" ] || [ -n "$(find "$REF" -newer "$OUT/$name" -name '*.[ch]')" ]; then
    cc -O2 -include "$REF/pretouch.h" -I"$REF" "$@" -o "$OUT/$name" -lm || exit 1
  fi
}
build bench_memchr "$REF/bench_memchr.c"
build bench_hand "$REF/bench_hand.c"
build bench_hand_parse_only -DPARSE_ONLY "$REF/bench_hand.c"

# its inputs, once per size (one frames file is kept: ~370 bytes a frame)
K="$OUT/klines_$FRAMES.ndjson"
if [ ! -s "$K" ]; then
  rm -f "$OUT"/klines_*.ndjson
  echo "reference: generating $FRAMES frames (gen.py, ~10 s a million) ..."
  python3 "$REF/gen.py" "$FRAMES" "$K.tmp" 2>/dev/null && mv "$K.tmp" "$K" || exit 1
fi
S="$OUT/subs_$USERS.txt"
if [ ! -s "$S" ]; then
  python3 "$REF/gen_subs.py" "$OUT/symbols.txt" "$USERS" "$S.tmp" && mv "$S.tmp" "$S" || exit 1
fi

field() { printf '%s\n' "$1" | grep -o " $2=[^ ]*" | cut -d= -f2; }
# ref PROGRAM: its RESULT line of the round with the median rate
ref() {
  local lines="" i
  for i in $(seq "$ROUNDS"); do
    lines+=$("$OUT/$1" "$K" "$OUT/symbols.txt" "$S" 2>/dev/null | grep '^RESULT')$'\n'
  done
  printf '%s' "$lines" | awk '{for (i = 1; i <= NF; i++) if ($i ~ /^msgs_per_s=/) {split($i, a, "="); print a[2], $0}}' |
    sort -n | awk -v n="$ROUNDS" 'NR == int(n / 2) + 1 {sub(/^[^ ]* /, ""); print}'
}
echo "reference ($REF, built in $B/refbench): $FRAMES frames, $USERS users x 3 presets," \
     "median of $ROUNDS rounds each:"
floor=$(ref bench_memchr); echo "  memchr floor:   $floor"
parse=$(ref bench_hand_parse_only); echo "  parse only:     $parse"
match=$(ref bench_hand); echo "  parse + match:  $match"
[ -n "$match" ] || { echo "reference: no RESULT line"; exit 1; }
printf '  reference rates: floor %.1f M/s, parse only %.1f M/s, parse + match %.1f M/s\n' \
  "$(field "$floor" msgs_per_s)e-6" "$(field "$parse" msgs_per_s)e-6" "$(field "$match" msgs_per_s)e-6"

REF_TRIALS=$ROUNDS "$B/tests/bench/engine_ref" "$K" "$OUT/symbols.txt" "$S" \
  "$(field "$match" msgs_per_s)" "$(field "$match" matches)" "$(field "$match" checksum)"
