/* The rules: the engine's slots (one per rule name, kept while presets
 * use it; a reload that drops a rule keeps its index for its return), the
 * live declarations, and a preset's rule settings checked against them. */
#include "alert/engine_int.h"

#include <math.h>
#include <stdio.h>
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

int alert_rule_slot(struct alert_engine *e, const char *name, int create)
{
    for (int i = 0; i < e->nrules; i++)
        if (strcmp(e->rules[i].name, name) == 0)
            return i;
    if (!create)
        return -1;
    int at = e->nrules;
    if (at == ALERT_MAX_RULES) {   /* full: a slot of a rule gone and no preset's */
        for (at = 0; at < e->nrules && (e->rules[at].live || e->rules[at].ix.entries ||
                                         rule_has_presets(e, at)); at++)
            ;
        if (at == e->nrules)
            return -1;
        index_free(&e->rules[at].ix);
    }
    struct rule *r = &e->rules[at];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    index_init(&r->ix, INDEX_MOVE);
    if (at == e->nrules)
        e->nrules++;
    return at;
}

const char *alert_rule_name(struct alert_engine *e, int rule)
{
    return rule >= 0 && rule < e->nrules ? e->rules[rule].name : "";
}

/* The live rules' names, for a message: "move, rsi". */
static void rule_names(struct alert_engine *e, char *out, size_t len)
{
    size_t k = 0;
    out[0] = 0;
    for (int i = 0; i < e->nrules && k < len; i++)
        if (e->rules[i].live)
            k += (size_t)snprintf(out + k, len - k, "%s%s", k ? ", " : "", e->rules[i].name);
}

/* The rule, the threshold in its range, a direction and trigger it has. */
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
    return 0;
}

void alert_set_rules(struct alert_engine *e, const struct alert_rule_def *defs, int n)
{
    for (int i = 0; i < e->nrules; i++)
        e->rules[i].live = 0;
    for (int i = 0; i < n; i++) {
        int s = alert_rule_slot(e, defs[i].name, 1);
        if (s < 0) {   /* (every slot holds a rule with presets) */
            log_warn(e->rt->log, "alerts", "rule %s cannot run: %d rules already have presets",
                     defs[i].name, ALERT_MAX_RULES);
            continue;
        }
        struct rule *r = &e->rules[s];
        r->live = 1;
        r->def = defs[i];
        if (r->ix.mode != index_mode_of(defs[i].mode) && r->ix.marks)   /* (another meaning) */
            memset(r->ix.marks, 0, sizeof *r->ix.marks * (size_t)r->ix.nsym * IV_COUNT);
        r->ix.mode = index_mode_of(defs[i].mode);
        snprintf(r->label, sizeof r->label, "%s", defs[i].label ? defs[i].label : r->name);
        snprintf(r->unit, sizeof r->unit, "%s", defs[i].unit ? defs[i].unit : "");
        snprintf(r->prompt, sizeof r->prompt, "%s", defs[i].prompt ? defs[i].prompt : "");
        r->def.name = r->name;
        r->def.label = r->label;
        r->def.unit = r->unit;
        r->def.prompt = r->prompt;
    }
    /* presets of a rule that just appeared */
    for (uint32_t i = 0; i < e->nsubs; i++)
        if (e->subs[i] && e->subs[i]->rule_slot < 0) {
            e->subs[i]->rule_slot = alert_rule_slot(e, e->subs[i]->rule, 1);
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
