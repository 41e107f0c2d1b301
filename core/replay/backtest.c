#include "replay/backtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alert/engine.h"
#include "app.h"
#include "lua/host.h"
#include "market/interval.h"
#include "replay/replay.h"
#include "store/store.h"

static void print_alert(void *ud, int64_t chat, const struct alert_view *v, const char *text)
{
    (void)ud;
    (void)text;
    time_t t = (time_t)(v->candle->open_time / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%MZ", &tm);
    printf("%s %s %s %+.2f%% chat %lld:", when, v->symbol, interval_name(v->candle->interval),
           v->move, (long long)chat);
    for (int i = 0; i < v->npresets; i++)
        printf("%s %s", i ? "," : "", v->presets[i]);
    printf("\n");
}

static void replay_done(void *ud)
{
    struct app *a = ud;
    alert_drain(a->alerts);
    uv_stop(&a->loop);
}

/* "key=value key=value" into a preset for user 1; 0 or -1 with err. */
static int parse_preset(struct app *a, const char *spec, struct preset *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof p[0]);
    p->user_id = p->chat_id = 1;
    snprintf(p->name, sizeof p->name, "backtest");
    snprintf(p->rule, sizeof p->rule, "move");
    p->pairs = PAIRS_TOP;
    p->top_n = 100;
    p->intervals = a->cfg.exchange.intervals;
    p->active = 1;
    static char names[64][24];
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *save = NULL, *kv = strtok_r(buf, " ", &save); kv; kv = strtok_r(NULL, " ", &save)) {
        char *v = strchr(kv, '=');
        if (!v) {
            snprintf(err, errlen, "--preset: \"%s\" is not key=value", kv);
            return -1;
        }
        *v++ = '\0';
        if (!strcmp(kv, "pairs")) {
            if (!strncmp(v, "top:", 4)) {
                p->pairs = PAIRS_TOP;
                p->top_n = atoi(v + 4);
            } else {
                p->pairs = PAIRS_MANUAL;
                p->symbols = names;
                for (char *s2 = NULL, *s = strtok_r(v, ",", &s2); s && p->nsymbols < 64;
                     s = strtok_r(NULL, ",", &s2))
                    snprintf(names[p->nsymbols++], sizeof names[0], "%s", s);
            }
        } else if (!strcmp(kv, "intervals")) {
            p->intervals = 0;
            for (char *s2 = NULL, *s = strtok_r(v, ",", &s2); s; s = strtok_r(NULL, ",", &s2)) {
                int iv = interval_parse(s, strlen(s));
                p->intervals |= iv >= 0 ? 1 << iv : 1 << IV_COUNT;
            }
        } else if (!strcmp(kv, "threshold")) {
            p->threshold = atof(v);
        } else if (!strcmp(kv, "direction")) {
            p->dir = !strcmp(v, "up") ? DIR_UP : !strcmp(v, "down") ? DIR_DOWN : DIR_BOTH;
        } else if (!strcmp(kv, "trigger")) {
            p->on_close = !strcmp(v, "close");
        } else if (!strcmp(kv, "name")) {
            snprintf(p->name, sizeof p->name, "%s", v);
        } else {
            snprintf(err, errlen, "--preset: unknown key \"%s\" (pairs, intervals, threshold, "
                     "direction, trigger, name)", kv);
            return -1;
        }
    }
    return 0;
}

int backtest_run(struct app *a, char **files, int nfiles, double speed, const char *preset)
{
    char err[1024], dir[] = "/tmp/cw-backtest-XXXXXX", db[64];
    int tmp = preset != NULL;
    /* offline: nothing may reach the exchange or Telegram */
    a->cfg.exchange.enabled = 0;
    free(a->cfg.telegram.token);
    a->cfg.telegram.token = NULL;
    if (tmp) {
        if (!mkdtemp(dir))
            return 1;
        snprintf(db, sizeof db, "%s/backtest.db", dir);
        free(a->cfg.database);
        a->cfg.database = strdup(db);
    }
    int rc = 1;
    struct replay *r = NULL;
    if (app_init(a, 0) != 0 || app_open_store(a) != 0 || !(a->lua = lh_new(a, LH_RUN)))
        goto out;
    if (lh_reload(a->lua, "start") != 0) {
        fprintf(stderr, "candlewatch replay: the scripts in %s do not load (see the log)\n",
                a->cfg.scripts);
        goto out;
    }
    alert_set_sink(a->alerts, print_alert, NULL);
    /* the files first: a preset's pairs are checked against them */
    r = replay_start(a, files, nfiles, speed, replay_done, a, err, sizeof err);
    if (!r) {
        fprintf(stderr, "candlewatch replay: %s\n", err);
        rc = 2;
        goto out;
    }
    if (tmp) {
        struct preset p;
        if (parse_preset(a, preset, &p, err, sizeof err) != 0 ||
            alert_preset_save(a->alerts, &p, err, sizeof err) != 0) {
            fprintf(stderr, "candlewatch replay: %s\n", err);
            rc = 2;
            goto out;
        }
    }
    uv_run(&a->loop, UV_RUN_DEFAULT);
    fflush(stdout);
    struct alert_stats st;
    alert_stats(a->alerts, &st);
    fprintf(stderr, "replayed %zu klines: %llu candle events, %llu rule values, %llu matches, %llu late, %llu alerts\n",
            replay_fed(r), (unsigned long long)st.events, (unsigned long long)st.evaluated, (unsigned long long)st.matched, (unsigned long long)st.late,
            (unsigned long long)st.fired);
    rc = 0;
out:
    replay_free(r);
    app_destroy(a);
    if (tmp) {
        store_remove_files(db);
        rmdir(dir);
    }
    return rc;
}
