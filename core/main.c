/* candlewatch: the command line.  Exit status: 0 ok, 1 runtime failure,
 * 2 usage or configuration error. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "chart/chart.h"
#include "lua/host.h"
#include "console/console.h"
#include "replay/backtest.h"
#include "store/store.h"
#include "util/grow.h"


static void usage(FILE *out)
{
    fprintf(out,
            "candlewatch " CW_VERSION " - a Telegram bot that watches crypto candles\n"
            "\n"
            "usage: candlewatch COMMAND [--config FILE] [ARGS]\n"
            "\n"
            "commands:\n"
            "  run               run the bot with the config (default ./config.lua)\n"
            "  check             validate the config and compile every script;\n"
            "                    prints each problem as file:line: message\n"
            "  spec [PATH...]    run Lua specs inside the host (TAP output); PATH is a\n"
            "                    spec file or a folder of *_spec.lua (default tests/spec)\n"
            "  console [--replay FILE... [--speed N|max]]\n"
            "                    chat with the bot in the terminal (no Telegram needed):\n"
            "                    lines typed are messages, a number presses a button;\n"
            "                    optionally with recorded klines replayed meanwhile\n"
            "  replay FILE... [--speed N|max] [--preset SPEC]\n"
            "                    feed recorded klines (Binance CSV, SYMBOL-1m-....csv)\n"
            "                    through the real pipeline and print the alerts that\n"
            "                    the database's presets, or SPEC, would have fired;\n"
            "                    SPEC: \"[rule=NAME] pairs=BTCUSDT,ETHUSDT|top:N intervals=1m,5m\n"
            "                    threshold=0.5 direction=both|up|down trigger=forming|close\"\n"
            "                    (top:N: Binance futures' ranking; top:spot:N, top:bybit:N\n"
            "                    that venue's)\n"
            "  --help            this text\n"
            "  --version         the version\n"
            "\n"
            "config keys (config.lua returns a table; dotted keys are nested tables):\n");
    config_describe(out);
    fprintf(out, "\n"
                 "exit status: 0 ok, 1 runtime failure or failed specs/checks,\n"
                 "2 usage or configuration error\n"
                 "signals: SIGINT/SIGTERM stop gracefully, SIGHUP reloads the scripts\n");
}

struct files {
    char **v;
    int n;
    size_t cap;
};

/* (out of memory while listing the spec files: nothing was run yet, so
 * the command stops there, a runtime failure) */
static void files_add(struct files *f, const char *path)
{
    char **v = grow_from(f->v, &f->cap, (size_t)f->n + 1, sizeof *v, 16);
    if (v)
        f->v = v;
    if (!v || !(f->v[f->n] = strdup(path))) {
        fprintf(stderr, "candlewatch spec: out of memory\n");
        exit(1);
    }
    f->n++;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void collect_specs(const char *path, struct files *out)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return;
    if (!S_ISDIR(st.st_mode)) {
        files_add(out, path);
        return;
    }
    DIR *d = opendir(path);
    struct dirent *de;
    int first = out->n;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
        struct stat s2;
        if (stat(sub, &s2) == 0 && S_ISDIR(s2.st_mode))
            collect_specs(sub, out);
        else if (ends_with(de->d_name, "_spec.lua"))
            files_add(out, sub);
    }
    if (d)
        closedir(d);
    if (out->n - first > 1)
        qsort(out->v + first, (size_t)(out->n - first), sizeof *out->v, cmp_str);
}

/* Loads the config into a, with logging set from it.  0 or exits 2. */
static int load_config(struct app *a, const char *path, int required)
{
    char err[2048];
    config_defaults(&a->cfg);
    log_init(&a->log);
    if (!path && !required)
        return 0;
    if (!path)
        path = "./config.lua";
    a->config_path = path;
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "candlewatch: config file %s not found (use --config FILE)\n", path);
        exit(2);
    }
    if (lh_config_load(path, &a->cfg, err, sizeof err) != 0 ||
        config_check(&a->cfg, err, sizeof err) != 0) {
        fprintf(stderr, "candlewatch: %s\n", err);
        exit(2);
    }
    a->log.level = a->cfg.log.level;
    a->log.json = a->cfg.log.json;
    log_add_secret(&a->log, a->cfg.telegram.token);
    log_add_secret(&a->log, a->cfg.email.password);
    return 0;
}

static int cmd_run(const char *config)
{
    struct app a;
    memset(&a, 0, sizeof a);
    load_config(&a, config, 1);
    if (app_init(&a, 0) != 0) {
        fprintf(stderr, "candlewatch: cannot initialise the event loop\n");
        return 1;
    }
    int rc = 1;
    if (app_open_store(&a) == 0)
        rc = app_run(&a);
    app_destroy(&a);
    return rc;
}

static int cmd_check(const char *config)
{
    struct app a;
    memset(&a, 0, sizeof a);
    load_config(&a, config, 1);
    a.log.level = LOG_WARN;
    if (app_init(&a, 1) != 0)
        return 1;
    a.lua = lh_new(&a, LH_CHECK);
    int problems = a.lua ? lh_check(a.lua, stdout) : 1;
    int verdict = a.lua ? lh_sections_verdict(a.lua) : 0;   /* 2: config.lua's sections */
    if (problems == 0)
        printf("%s: ok; scripts in %s: ok\n", a.config_path, a.cfg.scripts);
    app_destroy(&a);
    return verdict ? verdict : problems ? 1 : 0;
}

/* One spec file in a fresh host with its own temporary database. */
static int spec_one(const char *config, const char *file, int *number, int *failed)
{
    struct app a;
    memset(&a, 0, sizeof a);
    load_config(&a, config, 0);
    a.log.out = getenv("CW_SPEC_LOG") ? stderr : NULL;
    a.log.level = LOG_DEBUG;
    char dir[] = "/tmp/cw-specdb-XXXXXX", db[64];
    if (!mkdtemp(dir) || app_init(&a, 1) != 0) {
        printf("Bail out! cannot set up a host for %s\n", file);
        return -1;
    }
    snprintf(db, sizeof db, "%s/spec.db", dir);
    free(a.cfg.database);
    a.cfg.database = strdup(db);
    int rc = -1;
    if (app_open_store(&a) == 0 && app_diag_quiet(&a) == 0 && (a.lua = lh_new(&a, LH_SPEC))) {
        lh_reload(a.lua, "spec start");
        rc = lh_spec_file(a.lua, file, number, failed);
    }
    app_destroy(&a);
    store_remove_files(db);
    rmdir(dir);
    return rc;
}

/* --speed's value: a positive number, or max (0); 0 or -1 after a message. */
static int replay_speed(const char *cmd, const char *v, double *speed)
{
    char *end;
    *speed = strcmp(v, "max") ? strtod(v, &end) : 0;
    if (strcmp(v, "max") && (*end || !(*speed > 0) || !isfinite(*speed))) {
        fprintf(stderr, "candlewatch %s: --speed %s: give a positive number (times real speed, "
                "like --speed 60) or max\n", cmd, v);
        return -1;
    }
    return 0;
}

/* Splits replay arguments: files, --speed, --preset (NULL: not allowed).
 * The number of files (moved to the front of args), or -1 after a message. */
static int replay_args(const char *cmd, char **args, int nargs, double *speed,
                       const char **preset)
{
    int nfiles = 0;
    for (int i = 0; i < nargs; i++) {
        int takes = !strcmp(args[i], "--speed") || !strcmp(args[i], "--preset");
        if (takes && i + 1 == nargs) {
            fprintf(stderr, "candlewatch %s: %s needs a value, like %s\n", cmd, args[i],
                    args[i][2] == 's' ? "--speed 60 or --speed max"
                                      : "--preset \"pairs=BTCUSDT threshold=0.5\"");
            return -1;
        }
        if (!strcmp(args[i], "--speed")) {
            if (replay_speed(cmd, args[++i], speed) != 0)
                return -1;
        } else if (!strcmp(args[i], "--preset")) {
            if (!preset) {
                fprintf(stderr, "candlewatch %s: --preset is for candlewatch replay; here, make "
                        "a preset with /preset\n", cmd);
                return -1;
            }
            *preset = args[++i];
        } else if (!strcmp(args[i], "--replay")) {
            continue;   /* console: the files follow */
        } else if (args[i][0] == '-') {
            fprintf(stderr, "candlewatch %s: unknown option %s (try --help)\n", cmd, args[i]);
            return -1;
        } else {
            args[nfiles++] = args[i];
        }
    }
    return nfiles;
}

/* replay FILE... [--speed N|max] [--preset SPEC] */
static int cmd_replay(const char *config, char **args, int nargs)
{
    double speed = 0;
    const char *preset = NULL;
    int nfiles = replay_args("replay", args, nargs, &speed, &preset);
    if (nfiles < 0)
        return 2;
    if (!nfiles) {
        fprintf(stderr, "candlewatch replay: name one or more kline files (try --help)\n");
        return 2;
    }
    struct app a;
    memset(&a, 0, sizeof a);
    load_config(&a, config, 0);
    return backtest_run(&a, args, nfiles, speed, preset);
}

/* console [--replay FILE... [--speed N|max]] */
static int cmd_console(const char *config, char **args, int nargs)
{
    double speed = 0;
    int nfiles = replay_args("console", args, nargs, &speed, NULL);
    if (nfiles < 0)
        return 2;
    struct app a;
    memset(&a, 0, sizeof a);
    load_config(&a, config, 0);
    return console_run(&a, args, nfiles, speed);
}

static int cmd_spec(const char *config, char **paths, int npaths)
{
    struct files files = {0};
    if (npaths == 0)
        collect_specs("tests/spec", &files);
    for (int i = 0; i < npaths; i++) {
        if (access(paths[i], R_OK) != 0) {
            fprintf(stderr, "candlewatch spec: %s not found\n", paths[i]);
            return 2;
        }
        collect_specs(paths[i], &files);
    }
    if (files.n == 0) {
        fprintf(stderr, "candlewatch spec: no spec files found\n");
        return 2;
    }
    int number = 0, failed = 0, broken = 0;
    for (int i = 0; i < files.n; i++) {
        printf("# %s\n", files.v[i]);
        fflush(stdout);
        if (spec_one(config, files.v[i], &number, &failed) != 0)
            broken = 1;
        free(files.v[i]);
    }
    free(files.v);
    printf("1..%d\n", number);
    return failed || broken ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("candlewatch %s\n", CW_VERSION);
        return 0;
    }
    const char *config = NULL;
    char **rest = argv + 2;   /* positional arguments, compacted in place */
    int nrest = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--config")) {
            if (i + 1 == argc) {
                fprintf(stderr, "candlewatch: --config needs a file\n");
                return 2;
            }
            config = argv[++i];
        } else if (!strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else {
            rest[nrest++] = argv[i];
        }
    }
    int rc;
    if (!strcmp(cmd, "spec")) {
        rc = cmd_spec(config, rest, nrest);
    } else if (!strcmp(cmd, "replay")) {
        rc = cmd_replay(config, rest, nrest);
    } else if (!strcmp(cmd, "console")) {
        rc = cmd_console(config, rest, nrest);
    } else if (nrest > 0) {
        fprintf(stderr, "candlewatch %s: unexpected argument '%s'\n", cmd, rest[0]);
        rc = 2;
    } else if (!strcmp(cmd, "run")) {
        rc = cmd_run(config);
    } else if (!strcmp(cmd, "check")) {
        rc = cmd_check(config);
    } else {
        fprintf(stderr, "candlewatch: unknown command '%s' (try --help)\n", cmd);
        rc = 2;
    }
    chart_release();   /* the fonts' caches, for leak checkers */
    return rc;
}
