#!/usr/bin/env bash
# One promtool unit test file as TAP: the rules it loads pass
# `promtool check rules` (syntax, PromQL, templates), then the file's cases
# (series that must fire an alert and series that must not) pass
# `promtool test rules`.  promtool is Debian's prometheus package.
set -u
t=$1
echo "1..2"
if ! command -v promtool >/dev/null; then
  echo "not ok 1 - promtool is installed (make deps: the prometheus package)"
  echo "not ok 2 - # SKIP no promtool"
  exit 1
fi
rules=$(sed -n 's/^  - \(.*\.rules\.yml\)$/\1/p' "$t")
rules=$(cd "$(dirname "$t")" && realpath "$rules")
if out=$(promtool check rules "$rules" 2>&1); then echo "ok 1 - promtool check rules ${rules#"$PWD"/}"
else echo "not ok 1 - promtool check rules ${rules#"$PWD"/}"; printf '%s\n' "$out" | sed 's/^/#   /'; fi
if out=$(promtool test rules "$t" 2>&1); then echo "ok 2 - promtool test rules $t"
else echo "not ok 2 - promtool test rules $t"; printf '%s\n' "$out" | grep -v '^$' | sed 's/^/#   /'; fi
