# candlewatch — build, test and run.  `make help` lists the targets.
CC      ?= cc
PKGS    := lua5.4 libwebsockets libcurl libcjson sqlite3 libuv openssl cairo fontconfig zlib
# Debian packages: the libraries, the toolchain, and what the tests use
# (prove from perl, curl for e2e requests, luassert from lua-busted,
# promtool from prometheus for deploy/prometheus's rules, headless
# chromium for the status page, dpkg-dev and lintian for make deb's package).
DEB_PKGS := build-essential pkg-config liblua5.4-dev libwebsockets-dev \
            libcurl4-openssl-dev libcjson-dev libsqlite3-dev libuv1-dev libssl-dev \
            libcairo2-dev libfontconfig-dev fonts-dejavu-core zlib1g-dev \
            lua-busted perl curl ca-certificates openssl prometheus chromium \
            dpkg-dev lintian

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

OPT     ?= -O2 -g
SAN     ?=
# a network daemon's hardening (Debian's, and what lintian looks for):
# checked libc calls, a read-only GOT; off under the sanitizers
HARDEN_CFLAGS  ?= -D_FORTIFY_SOURCE=2
HARDEN_LDFLAGS ?= -Wl,-z,relro,-z,now
CFLAGS  := $(OPT) $(SAN) $(HARDEN_CFLAGS) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Icore
LDFLAGS := $(SAN) $(HARDEN_LDFLAGS)
LDLIBS  := -lm
ASAN_VARS := BUILD=build-asan BIN=build-asan/candlewatch OPT="-O1 -g -fno-omit-frame-pointer" \
             SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" \
             HARDEN_CFLAGS= HARDEN_LDFLAGS=

BUILD   ?= build
BIN     ?= candlewatch
SRC     := $(shell find core -name '*.c' | sort)
OBJ     := $(SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/spec_lua.o
LIBOBJ  := $(filter-out $(BUILD)/core/main.o,$(OBJ))
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%) $(BUILD)/tests/fakes/fake_binance \
            $(BUILD)/tests/fakes/fake_telegram $(BUILD)/tests/fakes/fake_smtp $(BUILD)/tests/fakes/fake_gas \
            $(BUILD)/tests/fakes/fake_rates $(BUILD)/tests/fakes/fake_bybit
TESTS   := $(UNIT_SRC) $(sort $(wildcard tests/spec/*_spec.lua)) $(sort $(wildcard tests/e2e/*.sh)) \
           $(sort $(wildcard tests/prometheus/*.test.yml))
PROVE   := prove --exec 'tests/run-one' --timer -j2

.PHONY: all deps run test asan test-asan bench soak fuzz deb clean help

all: $(BIN)

help:
	@echo "make            build ./candlewatch"
	@echo "make run        install missing packages, build, run with ./config.lua"
	@echo "make test       install missing packages, build, run every test (TAP via prove)"
	@echo "make asan       build build-asan/candlewatch with ASan+UBSan"
	@echo "make test-asan  the whole test suite against the ASan+UBSan build"
	@echo "make bench      performance numbers (prints; asserts nothing)"
	@echo "make soak       an hour under load: resident memory, fds and Lua memory must stay flat"
	@echo "make fuzz       libFuzzer + ASan/UBSan on each outside-input parser (FUZZ_SECONDS=600 each):"
	@echo "                kline ws tg_answer rest tg_update config_lua config_set csvrow decimal chart bybit"
	@echo "make deb        the Debian package ./candlewatch_VERSION_ARCH.deb (deploy/debian/mkdeb)"
	@echo "make deps       apt-get install what is missing (sudo when not root)"

# Installs only what is missing; prints nothing and does nothing otherwise.
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BIN): $(OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

# The spec runner's Lua half is compiled into the binary, as bytes.
$(BUILD)/gen/spec_lua.c: core/lua/spec_runner.lua
	@mkdir -p $(dir $@)
	{ echo 'const char spec_runner_lua[] = {'; od -An -v -tu1 $< | tr -s ' \n' ',,' | sed 's/^,//'; echo '0};'; } > $@

$(BUILD)/gen/spec_lua.o: $(BUILD)/gen/spec_lua.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/unit/%: tests/unit/%.c tests/unit/tap.h $(LIBOBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -Itests/unit -o $@ $< $(LIBOBJ) $(PKG_LIBS) $(LDLIBS)

# The stand-in exchange: its own program, sharing no code with the bot.
$(BUILD)/tests/fakes/fake_binance: tests/fakes/fake_binance.c tests/fakes/market.c tests/fakes/market.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ tests/fakes/fake_binance.c tests/fakes/market.c $(PKG_LIBS) $(LDLIBS)

$(BUILD)/tests/fakes/fake_bybit: tests/fakes/fake_bybit.c tests/fakes/market.c tests/fakes/market.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ tests/fakes/fake_bybit.c tests/fakes/market.c $(PKG_LIBS) $(LDLIBS)

# the stand-ins share tests/fakes/fakeutil.c, never code of the bot itself
FAKEUTIL := tests/fakes/fakeutil.c tests/fakes/fakeutil.h
# ... and fake_gas and fake_rates tests/fakes/fakehttp.c, their HTTP server
FAKEHTTP := tests/fakes/fakehttp.c tests/fakes/fakehttp.h $(FAKEUTIL)
FAKE_TG_SRC := tests/fakes/fake_telegram.c $(wildcard tests/fakes/tg_*.c) tests/fakes/fakeutil.c
$(BUILD)/tests/fakes/fake_telegram: $(FAKE_TG_SRC) $(wildcard tests/fakes/tg_*.h) $(FAKEUTIL)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $(FAKE_TG_SRC) $(PKG_LIBS) $(LDLIBS)

# A full or read-only disk on demand, preloaded into the bot by the fault tests.
TOOL_BIN += $(BUILD)/tests/fakes/faultfs.so
$(BUILD)/tests/fakes/faultfs.so: tests/fakes/faultfs.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -std=c11 -Wall -Wextra -Werror -shared -fPIC -o $@ $< -ldl

$(BUILD)/tests/fakes/fake_rates: tests/fakes/fake_rates.c $(FAKEHTTP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ tests/fakes/fake_rates.c tests/fakes/fakehttp.c tests/fakes/fakeutil.c $(PKG_LIBS) $(LDLIBS)

$(BUILD)/tests/fakes/fake_smtp: tests/fakes/fake_smtp.c $(FAKEUTIL)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ tests/fakes/fake_smtp.c tests/fakes/fakeutil.c $(PKG_LIBS) $(LDLIBS)

FAKE_GAS_SRC := tests/fakes/fake_gas.c $(wildcard tests/fakes/gas_*.c) tests/fakes/fakehttp.c tests/fakes/fakeutil.c
$(BUILD)/tests/fakes/fake_gas: $(FAKE_GAS_SRC) tests/fakes/gas_fake.h $(FAKEHTTP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $(FAKE_GAS_SRC) $(PKG_LIBS) $(LDLIBS)

$(BUILD)/tests/tools/%: tests/tools/%.c $(LIBOBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(LIBOBJ) $(PKG_LIBS) $(LDLIBS)

BENCH_SRC := $(sort $(wildcard tests/bench/*.c))
# The shared hand-written reference, when it is beside the project (read only).
REF_DIR ?= $(CURDIR)/../shared/bench
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/tests/bench/%)

$(BUILD)/tests/bench/%: tests/bench/%.c $(LIBOBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(LIBOBJ) $(PKG_LIBS) $(LDLIBS)

bench: deps
	@$(MAKE) --no-print-directory $(BENCH_BIN)
	@echo "machine: $$(nproc) cores, $$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	@for b in $(filter-out %/engine_ref,$(BENCH_BIN)); do echo "== $$b"; $$b || exit 1; done
	@echo "== tests/bench/reference.sh"; CW_BUILD=$(BUILD) REF_DIR="$(REF_DIR)" tests/bench/reference.sh
	@$(MAKE) --no-print-directory $(BIN) $(BUILD)/tests/fakes/fake_binance $(BUILD)/tests/fakes/fake_telegram
	@echo "== tests/bench/feed_loopback.sh"; CW_BUILD=$(BUILD) CW_BIN=./$(BIN) tests/bench/feed_loopback.sh
	@echo "== tests/bench/telegram_burst.sh"; CW_BUILD=$(BUILD) CW_BIN=./$(BIN) tests/bench/telegram_burst.sh
	@echo "== tests/bench/scale.sh"; CW_BUILD=$(BUILD) CW_BIN=./$(BIN) tests/bench/scale.sh

# The long run of the fault suite: an hour at the real feed's rate with
# thousands of users; prints the resource curves (SOAK_SECONDS, SOAK_USERS).
soak: deps
	@$(MAKE) --no-print-directory $(BIN) $(TOOL_BIN)
	CW_BUILD=$(BUILD) CW_BIN=./$(BIN) tests/soak/soak.sh

# Fuzzing needs clang and its sanitizer runtimes; installed only here.
FUZZ_SECONDS ?= 600
FUZZ_SRC := $(sort $(wildcard tests/fuzz/*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
# each target links only the pure parsing code it exercises
FUZZ_LINK_kline := core/market/candles.c core/util/interval.c core/market/kline.c core/market/kline_fast.c core/market/symbols.c
FUZZ_LINK_ws := core/net/ws.c
FUZZ_LINK_tg_answer := core/tg/answer.c
FUZZ_LINK_rest := core/market/restparse.c core/market/kline.c core/market/kline_fast.c core/market/symbols.c \
                  core/util/interval.c core/market/candles.c
FUZZ_LINK_bybit := core/market/bybit_kline.c core/market/bybit_rest.c core/market/restparse.c \
                   core/market/kline.c core/market/kline_fast.c core/market/symbols.c \
                   core/util/interval.c core/market/candles.c
FUZZ_LINK_tg_update := core/tg/update.c core/http/intake.c
FUZZ_LINK_config_set := core/config/config.c core/util/interval.c core/util/log.c \
                        core/util/jsonw.c
FUZZ_LINK_config_lua := core/lua/lconfig.c $(FUZZ_LINK_config_set)
FUZZ_LINK_csvrow := core/replay/csvrow.c core/util/interval.c
FUZZ_LINK_decimal := core/util/dec.c core/util/dec_text.c
FUZZ_LINK_chart := core/chart/chart.c core/chart/draw.c core/chart/axis.c core/chart/png.c

# rebuilt when the code it links (or a shared check in tests/fuzz/) changes
$(foreach t,$(FUZZ_BIN),$(eval $(t): $(FUZZ_LINK_$(notdir $(t))) $(wildcard tests/fuzz/*.h)))

build-fuzz/%: tests/fuzz/%.c
	@mkdir -p build-fuzz
	clang -std=c11 -D_GNU_SOURCE -g -O1 -Icore $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=undefined -o $@ $< $(FUZZ_LINK_$*) $(PKG_LIBS) -lm

fuzz:
	@$(MAKE) --no-print-directory DEB_PKGS="clang libclang-rt-14-dev" deps
	@$(MAKE) --no-print-directory $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p build-fuzz/corpus-$$n; \
	  echo "== $$n: $(FUZZ_SECONDS) s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=1 \
	    build-fuzz/corpus-$$n tests/fuzz/corpus/$$n > build-fuzz/$$n.log 2>&1; rc=$$?; \
	  grep -E 'stat::number_of_executed_units|ERROR|SUMMARY|^Done' build-fuzz/$$n.log; \
	  [ $$rc -eq 0 ] || { echo "$$n: the fuzzer found a problem (see build-fuzz/$$n.log)"; exit 1; }; \
	done

# Without BOT_TOKEN: a local demo, the console with real recorded klines
# replayed at 120x (a day in 12 minutes).  With it: the real bot.
DEMO_KLINES := tests/fixtures/klines/um_BTCUSDT-1m-2022-09-05.csv tests/fixtures/klines/spot_ETHUSDT-1m-2022-08-14.csv
run: deps
	@$(MAKE) --no-print-directory $(BIN)
	@if [ -n "$$BOT_TOKEN" ]; then ./$(BIN) run --config config.lua; \
	 else ./$(BIN) console --config config.lua --replay $(DEMO_KLINES) --speed 120; fi

# The Debian package, staged in $(BUILD)/deb/root: see docs/operations.md.
deb: deps
	@$(MAKE) --no-print-directory $(BIN)
	deploy/debian/mkdeb ./$(BIN) $(BUILD)/deb .

test: deps
	@$(MAKE) --no-print-directory $(BIN) $(UNIT_BIN) $(TOOL_BIN)
	CW_BUILD=$(BUILD) CW_BIN=./$(BIN) $(PROVE) $(TESTS)

asan: deps
	@$(MAKE) --no-print-directory $(ASAN_VARS) build-asan/candlewatch

test-asan: deps
	@$(MAKE) --no-print-directory $(ASAN_VARS) build-asan/candlewatch \
	  $(UNIT_BIN:build/%=build-asan/%) $(TOOL_BIN:build/%=build-asan/%)
	ASAN_OPTIONS=detect_leaks=1 CW_BUILD=build-asan CW_BIN=build-asan/candlewatch $(PROVE) $(TESTS)

clean:
	rm -rf build build-asan build-fuzz $(BIN)

-include $(OBJ:.o=.d) $(UNIT_BIN:%=%.d)
