/* config.lua evaluated from memory (lh_config_load_buffer) and from a file
 * (lh_config_load, which reads it and hands it over): settings taken, and
 * every way it can fail ends in a message that says where. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lua/host.h"
#include "tap.h"

static struct config cfg;
static char err[1024];

static int load(const char *text)
{
    config_free(&cfg);
    config_defaults(&cfg);
    err[0] = '\0';
    return lh_config_load_buffer(text, strlen(text), "conf.lua", &cfg, err, sizeof err);
}

int main(void)
{
    unsetenv("BOT_TOKEN");
    unsetenv("WEBHOOK_SECRET");
    setenv("CW_TEST_PORT", "9099", 1);
    config_defaults(&cfg);

    is_int(load("return { database = 'x.db', http = { listen = '127.0.0.1:' .. "
                "os.getenv('CW_TEST_PORT') }, admins = { 1, -2 },\n"
                "  exchange = { intervals = { '1m', '1h' } }, log = { level = 'warn' } }"),
           0, "a config is loaded from memory");
    ok(!strcmp(cfg.database, "x.db") && !strcmp(cfg.http.listen, "127.0.0.1:9099") &&
           cfg.nadmins == 2 && cfg.admins[1] == -2 && cfg.log.level == LOG_WARN &&
           cfg.exchange.intervals == (1 << 0 | 1 << 5),
       "its settings are taken, os.getenv included");
    is_int(load("return {}"), 0, "an empty table keeps the defaults");
    is_str(cfg.scripts, "./scripts", "a default");

    is_int(load("return { database = "), -1, "a syntax error is refused");
    ok(!strncmp(err, "conf.lua:1:", 11), "naming chunk and line: %s", err);
    is_int(load("return { telegram = { tokne = 'x' } }"), -1, "an unknown key is refused");
    ok(strstr(err, "conf.lua: unknown key 'telegram.tokne'") != NULL, "by name: %s", err);
    /* a top-level table that is not the core's: a script's section, kept
     * as JSON for host.config to check; anything else stays an error */
    is_int(load("return { gas = { interval = 30, key = 'k', sources = { 'rpc' }, on = true } }"), 0,
           "a top-level table that is not the core's is kept: %s", err);
    ok(cfg.nsections == 1 && config_section(&cfg, "gas") != NULL, "as a section");
    const char *js = config_section(&cfg, "gas");
    ok(js && strstr(js, "\"interval\":30") && strstr(js, "\"sources\":[\"rpc\"]") &&
           strstr(js, "\"on\":true"), "its values in JSON: %s", js ? js : "(none)");
    is_int(load("return { gas = 30 }"), -1, "a top-level value that is not a table is refused");
    ok(strstr(err, "unknown key 'gas'") != NULL, "as an unknown key: %s", err);
    is_int(load("return { gas = { f = tostring } }"), -1, "a value a section cannot hold is refused");
    ok(strstr(err, "key 'gas.f' must be a boolean, number, string or list of them, got function"),
       "naming the key: %s", err);
    is_int(load("return { gas = { t = { a = 1 } } }"), -1, "so is a table that is not a list");
    is_int(load("return { gas = { [1] = 2 } }"), -1, "and a section whose keys are not names");
    ok(strstr(err, "gas keys must be names") != NULL, "%s", err);
    is_int(load("return 42"), -1, "a number is not a config");
    ok(strstr(err, "conf.lua: must return a table of settings, returned number") != NULL, "%s",
       err);
    is_int(load("local n = 0\nwhile true do n = n + 1 end"), -1, "an endless loop is stopped");
    ok(strstr(err, "conf.lua:2: the config did not finish within") != NULL, "%s", err);
    /* few instructions, each doing much: the instruction limit alone let
     * these run for hours (the first was found by the fuzzer) */
    is_int(load("local t = {}\nfor i = 0, 1e10 do t[0] = string.rep('x', i * 1000) end"), -1,
           "a loop of ever bigger strings is stopped");
    ok(strstr(err, "conf.lua: the config did not finish within 256 MB of allocations") != NULL,
       "by what it allocates in all: %s", err);
    is_int(load("local t = {}\nfor i = 1, 1e5 do t[i] = i end\n"
                "for i = 1, 1e9 do table.sort(t) end"),
           -1, "a loop of sorts is stopped");
    ok(strstr(err, "conf.lua:3: the config did not finish within 5 s") != NULL,
       "by the clock: %s", err);
    is_int(load("local s = string.rep('a', 30000)\nreturn { database = s:find('.-b') }"), -1,
           "a pattern that would backtrack for long is refused");
    ok(strstr(err, "conf.lua:2: string.find: pattern too costly for a subject of 30000 bytes") !=
           NULL, "%s", err);
    is_int(load("local s = 'x.db'\nreturn { database = s:gsub('%.db$', '.sqlite') }"), 0,
           "a cheap pattern works (also as a method)");
    is_str(cfg.database, "x.sqlite", "with its result");
    is_int(load("return { x = io }"), -1, "io is not there");
    ok(strstr(err, "undefined global 'io'") != NULL, "%s", err);
    is_int(load("error('boom')"), -1, "error() with a message");
    is_str(err, "conf.lua:1: boom", "is that message, with where");

    /* error({}) and error() gave "(null)": "%s" of what lua_tostring
     * returns for a table or nil, NULL */
    is_int(load("error({})"), -1, "error({}) is refused");
    ok(strcmp(err, "(null)") != 0 && strstr(err, "conf.lua") && strstr(err, "table"),
       "with a message naming the chunk and the value: %s", err);
    is_int(load("local t = {}\nerror()"), -1, "error() is refused");
    ok(strstr(err, "conf.lua") && strstr(err, "nil"), "likewise: %s", err);
    load("error(42)");
    is_str(err, "42", "error(42) says 42, as before");
    load("error(2.5)");
    is_str(err, "2.5", "error(2.5) says 2.5");
    load("error(-3.0)");
    is_str(err, "-3.0", "error(-3.0) says -3.0, as tostring would");

    /* memory: a config that builds a huge string gets an error, not the
     * machine's memory */
    is_int(load("local s = string.rep('x', 1 << 28)\nreturn {}"), -1,
           "256 MB of string is refused");
    ok(strstr(err, "conf.lua: the config needs more than 64 MB of memory") != NULL, "%s", err);
    is_int(load("local t = {}\nfor i = 1, 20 do t[i] = string.rep('x', 1 << 20) end\n"
                "return { database = 'big.db' }"),
           0, "20 MB is fine");

    /* as luaL_loadfile reads a file */
    is_int(load("#!/usr/bin/env lua\nreturn { database = 5 }"), -1, "a '#' first line is skipped");
    ok(strstr(err, "key 'database'") != NULL, "the rest is read: %s", err);
    load("#!/usr/bin/env lua\n\nerror('here')");
    is_str(err, "conf.lua:3: here", "and line numbers stay true");
    is_int(load("\xEF\xBB\xBFreturn { database = 'bom.db' }"), 0, "a UTF-8 BOM is skipped");
    is_int(load("\x1bLua"), -1, "bytecode is refused");
    is_str(err, "conf.lua: precompiled bytecode is refused", "saying so");
    is_int(load("#x\n\x1bLua"), -1, "after a '#' line too");
    ok(strstr(err, "binary chunk") != NULL, "%s", err);

    /* the file loader gives what the buffer loader gives */
    char path[] = "/tmp/cw-lconfig-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fputs("#!/usr/bin/env lua\nreturn { database = 'file.db',\n  admins = 7 }\n", f);
    fclose(f);
    config_free(&cfg);
    config_defaults(&cfg);
    is_int(lh_config_load(path, &cfg, err, sizeof err), -1, "a file with a bad key");
    char want[256];
    snprintf(want, sizeof want, "%s: key 'admins' must be", path);
    ok(!strncmp(err, want, strlen(want)), "is refused naming the file: %s", err);
    f = fopen(path, "w");
    fputs("return { database = 'file.db' }", f);
    fclose(f);
    is_int(lh_config_load(path, &cfg, err, sizeof err), 0, "a good file is loaded");
    is_str(cfg.database, "file.db", "with its settings");
    unlink(path);
    is_int(lh_config_load(path, &cfg, err, sizeof err), -1, "a missing file");
    ok(strstr(err, "cannot read the config file") != NULL, "%s", err);
    config_free(&cfg);
    return done();
}
