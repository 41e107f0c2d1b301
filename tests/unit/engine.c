/* The alert engine in-process: a simulated clock, a temporary store, a
 * market with four pairs, C rules (move: the candle's move from its open;
 * lvl and crs: its close price, as a level and as a cross) and a sink that
 * records what the engine sends.  Fan-out (an event reaches exactly the
 * chats whose presets match), once per candle and rule, each mode, the
 * index visiting only what is new, top N by rank, and the digests after a
 * pause or quiet hours, all through the one sink. */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "alert/engine.h"
#include "config/config.h"
#include "loop/rt.h"
#include "util/interval.h"
#include "market/market.h"
#include "store/store.h"
#include "tap.h"
#include "tg/text.h"

#define T0 1767225600000LL   /* 2026-01-01T00:00:00Z */

static char dir[] = "/tmp/cw-unit-engine-XXXXXX";

/* ---- what the sink received ---- */

struct sent {
    int64_t chat;
    enum alert_kind kind;
    char symbol[24];
    int interval;
    int npresets;
    char presets[128];   /* the names, comma-separated */
    long held;
    char text[512];
    double level;
    int up;
    int chart;
    double chart_level;
    char chart_key[128];
};
static struct sent sent[64];
static int nsent;
static long nlive;   /* every live alert, beyond the 64 kept */
static long slow_sink_us, slow_rule_us;   /* a slow Telegram side, a slow rule */

static void record(void *ud, int64_t chat, const struct alert_msg *m)
{
    (void)ud;
    nlive += m->kind == ALERT_LIVE;
    if (slow_sink_us)
        usleep((useconds_t)slow_sink_us);
    if (nsent == 64)
        return;
    struct sent *s = &sent[nsent++];
    memset(s, 0, sizeof *s);
    s->chat = chat;
    s->kind = m->kind;
    s->held = m->held;
    snprintf(s->text, sizeof s->text, "%s", m->text);
    if (m->view) {
        snprintf(s->symbol, sizeof s->symbol, "%s", m->view->symbol);
        s->interval = m->view->candle->interval;
        s->npresets = m->view->npresets;
        s->level = m->view->level;
        s->up = m->view->up;
        s->chart = m->view->chart;
        s->chart_level = m->view->chart_level;
        alert_view_chart_key(m->view, s->chart_key, sizeof s->chart_key);
        for (int i = 0; i < m->view->npresets; i++) {
            size_t k = strlen(s->presets);
            snprintf(s->presets + k, sizeof s->presets - k, "%s%s", i ? "," : "",
                     m->view->presets[i]);
        }
    }
}

/* The chats that received a live alert since `from`, ascending, as "1 6 8". */
static const char *chats_since(int from)
{
    static char out[256];
    int64_t v[64];
    int n = 0;
    for (int i = from; i < nsent; i++)
        if (sent[i].kind == ALERT_LIVE)
            v[n++] = sent[i].chat;
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            int64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    out[0] = 0;
    for (int i = 0; i < n; i++) {
        size_t k = strlen(out);
        snprintf(out + k, sizeof out - k, "%s%lld", i ? " " : "", (long long)v[i]);
    }
    return out;
}

/* ---- the engine and what it works with ---- */

struct sim {
    uint64_t now;
    int64_t wall;
};

static uint64_t sim_now(void *c)
{
    return ((struct sim *)c)->now;
}

static int64_t sim_wall(void *c)
{
    return ((struct sim *)c)->wall;
}

struct fx {
    struct sim sim;
    struct timers ts;
    struct logger lg;
    struct rt rt;
    struct config cfg;
    struct market m;
    struct store *st;
    struct alert_engine *e;
    uint32_t ids[4];
    char db[128];
};

static const char *const pairs[4] = {"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"};

static const struct alert_rule_def test_rules[3] = {
    {.name = "move", .label = "Candle move", .unit = "%", .prompt = "", .mode = RULE_MOVE,
     .dirs = 7, .min = 0.1, .max = 100, .dflt = 2, .decimals = 2, .on_forming = 1, .on_close = 1},
    {.name = "lvl", .label = "Price level", .unit = "", .prompt = "", .mode = RULE_LEVEL,
     .dirs = 7, .min = 0, .max = 1000, .dflt = 100, .decimals = 2, .on_forming = 1, .on_close = 1},
    {.name = "crs", .label = "Price cross", .unit = "", .prompt = "", .mode = RULE_CROSS,
     .dirs = 7, .min = 0, .max = 1000, .dflt = 100, .decimals = 2, .on_forming = 1, .on_close = 1},
};

/* move: percent from the open; lvl, crs: the close price */
static double test_value(void *ud, int rule, const struct candle *c, const char *symbol, int *ok)
{
    struct alert_engine **e = ud;
    (void)symbol;
    *ok = 1;
    if (slow_rule_us)
        usleep((useconds_t)slow_rule_us);
    if (rule == alert_rule_find(*e, "move"))
        return (c->close - c->open) / c->open * 100;
    return c->close;
}

/* The engine on the fixture's store (again: as after a restart). */
static int fx_engine(struct fx *f)
{
    struct alert_deps d = {&f->rt, &f->cfg, f->st, &f->m, tg_text_chars, tg_text_invisible};
    if (!(f->e = alert_engine_new(&d)))
        return -1;
    alert_set_sink(f->e, &(struct alert_sink){record, NULL});
    alert_set_hooks(f->e, &(struct alert_hooks){test_value, NULL, NULL, &f->e});
    alert_set_rules(f->e, test_rules, 3);
    return 0;
}

static int fx_open(struct fx *f, const char *name)
{
    memset(f, 0, sizeof *f);
    f->sim = (struct sim){1000, T0};
    timers_init(&f->ts);
    log_init(&f->lg);
    f->lg.level = LOG_ERROR;
    f->rt = (struct rt){.timers = &f->ts, .log = &f->lg, .now = sim_now, .wall = sim_wall,
                        .clock = &f->sim};
    config_defaults(&f->cfg);
    f->cfg.exchange.intervals = 1 << IV_1M | 1 << IV_5M;
    char err[256];
    snprintf(f->db, sizeof f->db, "%s/%s.db", dir, name);
    if (market_init(&f->m, 10, &f->lg) != 0 || store_open(&f->st, f->db, &f->lg, err, sizeof err))
        return -1;
    double qv[4];
    for (int i = 0; i < 4; i++) {   /* ranked in this order: BTC first */
        f->ids[i] = (uint32_t)symtab_add(&f->m.syms, pairs[i], strlen(pairs[i]));
        f->m.syms.v[f->ids[i]].active = 1;
        qv[i] = 1e9 - i;
    }
    market_set_ranking(&f->m, f->ids, qv, 4);
    nsent = 0;
    return fx_engine(f);
}

static void fx_close(struct fx *f)
{
    alert_engine_free(f->e);
    store_close(f->st);
    store_remove_files(f->db);
    market_free(&f->m);
    timers_free(&f->ts);
    config_free(&f->cfg);
}

/* (a preset's spec leaves its last fields out when they are the defaults) */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
struct spec {
    int64_t chat;
    const char *name;
    const char *symbols;   /* a manual list, or NULL */
    int top_n;             /* when symbols is NULL */
    int intervals;
    double threshold;
    int dir;
    int on_close;
    const char *rule;      /* NULL: move */
    double min_volume;
    int chart;
};

static int add_preset(struct fx *f, struct spec s)
{
    char names[4][SYM_NAME_MAX + 1], err[256];
    struct preset p;
    memset(&p, 0, sizeof p);
    p.user_id = p.chat_id = s.chat;
    snprintf(p.name, sizeof p.name, "%s", s.name);
    if (s.symbols) {
        p.pairs = PAIRS_MANUAL;
        p.symbols = names;
        snprintf(names[p.nsymbols++], sizeof names[0], "%s", s.symbols);
    } else {
        p.pairs = PAIRS_TOP;
        p.top_n = s.top_n;
    }
    p.intervals = s.intervals;
    p.threshold = s.threshold;
    p.dir = s.dir;
    p.on_close = s.on_close;
    p.min_volume = s.min_volume;
    p.chart = s.chart;
    snprintf(p.rule, sizeof p.rule, "%s", s.rule ? s.rule : "move");
    p.active = 1;
    int rc = alert_preset_save(f->e, &p, err, sizeof err);
    if (rc)
        printf("# preset %s: %s\n", s.name, err);
    store_commit(f->st);
    return rc;
}

/* An update of pair's candle that opened `minute` minutes after T0 on
 * interval iv, `move` percent from its open; the clock is its event time. */
static void feed(struct fx *f, int pair, int iv, int minute, double move, int closed)
{
    int64_t open = T0 + (int64_t)minute * 60000, len = interval_ms(iv);
    int64_t when = closed ? open + len : f->sim.wall + 1;
    if (when < open)
        when = open;
    f->sim.now += (uint64_t)(when - f->sim.wall);
    f->sim.wall = when;
    struct candle c = {.open_time = open, .close_time = open + len - 1, .event_time = when,
                       .open = 100, .close = 100 * (1 + move / 100), .high = 110, .low = 90,
                       .symbol = f->ids[pair], .interval = (uint8_t)iv, .closed = (uint8_t)closed,
                       .price_dp = 2};
    market_apply(&f->m, &c);
    alert_drain(f->e);
    store_commit(f->st);
}

/* ---- fan-out ---- */

static const struct sent *to_chat(int from, int64_t chat)
{
    for (int i = from; i < nsent; i++)
        if (sent[i].chat == chat)
            return &sent[i];
    return NULL;
}

static void test_fanout(void)
{
    struct fx f;
    if (fx_open(&f, "fanout") != 0) {
        ok(0, "fan-out: the engine is set up");
        return;
    }
    int m1 = 1 << IV_1M, bad = 0;
    bad |= add_preset(&f, (struct spec){1, "btc", "BTCUSDT", 0, m1, 1, DIR_BOTH, 0});
    bad |= add_preset(&f, (struct spec){2, "eth", "ethusdt", 0, m1, 1, DIR_BOTH, 0});
    bad |= add_preset(&f, (struct spec){3, "btc 5m", "BTCUSDT", 0, 1 << IV_5M, 1, DIR_BOTH, 0});
    bad |= add_preset(&f, (struct spec){4, "btc 3%", "BTCUSDT", 0, m1, 3, DIR_BOTH, 0});
    bad |= add_preset(&f, (struct spec){5, "btc down", "BTCUSDT", 0, m1, 1, DIR_DOWN, 0});
    bad |= add_preset(&f, (struct spec){6, "btc up", "BTCUSDT", 0, m1, 1, DIR_UP, 0});
    bad |= add_preset(&f, (struct spec){7, "btc close", "BTCUSDT", 0, m1, 1, DIR_BOTH, 1});
    bad |= add_preset(&f, (struct spec){8, "top 2", NULL, 2, m1, 1, DIR_BOTH, 0});
    bad |= add_preset(&f, (struct spec){9, "top 1", NULL, 1, m1, 1, DIR_BOTH, 0});
    bad |= add_preset(&f, (struct spec){10, "a", "BTCUSDT", 0, m1, 1.5, DIR_BOTH, 0});
    bad |= add_preset(&f, (struct spec){10, "b", NULL, 3, m1 | 1 << IV_5M, 2, DIR_UP, 0});
    ok(!bad, "fan-out: eleven presets are saved");

    feed(&f, 0, IV_1M, 0, 2.0, 0);   /* BTCUSDT 1m forming, +2 % */
    is_str(chats_since(0), "1 6 8 9 10", "BTCUSDT 1m +2 %% forming reaches exactly the chats whose "
           "symbol, interval, threshold, direction, trigger and top N match");
    const struct sent *s = to_chat(0, 10);
    ok(s && s->npresets == 2 && !strcmp(s->presets, "a,b"),
       "a chat with two matching presets gets one alert naming both (got %s)", s ? s->presets : "-");
    s = to_chat(0, 1);
    ok(s && !strcmp(s->symbol, "BTCUSDT") && s->interval == IV_1M && strstr(s->text, "BTCUSDT"),
       "the alert is BTCUSDT's, on 1m, with a text");

    int from = nsent;
    feed(&f, 1, IV_1M, 0, -2.0, 0);   /* ETHUSDT 1m forming, -2 % */
    is_str(chats_since(from), "2 8", "ETHUSDT 1m -2 %% reaches the ETHUSDT list and top 2, not "
           "top 1 or an up-only top 3");

    from = nsent;
    feed(&f, 2, IV_1M, 0, 0.5, 0);   /* SOLUSDT: under every threshold */
    is_int(nsent - from, 0, "a move under every threshold reaches nobody");

    from = nsent;
    feed(&f, 0, IV_5M, 0, 2.5, 0);   /* BTCUSDT 5m forming, +2.5 % */
    is_str(chats_since(from), "3 10", "BTCUSDT 5m reaches the 5m presets only");
    fx_close(&f);
}

/* ---- once per candle ---- */

static int count_to(int from, int64_t chat)
{
    int n = 0;
    for (int i = from; i < nsent; i++)
        n += sent[i].chat == chat && sent[i].kind == ALERT_LIVE;
    return n;
}

static void test_once_per_candle(void)
{
    struct fx f;
    if (fx_open(&f, "once") != 0) {
        ok(0, "once: the engine is set up");
        return;
    }
    int m1 = 1 << IV_1M;
    int bad = add_preset(&f, (struct spec){1, "forming", "BTCUSDT", 0, m1, 1, DIR_BOTH, 0});
    bad |= add_preset(&f, (struct spec){2, "close", "BTCUSDT", 0, m1, 1, DIR_BOTH, 1});
    bad |= add_preset(&f, (struct spec){3, "other", "BTCUSDT", 0, m1, 1, DIR_BOTH, 0});
    ok(!bad, "once: three presets are saved");

    feed(&f, 0, IV_1M, 0, 1.5, 0);
    feed(&f, 0, IV_1M, 0, 0.2, 0);    /* back under */
    feed(&f, 0, IV_1M, 0, 2.5, 0);    /* and across again */
    feed(&f, 0, IV_1M, 0, -3.0, 0);   /* and across the other way */
    is_int(count_to(0, 1), 1, "a forming candle crossing four times alerts chat 1 once");
    is_int(count_to(0, 3), 1, "and chat 3 once: once per chat, not once per candle overall");
    is_int(count_to(0, 2), 0, "a close-trigger preset does not fire on a forming candle");

    int from = nsent;
    feed(&f, 0, IV_1M, 0, 2.0, 1);    /* the candle closes beyond the threshold */
    is_int(count_to(from, 2), 1, "the close-trigger preset fires when the candle closes beyond");
    is_int(count_to(from, 1), 0, "the forming-trigger chats do not get that candle again");

    from = nsent;
    feed(&f, 0, IV_1M, 1, 1.2, 0);    /* the next candle */
    feed(&f, 0, IV_1M, 1, 1.8, 0);
    is_int(count_to(from, 1), 1, "the next candle may alert again, once");
    is_int(count_to(from, 2), 0, "not for the close trigger while it forms");
    fx_close(&f);
}

/* ---- alerts per minute (the status page's chart) ---- */

static void test_per_minute(void)
{
    struct fx f;
    if (fx_open(&f, "perminute") != 0) {
        ok(0, "per minute: the engine is set up");
        return;
    }
    int m1 = 1 << IV_1M;
    int bad = add_preset(&f, (struct spec){1, "a", "BTCUSDT", 0, m1, 1, DIR_BOTH, 0});
    bad |= add_preset(&f, (struct spec){2, "b", "BTCUSDT", 0, m1, 1, DIR_BOTH, 0});
    ok(!bad, "per minute: two presets are saved");
    uint32_t n[ALERT_MINUTES];
    alert_fired_per_minute(f.e, T0, n);
    uint32_t sum = 0;
    for (int i = 0; i < ALERT_MINUTES; i++)
        sum += n[i];
    is_int((int)sum, 0, "no alerts yet: every minute counts 0");

    int from = nsent;
    feed(&f, 0, IV_1M, 0, 2.0, 0);    /* minute 0: chats 1 and 2 */
    feed(&f, 0, IV_1M, 3, 2.0, 0);    /* minute 3: both again */
    feed(&f, 0, IV_1M, 3, 2.5, 0);    /* (the same candle: no more) */
    int fired = count_to(from, 1) + count_to(from, 2);
    alert_fired_per_minute(f.e, T0 + 3 * 60000 + 5000, n);
    is_int((int)n[ALERT_MINUTES - 1], 2, "the current minute counts its 2 alerts");
    is_int((int)n[ALERT_MINUTES - 4], 2, "three minutes ago: 2");
    sum = 0;
    for (int i = 0; i < ALERT_MINUTES; i++)
        sum += n[i];
    is_int((int)sum, fired, "the hour's minutes add up to the alerts sent");

    feed(&f, 0, IV_1M, 60, 2.0, 0);   /* an hour later: minute 0's slot again */
    alert_fired_per_minute(f.e, T0 + 60 * 60000, n);
    is_int((int)n[ALERT_MINUTES - 1], 2, "a slot reused an hour later starts over");
    is_int((int)n[ALERT_MINUTES - 58], 2, "minute 3 is still in the hour");
    alert_fired_per_minute(f.e, T0 + 120 * 60000, n);
    sum = 0;
    for (int i = 0; i < ALERT_MINUTES; i++)
        sum += n[i];
    is_int((int)sum, 0, "two hours later the hour is empty");
    fx_close(&f);
}

/* ---- modes ---- */

/* An update of pair's candle (as feed) whose close is `close` (open 100). */
static void price(struct fx *f, int pair, int iv, int minute, double close, int closed)
{
    feed(f, pair, iv, minute, close - 100, closed);
}

static void test_level(void)
{
    struct fx f;
    if (fx_open(&f, "level") != 0) {
        ok(0, "level: the engine is set up");
        return;
    }
    int m1 = 1 << IV_1M;
    int bad = add_preset(&f, (struct spec){1, "above 105", "BTCUSDT", 0, m1, 105, DIR_UP, 0, "lvl"});
    bad |= add_preset(&f, (struct spec){2, "below 95", "BTCUSDT", 0, m1, 95, DIR_DOWN, 0, "lvl"});
    bad |= add_preset(&f, (struct spec){3, "either", "BTCUSDT", 0, m1, 100.5, DIR_BOTH, 0, "lvl"});
    ok(!bad, "level: three presets of a level rule are saved");

    price(&f, 0, IV_1M, 0, 103, 0);
    is_str(chats_since(0), "3", "103: at or above 100.5 (chat 3) only");
    const struct sent *s = to_chat(0, 3);
    ok(s && s->level == 100.5 && s->up == 1, "the alert says level 100.5, upward");
    ok(s && strstr(s->text, "Price level ▲ 100.50 → 103.000") && !strchr(s->text, '%'),
       "without a formatter, its text is in the rule's words, not a percentage (%s)",
       s ? s->text : "-");
    int from = nsent;
    price(&f, 0, IV_1M, 0, 106, 0);
    price(&f, 0, IV_1M, 0, 107, 0);
    is_str(chats_since(from), "1", "106 then 107: at or above 105 fires chat 1 once");
    s = to_chat(from, 1);
    ok(s && s->level == 105 && s->up == 1, "at level 105, upward");
    from = nsent;
    price(&f, 0, IV_1M, 1, 106, 0);
    is_str(chats_since(from), "1 3", "the next candle, still above: once per candle again");
    from = nsent;
    price(&f, 0, IV_1M, 2, 94, 0);
    is_str(chats_since(from), "2 3", "94: at or below 95 (chat 2) and 100.5 downward (chat 3)");
    s = to_chat(from, 2);
    ok(s && s->level == 95 && s->up == 0, "at level 95, downward");
    fx_close(&f);
}

static void test_cross(void)
{
    struct fx f;
    if (fx_open(&f, "cross") != 0) {
        ok(0, "cross: the engine is set up");
        return;
    }
    int m1 = 1 << IV_1M;
    int bad = add_preset(&f, (struct spec){1, "up 105", "BTCUSDT", 0, m1, 105, DIR_UP, 0, "crs"});
    bad |= add_preset(&f, (struct spec){2, "down 95", "BTCUSDT", 0, m1, 95, DIR_DOWN, 0, "crs"});
    bad |= add_preset(&f, (struct spec){3, "close 105", "BTCUSDT", 0, m1, 105, DIR_UP, 1, "crs"});
    ok(!bad, "cross: three presets of a cross rule are saved");

    price(&f, 0, IV_1M, 0, 106, 0);
    is_int(nsent, 0, "the first value, above 105, fires nothing: no previous value");
    price(&f, 0, IV_1M, 1, 107, 0);
    is_int(nsent, 0, "staying above is no crossing");
    price(&f, 0, IV_1M, 2, 104, 0);
    price(&f, 0, IV_1M, 3, 105, 0);
    is_str(chats_since(0), "1", "104 then 105: crossing up to 105 fires chat 1");
    const struct sent *s = to_chat(0, 1);
    ok(s && s->level == 105 && s->up == 1, "at level 105, upward");
    int from = nsent;
    price(&f, 0, IV_1M, 4, 110, 0);
    price(&f, 0, IV_1M, 5, 108, 0);
    is_int(nsent - from, 0, "not again while it stays above, on later candles");
    price(&f, 0, IV_1M, 6, 99, 0);
    is_int(nsent - from, 0, "crossing back down under 105 arms it (chat 2's 95 is not crossed)");
    price(&f, 0, IV_1M, 7, 106, 0);
    is_str(chats_since(from), "1", "and crossing up again fires it again");
    from = nsent;
    price(&f, 0, IV_1M, 8, 90, 0);
    is_str(chats_since(from), "2", "106 to 90 crosses down through 95: chat 2");
    s = to_chat(from, 2);
    ok(s && s->level == 95 && s->up == 0, "at level 95, downward");

    /* the close trigger: consecutive closes, not the updates between */
    from = nsent;
    price(&f, 0, IV_1M, 9, 104, 1);    /* the first close */
    price(&f, 0, IV_1M, 10, 107, 0);   /* forming above */
    is_int(count_to(from, 3), 0, "a close-trigger cross ignores forming updates");
    price(&f, 0, IV_1M, 10, 106, 1);
    is_int(count_to(from, 3), 1, "closes 104 then 106: the close-trigger cross fires");

    /* a reload makes the rule a level, mid-candle: what the cross kept is
     * not taken for how far the candle reached */
    from = nsent;
    price(&f, 0, IV_1M, 11, 100, 0);   /* (no crossing: 106 -> 100) */
    struct alert_rule_def now_level[3] = {test_rules[0], test_rules[1], test_rules[2]};
    now_level[2].mode = RULE_LEVEL;
    alert_set_rules(f.e, now_level, 3);
    price(&f, 0, IV_1M, 11, 94, 0);
    is_str(chats_since(from), "2", "the rule now a level: 94 is at or below chat 2's 95");
    fx_close(&f);
}

/* ---- the index visits only what is new ---- */

static uint64_t visited(struct fx *f)
{
    struct alert_stats st;
    alert_stats(f->e, &st);
    return st.visited;
}

static void test_visits(void)
{
    struct fx f;
    if (fx_open(&f, "visits") != 0) {
        ok(0, "visits: the engine is set up");
        return;
    }
    int m1 = 1 << IV_1M, bad = 0;
    for (int i = 0; i < 10; i++)   /* thresholds 1.0, 1.2, ... 2.8 % */
        bad |= add_preset(&f, (struct spec){100 + i, "t", "BTCUSDT", 0, m1, 1 + i * 0.2, DIR_UP, 0});
    ok(!bad, "visits: ten presets saved");
    uint64_t v0 = visited(&f);
    for (int k = 0; k <= 20; k++)   /* rising 0.5 .. 2.5 %, then the same again */
        feed(&f, 0, IV_1M, 0, 0.5 + k * 0.1, 0);
    for (int k = 0; k <= 20; k++)
        feed(&f, 0, IV_1M, 0, 0.5 + k * 0.1, 0);
    feed(&f, 0, IV_1M, 0, -3, 0);   /* down: no down subscription */
    is_int((long)(visited(&f) - v0), 8, "42 updates of a candle rising to 2.5 %% visit the 8 "
           "subscriptions it reaches once each");
    is_str(chats_since(0), "100 101 102 103 104 105 106 107", "and those 8 fire");
    uint64_t v1 = visited(&f);
    int from = nsent;
    feed(&f, 0, IV_1M, 1, 1.1, 0);
    is_int((long)(visited(&f) - v1), 1, "a new candle re-arms them: 1.1 %% visits one");
    is_str(chats_since(from), "100", "which fires");

    /* added mid-candle: fires on this candle only on a new reach */
    bad = add_preset(&f, (struct spec){200, "late 1", "BTCUSDT", 0, m1, 1.0, DIR_UP, 0});
    bad |= add_preset(&f, (struct spec){201, "late 1.15", "BTCUSDT", 0, m1, 1.15, DIR_UP, 0});
    from = nsent;
    feed(&f, 0, IV_1M, 1, 1.18, 0);
    is_str(chats_since(from), "201", "a preset added mid-candle fires when the value newly "
           "reaches it (1.15: 1.1 -> 1.18), not for what the candle had reached (1.0)");
    from = nsent;
    feed(&f, 0, IV_1M, 2, 1.05, 0);
    is_str(chats_since(from), "100 200", "and from the next candle like any other");
    fx_close(&f);
}

/* ---- top N by rank ---- */

static void rank(struct fx *f, int a, int b, int c, int d)
{
    uint32_t ids[4] = {f->ids[a], f->ids[b], f->ids[c], f->ids[d]};
    double qv[4] = {4e9, 3e9, 2e9, 1e9};
    market_set_ranking(&f->m, ids, qv, 4);
}

static void test_top_rank(void)
{
    struct fx f;
    if (fx_open(&f, "rank") != 0) {
        ok(0, "rank: the engine is set up");
        return;
    }
    int m1 = 1 << IV_1M;
    int bad = add_preset(&f, (struct spec){1, "top 2", NULL, 2, m1, 1, DIR_BOTH, 0});
    ok(!bad, "rank: a top 2 preset is saved");
    const struct preset *p = NULL;
    alert_presets_of(f.e, 1, &p, 1);
    ok(p && p->nindexed == 2, "it covers 2 pairs");
    feed(&f, 2, IV_1M, 0, 3, 0);   /* SOL, ranked 3rd */
    is_int(nsent, 0, "SOLUSDT (3rd) is not in it");
    rank(&f, 2, 0, 1, 3);          /* SOL first, BTC 2nd, ETH 3rd */
    feed(&f, 2, IV_1M, 0, 3.2, 0);
    is_int(nsent, 0, "SOLUSDT entering the top 2 mid-candle: only a new reach fires (1 %% was "
           "reached before)");
    feed(&f, 2, IV_1M, 1, 1.5, 0);
    is_str(chats_since(0), "1", "the next candle of SOLUSDT, now 1st, fires");
    int from = nsent;
    feed(&f, 1, IV_1M, 1, -2, 0);
    is_int(nsent - from, 0, "ETHUSDT, fallen to 3rd, no longer does");
    feed(&f, 0, IV_1M, 1, 2, 0);
    is_str(chats_since(from), "1", "BTCUSDT, 2nd, still does");
    ok(p && p->nindexed == 2, "still 2 pairs covered");
    fx_close(&f);
}

/* ---- rules side by side; the volume floor; a restart ---- */

static void test_rules_apart(void)
{
    struct fx f;
    if (fx_open(&f, "apart") != 0) {
        ok(0, "apart: the engine is set up");
        return;
    }
    int m1 = 1 << IV_1M;
    int bad = add_preset(&f, (struct spec){1, "move", "BTCUSDT", 0, m1, 1, DIR_BOTH, 0});
    bad |= add_preset(&f, (struct spec){1, "level", "BTCUSDT", 0, m1, 101, DIR_UP, 0, "lvl"});
    bad |= add_preset(&f, (struct spec){2, "rich", "BTCUSDT", 0, m1, 1, DIR_BOTH, 0, NULL, 2e9});
    bad |= add_preset(&f, (struct spec){3, "floor", "BTCUSDT", 0, m1, 1, DIR_BOTH, 0, NULL, 5e8});
    bad |= add_preset(&f, (struct spec){1, "move 3", "BTCUSDT", 0, m1, 3, DIR_BOTH, 0});
    bad |= add_preset(&f, (struct spec){1, "level 103", "BTCUSDT", 0, m1, 103, DIR_UP, 0, "lvl"});
    ok(!bad, "apart: six presets saved");
    feed(&f, 0, IV_1M, 0, 2, 0);   /* +2 %: close 102 */
    is_int(count_to(0, 1), 2, "a move alert and a level alert on the same candle for the same "
           "chat both go out");
    feed(&f, 0, IV_1M, 0, 4, 0);   /* +4 %: close 104 reaches the chat's other two */
    is_int(count_to(0, 1), 2, "the chat's other presets of each rule do not send that candle "
           "again");
    is_int(count_to(0, 2), 0, "a pair under the preset's minimum volume does not alert");
    is_int(count_to(0, 3), 1, "one above it does");

    /* a restart: the marks, per rule, are kept */
    alert_engine_free(f.e);
    f.e = NULL;
    int from = nsent;
    ok(fx_engine(&f) == 0, "the engine starts again on the same database");
    feed(&f, 0, IV_1M, 0, 2.5, 0);
    is_int(count_to(from, 1), 0, "after the restart neither rule sends that candle again");
    feed(&f, 0, IV_1M, 1, 2.5, 0);
    is_int(count_to(from, 1), 2, "the next candle fires both again");
    fx_close(&f);
}

/* A preset's "chart with each alert": the alert says so (with that
 * preset's level) when any preset of the chat that fired asks for it; the
 * option is kept across a restart. */
static void test_chart_option(void)
{
    struct fx f;
    if (fx_open(&f, "chart") != 0) {
        ok(0, "chart: the engine is set up");
        return;
    }
    int m1 = 1 << IV_1M;
    int bad = add_preset(&f, (struct spec){1, "plain", "BTCUSDT", 0, m1, 1, DIR_BOTH, 0});
    bad |= add_preset(&f, (struct spec){1, "drawn", "BTCUSDT", 0, m1, 2, DIR_BOTH, 0, NULL, 0, 1});
    bad |= add_preset(&f, (struct spec){2, "text", "BTCUSDT", 0, m1, 1, DIR_BOTH, 0});
    ok(!bad, "chart: three presets saved");
    feed(&f, 0, IV_1M, 0, 3, 0);
    const struct sent *a = NULL, *b = NULL;
    for (int i = 0; i < nsent; i++)
        if (sent[i].kind == ALERT_LIVE)
            *(sent[i].chat == 1 ? &a : &b) = &sent[i];
    ok(a && a->chart && a->chart_level == 2, "chat 1's alert asks for a chart at its charted "
       "preset's level (%g)", a ? a->chart_level : 0);
    ok(b && !b->chart, "chat 2's alert does not");
    alert_engine_free(f.e);
    f.e = NULL;
    ok(fx_engine(&f) == 0, "the engine starts again on the same database");
    int charted = 0, presets = 0;
    for (int64_t id = 1; id <= 3; id++) {
        const struct preset *p = alert_preset_get(f.e, id);
        presets += p != NULL;
        charted += p && p->chart;
    }
    ok(presets == 3 && charted == 1, "after the restart one preset of three still asks for "
       "charts (%d of %d)", charted, presets);
    fx_close(&f);
}

/* Chats whose alerts share a chart's key get one picture, its caption
 * naming the rule and the direction: alerts of two rules (or directions)
 * at the same level on the same candle must not share one. */
static void test_chart_key(void)
{
    struct fx f;
    if (fx_open(&f, "chartkey") != 0) {
        ok(0, "chart key: the engine is set up");
        return;
    }
    int m1 = 1 << IV_1M;
    int bad = add_preset(&f, (struct spec){1, "move", "BTCUSDT", 0, m1, 1, DIR_BOTH, 0, NULL, 0, 1});
    bad |= add_preset(&f, (struct spec){2, "level", "BTCUSDT", 0, m1, 1, DIR_UP, 0, "lvl", 0, 1});
    bad |= add_preset(&f, (struct spec){3, "move too", "BTCUSDT", 0, m1, 1, DIR_BOTH, 0, NULL, 0, 1});
    bad |= add_preset(&f, (struct spec){4, "below", "BTCUSDT", 0, m1, 102, DIR_DOWN, 0, "lvl", 0, 1});
    bad |= add_preset(&f, (struct spec){5, "above", "BTCUSDT", 0, m1, 102, DIR_UP, 0, "lvl", 0, 1});
    ok(!bad, "chart key: five presets saved");
    feed(&f, 0, IV_1M, 0, 2, 0);   /* +2 %: close 102, a move of 2 % and a price of 102 */
    const struct sent *mv = to_chat(0, 1), *lv = to_chat(0, 2), *mv2 = to_chat(0, 3);
    ok(mv && lv && mv2 && mv->chart && lv->chart && mv->chart_level == lv->chart_level,
       "a move of 1 %% and a price level of 1 fire on the same candle, charted at the same level");
    ok(mv && lv && strcmp(mv->chart_key, lv->chart_key) != 0,
       "their charts' keys differ (%s, %s)", mv ? mv->chart_key : "-", lv ? lv->chart_key : "-");
    ok(mv && mv2 && !strcmp(mv->chart_key, mv2->chart_key), "two chats' moves share one (%s)",
       mv2 ? mv2->chart_key : "-");
    const struct sent *dn = to_chat(0, 4), *up = to_chat(0, 5);
    ok(dn && up && !dn->up && up->up && dn->chart_level == up->chart_level,
       "a price at or below 102 and one at or above 102 fire on a close of 102");
    ok(dn && up && strcmp(dn->chart_key, up->chart_key) != 0,
       "their charts' keys differ (%s, %s)", dn ? dn->chart_key : "-", up ? up->chart_key : "-");
    fx_close(&f);
}

/* ---- digests: every path goes through the sink ---- */

static const struct sent *last_digest(int from, int64_t chat)
{
    const struct sent *d = NULL;
    for (int i = from; i < nsent; i++)
        if (sent[i].chat == chat && sent[i].kind == ALERT_DIGEST)
            d = &sent[i];
    return d;
}

static void test_digests(void)
{
    struct fx f;
    if (fx_open(&f, "digest") != 0) {
        ok(0, "digests: the engine is set up");
        return;
    }
    int m1 = 1 << IV_1M;
    add_preset(&f, (struct spec){1, "p", "BTCUSDT", 0, m1, 1, DIR_BOTH, 0});

    /* a pause until a time: held, then one digest when the timer fires */
    ok(alert_pause(f.e, 1, f.sim.wall + 600000) == 0, "chat 1 pauses for ten minutes");
    feed(&f, 0, IV_1M, 0, 2.0, 0);
    feed(&f, 0, IV_1M, 1, -2.0, 0);
    is_int(count_to(0, 1), 0, "no alert reaches the sink while paused");
    f.sim.now += 600000;
    f.sim.wall += 600000;
    timers_run_due(&f.ts, f.sim.now);
    const struct sent *d = last_digest(0, 1);
    ok(d && d->held == 2 && strstr(d->text, "BTCUSDT 1m +2.00%") && strstr(d->text, "-2.00%"),
       "when the pause ends, its digest of 2 reaches the sink (held %ld)", d ? d->held : -1);

    /* /stop then /start: alert_resume sends the digest the same way */
    int from = nsent;
    alert_pause(f.e, 1, INT64_MAX);
    feed(&f, 0, IV_1M, 20, 3.0, 0);
    is_int(alert_resume(f.e, 1), 1, "resume says one alert was held");
    d = last_digest(from, 1);
    ok(d && d->held == 1, "and its digest reaches the sink");

    /* quiet hours now (local minutes 0..120 at UTC+0): held, digest at their end */
    from = nsent;
    int64_t day = (f.sim.wall / 86400000 + 1) * 86400000;   /* the next midnight */
    f.sim.now += (uint64_t)(day + 60000 - f.sim.wall);
    f.sim.wall = day + 60000;
    ok(alert_set_quiet(f.e, 1, 0, 120, 0) == 0, "chat 1 sets quiet hours 00:00-02:00");
    feed(&f, 0, IV_1M, (int)((day - T0) / 60000) + 1, 2.0, 0);
    is_int(count_to(from, 1), 0, "an alert in quiet hours is held");
    f.sim.now += 2 * 3600000;
    f.sim.wall += 2 * 3600000;
    timers_run_due(&f.ts, f.sim.now);
    d = last_digest(from, 1);
    ok(d && d->held == 1, "when the quiet hours end, the digest reaches the sink");
    fx_close(&f);
}

/* A script's line (bot.alert) is held as a candle's alert is, and both
 * survive restarts: each start-up must leave the database as it found it. */
static void test_held_lines(void)
{
    struct fx f;
    if (fx_open(&f, "lines") != 0) {
        ok(0, "held lines: the engine is set up");
        return;
    }
    add_preset(&f, (struct spec){1, "p", "BTCUSDT", 0, 1 << IV_1M, 1, DIR_BOTH, 0});
    is_int(alert_hold_line(f.e, 1, "Gas fast 7 gwei"), 0, "a chat not paused: a line is not held");
    alert_pause(f.e, 1, INT64_MAX);
    feed(&f, 0, IV_1M, 0, 2.0, 0);
    is_int(alert_hold_line(f.e, 1, "Gas fast 7 &lt; 8 gwei"), 1, "a paused chat's line is held");
    store_commit(f.st);
    for (int i = 1; i <= 2; i++) {
        alert_engine_free(f.e);
        f.e = NULL;
        ok(fx_engine(&f) == 0, "the engine starts again on the same database (%d)", i);
        store_commit(f.st);
    }
    ok(alert_paused_until(f.e, 1) == INT64_MAX, "a pause until resumed is one still");
    int from = nsent;
    is_int(alert_hold_line(f.e, 1, "Gas base 39 gwei"), 1, "and holds a line");
    is_int(alert_resume(f.e, 1), 3, "after two restarts the pause still holds all three");
    const struct sent *d = last_digest(from, 1);
    ok(d && strstr(d->text, "BTCUSDT 1m +2.00%") && strstr(d->text, "\nGas fast 7 &lt; 8 gwei"),
       "and its digest has the candle's line and the script's");
    store_commit(f.st);

    /* quiet hours: held until they end, then the digest */
    int64_t day = (f.sim.wall / 86400000 + 1) * 86400000;
    f.sim.now += (uint64_t)(day + 60000 - f.sim.wall);
    f.sim.wall = day + 60000;
    alert_set_quiet(f.e, 1, 0, 120, 0);
    from = nsent;
    is_int(alert_hold_line(f.e, 1, "Gas base 40 gwei"), 1, "a line in quiet hours is held");
    is_int(count_to(from, 1), 0, "and nothing is sent");
    f.sim.now += 2 * 3600000;
    f.sim.wall += 2 * 3600000;
    timers_run_due(&f.ts, f.sim.now);
    d = last_digest(from, 1);
    ok(d && d->held == 1 && strstr(d->text, "Gas base 40 gwei"),
       "when the quiet hours end, its digest reaches the sink");
    is_int(alert_hold_line(f.e, 1, "Gas base 41 gwei"), 0, "after them a line is not held");
    fx_close(&f);
}

/* ---- a loop turn's share ---- */

/* Three pairs move at once for 600 chats each: no loop turn sends more than
 * FANOUT_SLICE (1,000) chats' alerts, and every alert goes out. */
static void test_turn_share(void)
{
    struct fx f;
    if (fx_open(&f, "turn") != 0) {
        ok(0, "turn share: the engine is set up");
        return;
    }
    int bad = 0;
    for (int64_t chat = 1; chat <= 600; chat++)
        bad |= add_preset(&f, (struct spec){chat, "top 4", NULL, 4, 1 << IV_1M, 1, DIR_BOTH, 0});
    ok(!bad, "turn share: 600 presets are saved");
    for (int pair = 0; pair < 3; pair++) {   /* queued together, as one read of the feed */
        struct candle c = {.open_time = T0, .close_time = T0 + 59999, .event_time = f.sim.wall,
                           .open = 100, .close = 103, .high = 103, .low = 100,
                           .symbol = f.ids[pair], .interval = IV_1M, .price_dp = 2};
        market_apply(&f.m, &c);
    }
    long most = 0, before = nlive;
    int turns = 0, more = 1;
    while (more && turns < 2000) {   /* (a slow build takes more turns of 10 ms) */
        long at = nlive;
        more = alert_drain_turn(f.e);
        store_commit(f.st);
        most = nlive - at > most ? nlive - at : most;
        turns++;
    }
    is_int(nlive - before, 1800, "all 1,800 alerts go out");
    ok(most <= 1000, "no loop turn sends more than 1,000 chats' alerts (most: %ld)", most);
    ok(turns >= 2 && !more, "in two turns or more (a turn also stops after 10 ms; took %d)", turns);
    fx_close(&f);
}

/* 600 chats on top 4, and three pairs' 1m candles up 3 % queued together,
 * as one read of the feed. */
static int fx_turn(struct fx *f, const char *name)
{
    if (fx_open(f, name) != 0)
        return -1;
    nlive = 0;
    int bad = 0;
    for (int64_t chat = 1; chat <= 600; chat++)
        bad |= add_preset(f, (struct spec){chat, "top 4", NULL, 4, 1 << IV_1M, 1, DIR_BOTH, 0});
    for (int pair = 0; pair < 3; pair++) {
        struct candle c = {.open_time = T0, .close_time = T0 + 59999, .event_time = f->sim.wall,
                           .open = 100, .close = 103, .high = 103, .low = 100,
                           .symbol = f->ids[pair], .interval = IV_1M, .price_dp = 2};
        market_apply(&f->m, &c);
    }
    return bad;
}

/* Loop turns until the engine is idle (at most 2,000); their number. */
static int turns_until_idle(struct fx *f, long *first_sent)
{
    int turns = 0, more = 1;
    long at = nlive;
    while (more && turns < 2000) {
        more = alert_drain_turn(f->e);
        store_commit(f->st);
        if (!turns++)
            *first_sent = nlive - at;
    }
    return more ? -1 : turns;
}

/* A turn's time covers matching too: when evaluating the events takes
 * longer than the turn may (a rule of 25 ms here; an event of a
 * market-wide move with 100,000 users reaches tens of thousands of
 * subscriptions), the other events wait in the queue for the next turns. */
static void test_turn_time_events(void)
{
    struct fx f;
    if (fx_turn(&f, "turnev") != 0) {
        ok(0, "turn time: the engine is set up");
        return;
    }
    struct alert_stats st;
    slow_rule_us = 25000;
    int more = alert_drain_turn(f.e);
    slow_rule_us = 0;
    alert_stats(f.e, &st);
    ok(more && st.events == 1, "a turn whose first event took its time leaves the other two"
       " queued (events handled: %llu)", (unsigned long long)st.events);
    long first;
    int turns = turns_until_idle(&f, &first);
    alert_stats(f.e, &st);
    ok(turns > 0 && st.events == 3 && nlive == 1800,
       "the next turns handle them: all 1,800 alerts go out (%ld, %llu events)", nlive,
       (unsigned long long)st.events);
    fx_close(&f);
}

/* Fan-outs waiting from earlier events go out while newer events keep a
 * turn's matching busy (a move's events took a minute to match with
 * 100,000 users, and its first alerts waited for all of them). */
static void test_turn_fanouts_first(void)
{
    struct fx f;
    if (fx_turn(&f, "turnfo") != 0) {
        ok(0, "turn order: the engine is set up");
        return;
    }
    alert_drain_turn(f.e);   /* the first event's 600 chats; the rest wait */
    store_commit(f.st);
    long at = nlive;
    for (int pair = 0; pair < 3; pair++) {   /* the next minute's candles */
        struct candle c = {.open_time = T0 + 60000, .close_time = T0 + 119999,
                           .event_time = f.sim.wall, .open = 100, .close = 103, .high = 103,
                           .low = 100, .symbol = f.ids[pair], .interval = IV_1M, .price_dp = 2};
        market_apply(&f.m, &c);
    }
    slow_rule_us = 25000;
    alert_drain_turn(f.e);
    slow_rule_us = 0;
    ok(nlive > at, "a turn whose events take all its time still sends waiting alerts (%ld)",
       nlive - at);
    long first;
    ok(turns_until_idle(&f, &first) > 0 && nlive == 3600, "and every alert goes out (%ld)", nlive);
    fx_close(&f);
}

/* The alerts of one event within a turn's share are sent at once, but not
 * past the turn's time: with a Telegram side of 1 ms an alert, the first
 * turn stops after a few tens of chats, not 600. */
static void test_turn_time_alerts(void)
{
    struct fx f;
    if (fx_turn(&f, "turnal") != 0) {
        ok(0, "turn time: the engine is set up");
        return;
    }
    long first = 0;
    slow_sink_us = 1000;
    int turns = turns_until_idle(&f, &first);
    slow_sink_us = 0;
    ok(first > 0 && first < 100, "the first turn stops sending when its 10 ms are up (sent: %ld)",
       first);
    is_int(nlive, 1800, "the next turns send the rest: all 1,800 alerts go out");
    ok(turns > 2, "(in %d turns)", turns);
    fx_close(&f);
}

/* One event for 300 chats of every size (groups' negative ids, ids past
 * 32 bits), two presets each: each chat gets one alert naming both, in
 * the order they were made, and the chats go in order. */
static void test_many_chats(void)
{
    struct fx f;
    if (fx_open(&f, "many") != 0) {
        ok(0, "many chats: the engine is set up");
        return;
    }
    nlive = 0;
    int bad = 0;
    for (int64_t i = 1; i <= 300; i++) {
        int64_t chat = i % 3 == 0 ? -1000000000000 - i * 7919 : i % 3 == 1 ? i * 8589934597 : i;
        bad |= add_preset(&f, (struct spec){chat, "b top", NULL, 4, 1 << IV_1M, 1, DIR_BOTH, 0});
        bad |= add_preset(&f, (struct spec){chat, "a btc", "BTCUSDT", 0, 1 << IV_1M, 1, DIR_BOTH, 0});
    }
    ok(!bad, "many chats: 600 presets are saved");
    int from = nsent;
    feed(&f, 0, IV_1M, 0, 3, 0);
    is_int(nlive, 300, "one alert a chat");
    int named = 1, ordered = 1;
    for (int i = from; i < nsent; i++) {
        named &= sent[i].npresets == 2 && !strcmp(sent[i].presets, "b top,a btc");
        ordered &= i == from || sent[i - 1].chat < sent[i].chat;
    }
    ok(nsent > from && named, "each names both presets, in the order they were made");
    ok(ordered, "the chats go in order, groups first");
    fx_close(&f);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        printf("Bail out! no temporary folder\n");
        return 1;
    }
    test_fanout();
    test_once_per_candle();
    test_per_minute();
    test_level();
    test_cross();
    test_visits();
    test_top_rank();
    test_rules_apart();
    test_chart_option();
    test_chart_key();
    test_digests();
    test_held_lines();
    test_turn_share();
    test_many_chats();
    test_turn_time_events();
    test_turn_time_alerts();
    test_turn_fanouts_first();
    rmdir(dir);
    return done();
}
