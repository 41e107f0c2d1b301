#include "replay/backtest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alert/engine.h"
#include "app.h"
#include "lua/host.h"
#include "util/interval.h"
#include "replay/replay.h"
#include "store/store.h"

/* A digest (after a pause or quiet hours), on one line: the count and
 * the lines of its text after the heading. */
static void print_digest(int64_t chat, const struct alert_msg *m)
{
    printf("digest chat %lld: %ld held", (long long)chat, m->held);
    const char *s = strchr(m->text, '\n');
    for (int first = 1; s; first = 0) {
        const char *end = strchr(s + 1, '\n');
        int len = end ? (int)(end - s - 1) : (int)strlen(s + 1);
        printf("%s %.*s", first ? ":" : ",", len, s + 1);
        s = end;
    }
    printf("\n");
}

/* The engine's sink in a backtest: every message, one a line. */
static void print_alert(void *ud, int64_t chat, const struct alert_msg *m)
{
    (void)ud;
    if (m->kind == ALERT_DIGEST) {
        print_digest(chat, m);
        return;
    }
    const struct alert_view *v = m->view;
    const struct alert_rule_def *r = v->rule;
    time_t t = (time_t)(v->candle->open_time / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%MZ", &tm);
    if (!r || !strcmp(r->name, "move")) {
        printf("%s %s %s %+.2f%% chat %lld:", when, v->symbol,
               interval_name(v->candle->interval), v->move, (long long)chat);
    } else {   /* the value in the rule's unit, the rule, and the level it met */
        int u = r->unit[0] && strcmp(r->unit, "%");
        printf("%s %s %s %.*f%s%s %s %s %.*f chat %lld:", when, v->symbol,
               interval_name(v->candle->interval), r->decimals, v->move, u ? " " : "", r->unit,
               r->name, v->up ? "up" : "down", r->decimals, v->level, (long long)chat);
    }
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

#define MAX_PAIRS 64

/* The backtest's own state: the names a --preset's manual list points to. */
struct backtest {
    char names[MAX_PAIRS][SYM_NAME_MAX + 1];
};

/* pairs=top:N (Binance futures' ranking), top:VENUE:N (that venue's:
 * top:spot:5, any case, as the store's "top:spot") or pairs=BTCUSDT,ETHUSDT */
static int preset_pairs(struct preset *p, char *v, char (*names)[SYM_NAME_MAX + 1], char *err, size_t errlen)
{
    if (!strncmp(v, "top:", 4)) {
        char *end, *num = v + 4, *colon = strchr(num, ':');
        p->venue = VENUE_USDM;
        if (colon) {
            p->venue = venue_parse(num, (size_t)(colon - num));
            if (p->venue < 0) {
                snprintf(err, errlen, "--preset: pairs=%s: \"%.*s\" is no venue: use top:N "
                         "(Binance futures), top:spot:N or top:bybit:N", v, (int)(colon - num), num);
                return -1;
            }
            num = colon + 1;
        }
        long n = strtol(num, &end, 10);
        if (end == num || *end || n < 1 || n > 1000) {
            snprintf(err, errlen, "--preset: pairs=%s: N in top:N is a whole number from 1 to "
                     "1000, like top:100", v);
            return -1;
        }
        p->pairs = PAIRS_TOP;
        p->top_n = (int)n;
        return 0;
    }
    p->pairs = PAIRS_MANUAL;
    p->symbols = names;
    p->nsymbols = 0;
    for (char *s2 = NULL, *s = strtok_r(v, ",", &s2); s; s = strtok_r(NULL, ",", &s2)) {
        if (p->nsymbols == MAX_PAIRS || strlen(s) >= sizeof names[0]) {
            snprintf(err, errlen, "--preset: pairs: %s", p->nsymbols == MAX_PAIRS ?
                     "more than 64 pairs" : "a pair's name is too long");
            return -1;
        }
        snprintf(names[p->nsymbols++], sizeof names[0], "%s", s);
    }
    return 0;
}

/* The config's intervals, "1m,5m,1h", into buf. */
static const char *watched(const struct app *a, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int iv = 0; iv < IV_COUNT && n < len; iv++)
        if (a->cfg.exchange.intervals & 1 << iv)
            n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "", interval_name(iv));
    return buf;
}

/* intervals=1m,5m: known timeframes that the config's exchange.intervals has */
static int preset_intervals(const struct app *a, struct preset *p, char *v, char *err,
                            size_t errlen)
{
    char have[128];
    p->intervals = 0;
    for (char *s2 = NULL, *s = strtok_r(v, ",", &s2); s; s = strtok_r(NULL, ",", &s2)) {
        int iv = interval_parse(s, strlen(s));
        if (iv < 0) {
            snprintf(err, errlen, "--preset: intervals: \"%s\" is not a timeframe (1m 3m 5m "
                     "15m 30m 1h 2h 4h 6h 8h 12h 1d)", s);
            return -1;
        }
        if (!(a->cfg.exchange.intervals & 1 << iv)) {
            snprintf(err, errlen, "--preset: intervals: %s is not in the config's "
                     "exchange.intervals (%s): add it there, or choose among those", s,
                     watched(a, have, sizeof have));
            return -1;
        }
        p->intervals |= 1 << iv;
    }
    return 0;
}

/* One key=value (v non-empty) into p; 0, or -1 with err. */
static int preset_key(struct app *a, struct preset *p, const char *k, char *v,
                      char (*names)[SYM_NAME_MAX + 1], char *err, size_t errlen)
{
    char *end;
    if (!strcmp(k, "pairs"))
        return preset_pairs(p, v, names, err, errlen);
    if (!strcmp(k, "intervals"))
        return preset_intervals(a, p, v, err, errlen);
    if (!strcmp(k, "threshold")) {
        p->threshold = strtod(v, &end);
        if (*end || !isfinite(p->threshold))
            snprintf(err, errlen, "--preset: threshold=%s is not a number (like threshold=0.5)",
                     v);
        return *end || !isfinite(p->threshold) ? -1 : 0;
    }
    if (!strcmp(k, "direction")) {
        p->dir = !strcmp(v, "both") ? DIR_BOTH : !strcmp(v, "up") ? DIR_UP
               : !strcmp(v, "down") ? DIR_DOWN : -1;
        if (p->dir < 0)
            snprintf(err, errlen, "--preset: direction=%s: use both, up or down", v);
        return p->dir < 0 ? -1 : 0;
    }
    if (!strcmp(k, "trigger")) {
        p->on_close = !strcmp(v, "close") ? 1 : !strcmp(v, "forming") ? 0 : -1;
        if (p->on_close < 0)
            snprintf(err, errlen, "--preset: trigger=%s: use forming or close", v);
        return p->on_close < 0 ? -1 : 0;
    }
    if (!strcmp(k, "rule")) {
        if (strlen(v) >= sizeof p->rule)
            snprintf(err, errlen, "--preset: rule=%s: no rule has so long a name", v);
        snprintf(p->rule, sizeof p->rule, "%s", v);
        return strlen(v) >= sizeof p->rule ? -1 : 0;
    }
    if (!strcmp(k, "name")) {
        if (strlen(v) >= sizeof p->name)
            snprintf(err, errlen, "--preset: name is too long");
        snprintf(p->name, sizeof p->name, "%s", v);
        return strlen(v) >= sizeof p->name ? -1 : 0;
    }
    return 1;   /* (maybe a setting of the rule: preset_rule says) */
}

/* key=value pairs the preset's rule may take as settings. */
struct settings {
    char key[RULE_PARAMS_MAX + 1][RULE_PARAM_NAME_MAX + 1];
    double v[RULE_PARAMS_MAX + 1];
    int n;
};

/* The settings given, by the rule's names (its defaults for the others). */
static int preset_settings(const struct alert_rule_def *r, const struct settings *st,
                           struct preset *p, char *err, size_t errlen)
{
    for (int i = 0; i < r->nparams; i++)
        p->params[i] = r->params[i].dflt;
    p->nparams = r->nparams;
    for (int k = 0; k < st->n; k++) {
        int at = -1;
        for (int i = 0; i < r->nparams; i++)
            if (!strcmp(r->params[i].name, st->key[k]))
                at = i;
        if (at < 0) {
            int n = snprintf(err, errlen, "--preset: unknown key \"%s\" (rule, pairs, intervals, "
                             "threshold, direction, trigger, name", st->key[k]);
            for (int i = 0; i < r->nparams && n > 0 && (size_t)n < errlen; i++)
                n += snprintf(err + n, errlen - (size_t)n, ", %s", r->params[i].name);
            if (n > 0 && (size_t)n < errlen)
                snprintf(err + n, errlen - (size_t)n, ")");
            return -1;
        }
        p->params[at] = st->v[k];
    }
    return 0;
}

enum { GIVEN_THRESHOLD = 1, GIVEN_DIRECTION = 2, GIVEN_TRIGGER = 4 };

/* The live rules' names, "move, rsi", into buf. */
static const char *live_rules(struct alert_engine *e, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int slot = 0; slot < ALERT_MAX_SLOTS && n < len; slot++) {
        const struct alert_rule_def *r = alert_rule_get(e, slot);
        if (r && !strchr(alert_rule_name(e, slot), ':'))
            n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", r->name);
    }
    return n ? buf : "none";
}

/* The preset's rule must be live; a direction or trigger not given is
 * the rule's only one; the threshold is asked for in the rule's words;
 * other keys are its settings. */
static int preset_rule(struct app *a, struct preset *p, int given, const struct settings *st,
                       char *err, size_t errlen)
{
    char names[512];
    const struct alert_rule_def *r = alert_rule_get(a->alerts, alert_rule_find(a->alerts, p->rule));
    if (!r) {
        snprintf(err, errlen, "--preset: rule=%s: there is no such rule in %s; the live rules "
                 "are: %s", p->rule, a->cfg.scripts, live_rules(a->alerts, names, sizeof names));
        return -1;
    }
    int dirs = r->dirs & (1 << DIR_UP | 1 << DIR_DOWN);
    if (!(given & GIVEN_DIRECTION) && !(r->dirs & 1 << DIR_BOTH))
        p->dir = dirs == 1 << DIR_UP ? DIR_UP : dirs == 1 << DIR_DOWN ? DIR_DOWN : -1;
    if (!(given & GIVEN_TRIGGER) && !r->on_forming)
        p->on_close = 1;
    if (p->dir < 0) {
        snprintf(err, errlen, "--preset: rule=%s goes up or down: add direction=up or "
                 "direction=down", r->name);
        return -1;
    }
    if (!(given & GIVEN_THRESHOLD)) {
        snprintf(err, errlen, "--preset: give a threshold for %s (%s): from %g to %g%s%s, like "
                 "\"threshold=%g\"", r->name, r->label, r->min, r->max, r->unit[0] ? " " : "",
                 r->unit, r->dflt);
        return -1;
    }
    return preset_settings(r, st, p, err, errlen);
}

/* "key=value key=value" into a preset for user 1; 0 or -1 with err. */
static int parse_preset(struct app *a, struct backtest *bt, const char *spec, struct preset *p,
                        char *err, size_t errlen)
{
    memset(p, 0, sizeof p[0]);
    p->user_id = p->chat_id = 1;
    snprintf(p->name, sizeof p->name, "backtest");
    snprintf(p->rule, sizeof p->rule, "move");
    p->pairs = PAIRS_TOP;
    p->top_n = 100;
    p->intervals = a->cfg.exchange.intervals;
    p->active = 1;
    char buf[1024];
    if (strlen(spec) >= sizeof buf) {
        snprintf(err, errlen, "--preset: longer than %zu characters", sizeof buf - 1);
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", spec);
    int given = 0;   /* GIVEN_* */
    struct settings st = {.n = 0};
    for (char *save = NULL, *kv = strtok_r(buf, " ", &save); kv; kv = strtok_r(NULL, " ", &save)) {
        char *v = strchr(kv, '=');
        if (!v || v == kv || !v[1]) {
            snprintf(err, errlen, !v ? "--preset: \"%s\" is not key=value" : v == kv ?
                     "--preset: \"%s\" has no key" : "--preset: \"%s\" has no value", kv);
            return -1;
        }
        *v++ = '\0';
        given |= !strcmp(kv, "threshold") ? GIVEN_THRESHOLD : !strcmp(kv, "direction")
                 ? GIVEN_DIRECTION : !strcmp(kv, "trigger") ? GIVEN_TRIGGER : 0;
        int rc = preset_key(a, p, kv, v, bt->names, err, errlen);
        if (rc < 0)
            return -1;
        char *end;
        if (rc > 0 && st.n <= RULE_PARAMS_MAX && strlen(kv) <= RULE_PARAM_NAME_MAX) {
            snprintf(st.key[st.n], sizeof st.key[0], "%s", kv);
            st.v[st.n] = strtod(v, &end);
            if (*end || !isfinite(st.v[st.n])) {
                snprintf(err, errlen, "--preset: %s=%s is not a number", kv, v);
                return -1;
            }
            st.n++;
        } else if (rc > 0) {
            snprintf(err, errlen, "--preset: unknown key \"%s\"", kv);
            return -1;
        }
    }
    return preset_rule(a, p, given, &st, err, errlen);
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
        if ((rc = lh_sections_verdict(a->lua)) != 0)
            goto out;
        rc = 1;
        fprintf(stderr, "candlewatch replay: the scripts in %s do not load (see the log)\n",
                a->cfg.scripts);
        goto out;
    }
    alert_set_sink(a->alerts, &(struct alert_sink){print_alert, NULL});
    /* the files first: a preset's pairs are checked against them */
    r = replay_start(a, files, nfiles, speed, replay_done, a, err, sizeof err);
    if (!r) {
        fprintf(stderr, "candlewatch replay: %s\n", err);
        rc = 2;
        goto out;
    }
    if (tmp) {
        struct preset p;
        struct backtest bt;
        int bad = parse_preset(a, &bt, preset, &p, err, sizeof err) != 0;
        if (bad || alert_preset_save(a->alerts, &p, err, sizeof err) != 0) {
            fprintf(stderr, "candlewatch replay: %s%s\n", bad ? "" : "--preset: ", err);
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
