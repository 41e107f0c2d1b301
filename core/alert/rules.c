/* The rules: the engine's slots (one per rule name, kept while presets
 * use it; a reload that drops a rule keeps its index for its return), the
 * live declarations, and a preset's rule settings checked against them. */
#include "alert/engine_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop/rt.h"
#include "util/interval.h"

static int index_mode_of(int rule_mode)
{
    return rule_mode == RULE_LEVEL ? INDEX_LEVEL : rule_mode == RULE_CROSS ? INDEX_CROSS
                                                                          : INDEX_MOVE;
}

static int rule_has_presets(const struct alert_engine *e, int slot)
{
    for (uint32_t i = 0; i < e->nsubs; i++)
        if (e->subs[i] && e->subs[i]->rule_slot == slot)
            return 1;
    return 0;
}

/* The slot's declaration is def (its strings copied into the slot). */
static void rule_take_def(struct rule *r, const struct alert_rule_def *def)
{
    r->def = *def;
    snprintf(r->label, sizeof r->label, "%s", def->label ? def->label : r->base);
    snprintf(r->unit, sizeof r->unit, "%s", def->unit ? def->unit : "");
    snprintf(r->prompt, sizeof r->prompt, "%s", def->prompt ? def->prompt : "");
    r->def.name = r->base;
    r->def.label = r->label;
    r->def.unit = r->unit;
    r->def.prompt = r->prompt;
    for (int i = 0; i < def->nparams && i < RULE_PARAMS_MAX; i++) {
        const struct rule_param *in = &def->params[i];
        snprintf(r->ptext[i].name, sizeof r->ptext[i].name, "%s", in->name ? in->name : "");
        snprintf(r->ptext[i].label, sizeof r->ptext[i].label, "%s", in->label ? in->label : "");
        snprintf(r->ptext[i].prompt, sizeof r->ptext[i].prompt, "%s", in->prompt ? in->prompt : "");
        r->def.params[i].name = r->ptext[i].name;
        r->def.params[i].label = r->ptext[i].label;
        r->def.params[i].prompt = r->ptext[i].prompt;
    }
}

/* A settings slot follows its rule's slot: live while the rule is and
 * takes as many settings as it holds. */
static void settings_follow(struct alert_engine *e, struct rule *r)
{
    int b = alert_rule_slot(e, r->base, 0);
    r->live = 0;
    if (b < 0 || !e->rules[b].live || e->rules[b].def.nparams != r->npv)
        return;
    if (r->ix.mode != index_mode_of(e->rules[b].def.mode) && r->ix.marks)
        memset(r->ix.marks, 0, sizeof *r->ix.marks * (size_t)r->ix.nsym * IV_COUNT);
    r->ix.mode = index_mode_of(e->rules[b].def.mode);
    rule_take_def(r, &e->rules[b].def);
    r->live = 1;
}

/* A slot that may be taken: a new one, or one of a rule gone that no
 * preset uses; -1 when there is none. */
static int slot_free(struct alert_engine *e)
{
    if (e->nrules < ALERT_MAX_SLOTS)
        return e->nrules;
    for (int at = 0; at < e->nrules; at++)
        if (!e->rules[at].live && !e->rules[at].ix.entries && !rule_has_presets(e, at))
            return at;
    return -1;
}

int alert_rule_slot(struct alert_engine *e, const char *name, int create)
{
    for (int i = 0; i < e->nrules; i++)
        if (strcmp(e->rules[i].name, name) == 0)
            return i;
    int at = create ? slot_free(e) : -1;
    if (at < 0)
        return -1;
    if (at < e->nrules)
        index_free(&e->rules[at].ix);
    struct rule *r = &e->rules[at];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    size_t blen = strcspn(name, ":");
    snprintf(r->base, sizeof r->base, "%.*s", (int)blen, name);
    index_init(&r->ix, INDEX_MOVE);
    if (at == e->nrules)
        e->nrules++;
    if (name[blen] == ':') {   /* "ema_cross:50,200" */
        for (const char *c = name + blen + 1; *c && r->npv < RULE_PARAMS_MAX; c += *c == ',') {
            char *end;
            r->pv[r->npv++] = strtod(c, &end);
            c = end;
        }
        settings_follow(e, r);
        if (e->hooks.slots)
            e->hooks.slots(e->hooks.ud);
    }
    return at;
}

const char *alert_rule_name(struct alert_engine *e, int rule)
{
    return rule >= 0 && rule < e->nrules ? e->rules[rule].name : "";
}

int alert_rule_params(struct alert_engine *e, int rule, double out[RULE_PARAMS_MAX])
{
    const struct rule *r = rule >= 0 && rule < e->nrules ? &e->rules[rule] : NULL;
    if (!r || !r->live)
        return 0;
    for (int i = 0; i < r->def.nparams; i++)
        out[i] = r->npv ? r->pv[i] : r->def.params[i].dflt;
    return r->def.nparams;
}

void alert_preset_key(const struct preset *p, char *out, size_t len)
{
    int k = snprintf(out, len, "%s", p->rule);
    for (int i = 0; i < p->nparams && k > 0 && (size_t)k < len; i++)
        k += snprintf(out + k, len - (size_t)k, "%c%.10g", i ? ',' : ':', p->params[i]);
}

/* The live rules' names, for a message: "move, rsi". */
static void rule_names(struct alert_engine *e, char *out, size_t len)
{
    size_t k = 0;
    out[0] = 0;
    for (int i = 0; i < e->nrules && k < len; i++)
        if (e->rules[i].live && !strchr(e->rules[i].name, ':'))
            k += (size_t)snprintf(out + k, len - k, "%s%s", k ? ", " : "", e->rules[i].name);
}

/* The preset's settings for rule r: each in its range, rounded; none
 * (nparams 0) when they are the defaults; and a slot for them. */
static int validate_params(struct alert_engine *e, struct preset *p, const struct alert_rule_def *r,
                           char *err, size_t errlen)
{
    if (p->nparams > r->nparams) {
        snprintf(err, errlen, "%s takes %d setting%s.", r->label, r->nparams,
                 r->nparams == 1 ? "" : "s");
        return -1;
    }
    int given = p->nparams, same = 1;
    for (int i = 0; i < r->nparams; i++) {
        const struct rule_param *q = &r->params[i];
        double scale = pow(10, q->decimals), v = i < given ? p->params[i] : q->dflt;
        v = round(v * scale) / scale;
        if (!(v >= q->min && v <= q->max)) {
            snprintf(err, errlen, "%s is a number from %g to %g, like %g.", q->label, q->min,
                     q->max, q->dflt);
            return -1;
        }
        p->params[i] = v;
        same &= v == q->dflt;
    }
    p->nparams = same ? 0 : r->nparams;
    char key[RULE_KEY_MAX + 1];
    alert_preset_key(p, key, sizeof key);
    if (p->nparams && alert_rule_slot(e, key, 0) < 0 && slot_free(e) < 0) {
        snprintf(err, errlen, "Too many different settings of alerts are in use (at most %d): "
                 "choose the defaults, or settings another preset of yours already uses.",
                 ALERT_MAX_SLOTS);
        return -1;
    }
    return 0;
}

/* The rule, the threshold in its range, a direction and trigger it has,
 * its settings. */
int alert_validate_rule(struct alert_engine *e, struct preset *p, char *err, size_t errlen)
{
    if (!p->rule[0])
        snprintf(p->rule, sizeof p->rule, "move");
    int slot = alert_rule_find(e, p->rule);
    if (slot < 0) {
        char names[RULE_NAME_MAX * 4];
        rule_names(e, names, sizeof names);
        snprintf(err, errlen, "There is no alert rule \"%.32s\"; the rules are: %s.", p->rule,
                 names[0] ? names : "none yet");
        return -1;
    }
    const struct alert_rule_def *r = &e->rules[slot].def;
    double scale = pow(10, r->decimals), t = round(p->threshold * scale) / scale;
    if (!(t >= r->min && t <= r->max) || (r->mode == RULE_MOVE && !(t > 0))) {
        if (!strcmp(r->unit, "%"))
            snprintf(err, errlen, "The threshold is a percentage from %g to %g, like %g.",
                     r->min, r->max, r->dflt);
        else
            snprintf(err, errlen, "The threshold for %s is a number from %g to %g%s%s, like %g.",
                     r->label, r->min, r->max, r->unit[0] ? " " : "", r->unit, r->dflt);
        return -1;
    }
    p->threshold = t;
    if (p->dir < DIR_BOTH || p->dir > DIR_DOWN || !(r->dirs & 1 << p->dir)) {
        static const char *const allowed[8] = {"", "", "up only", "up only", "down only",
                                               "down only", "up or down", "up, down or both"};
        snprintf(err, errlen, "%s alerts go %s.", r->label, allowed[r->dirs & 7]);
        return -1;
    }
    if (p->on_close ? !r->on_close : !r->on_forming) {
        snprintf(err, errlen, "%s alerts come %s.", r->label,
                 r->on_close ? "when a candle closes" : "while a candle forms");
        return -1;
    }
    return validate_params(e, p, r, err, errlen);
}

void alert_set_rules(struct alert_engine *e, const struct alert_rule_def *defs, int n)
{
    for (int i = 0; i < e->nrules; i++)
        e->rules[i].live = 0;
    for (int i = 0; i < n; i++) {
        int s = alert_rule_slot(e, defs[i].name, 1);
        if (s < 0) {   /* (every slot holds a rule with presets) */
            log_warn(e->rt->log, "alerts", "rule %s cannot run: %d rules and settings already "
                     "have presets", defs[i].name, ALERT_MAX_SLOTS);
            continue;
        }
        struct rule *r = &e->rules[s];
        if (r->ix.mode != index_mode_of(defs[i].mode) && r->ix.marks)   /* (another meaning) */
            memset(r->ix.marks, 0, sizeof *r->ix.marks * (size_t)r->ix.nsym * IV_COUNT);
        r->ix.mode = index_mode_of(defs[i].mode);
        rule_take_def(r, &defs[i]);
        r->live = 1;
    }
    for (int i = 0; i < e->nrules; i++)
        if (strchr(e->rules[i].name, ':'))
            settings_follow(e, &e->rules[i]);
    /* presets of a rule that just appeared */
    for (uint32_t i = 0; i < e->nsubs; i++)
        if (e->subs[i] && e->subs[i]->rule_slot < 0) {
            char key[RULE_KEY_MAX + 1];
            alert_preset_key(e->subs[i], key, sizeof key);
            e->subs[i]->rule_slot = alert_rule_slot(e, key, 1);
            alert_reindex(e, e->subs[i]);
        }
}

const struct alert_rule_def *alert_rule_get(struct alert_engine *e, int rule)
{
    return rule >= 0 && rule < e->nrules && e->rules[rule].live ? &e->rules[rule].def : NULL;
}

int alert_rule_find(struct alert_engine *e, const char *name)
{
    int s = alert_rule_slot(e, name, 0);
    return s >= 0 && e->rules[s].live ? s : -1;
}
