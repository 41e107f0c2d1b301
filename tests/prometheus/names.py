#!/usr/bin/env python3
"""The metric names that deploy/'s dashboard and rules use, checked
against a /metrics scrape.

names.py dashboard DASHBOARD.json  -> the dashboard's problems, one a line
names.py asrules DASHBOARD.json -> the dashboard's queries as a rule file
    (its variables given values) for `promtool check rules` to parse
names.py check METRICS.txt DASHBOARD.json RULES.yml
    -> each metric name used that METRICS.txt does not serve, one a line
Names are the identifiers of the expressions outside quoted strings that
start with candlewatch_ (what the bot serves) or are Prometheus's own `up`;
`{__name__=~"..."}` selectors (the script metrics that may or may not be
there) are left out.  Exit status 0 whatever was found; the test reads the
output."""
import json
import re
import sys

PROMETHEUS_OWN = {"up"}


def dashboard_exprs(path):
    with open(path) as f:
        dash = json.load(f)
    out = []
    for p in dash.get("panels", []):
        for t in p.get("targets", []):
            out.append(t.get("expr", ""))
    for v in dash.get("templating", {}).get("list", []):
        q = v.get("query")
        if v.get("type") == "query":
            out.append(q["query"] if isinstance(q, dict) else q)
    return out


def rules_exprs(path):
    """The rules' `expr:` values (one line each in our file; a block scalar
    is refused rather than half read)."""
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            m = re.match(r"\s*expr:\s*(.*)$", line)
            if m:
                e = m.group(1).strip()
                if e in ("|", ">", "|-", ">-") or not e:
                    sys.exit("%s:%d: multi-line expr: not read by names.py" % (path, n))
                out.append(e)
    return out


def names_in(expr):
    expr = re.sub(r"label_values\(([^,)]*)(,[^)]*)?\)", r"\1", expr)
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    bare = re.sub(r"\{[^}]*\}", "{}", bare)   # label names are not metrics
    found = set(re.findall(r"(?<![\w:$])([a-zA-Z_][a-zA-Z0-9_]*)(?![\w(])", bare))
    return {n for n in found if n.startswith("candlewatch_") or n in PROMETHEUS_OWN}


def served(path):
    names = set()
    with open(path) as f:
        for line in f:
            if line.startswith("# TYPE "):
                names.add(line.split()[2])
            elif line.strip() and not line.startswith("#"):
                names.add(re.split(r"[{ ]", line, 1)[0])
    return names


def dashboard_problems(path):
    try:
        with open(path) as f:
            dash = json.load(f)
    except ValueError as e:
        return ["not valid JSON: %s" % e]
    probs = []
    if not isinstance(dash.get("schemaVersion"), int):
        probs.append("no schemaVersion")
    variables = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
    if variables.get("datasource", {}).get("type") != "datasource" or \
            variables["datasource"].get("query") != "prometheus":
        probs.append("no datasource variable of type prometheus")
    for name in ("job", "instance"):
        if name not in variables:
            probs.append("no %s variable" % name)
    ids = set()
    for p in dash.get("panels", []):
        title = p.get("title", "?")
        if p.get("id") in ids:
            probs.append("panel %s: id %s twice" % (title, p.get("id")))
        ids.add(p.get("id"))
        if "gridPos" not in p:
            probs.append("panel %s: no gridPos" % title)
        if p.get("type") == "row":
            continue
        if p.get("datasource", {}).get("uid") != "${datasource}":
            probs.append("panel %s: its datasource is not ${datasource}" % title)
        if not p.get("targets"):
            probs.append("panel %s: no query" % title)
        for t in p.get("targets", []):
            if t.get("datasource", {}).get("uid") != "${datasource}":
                probs.append("panel %s: query %s: datasource is not ${datasource}" % (title, t.get("refId")))
            if not t.get("expr"):
                probs.append("panel %s: query %s: no expr" % (title, t.get("refId")))
            elif 'job=~"$job"' not in t["expr"] or 'instance=~"$instance"' not in t["expr"]:
                probs.append("panel %s: query %s: not filtered by $job and $instance" % (title, t.get("refId")))
    return probs


def main(argv):
    if argv[1] == "dashboard":
        print("\n".join(dashboard_problems(argv[2])))
    elif argv[1] == "asrules":
        print("groups:\n  - name: dashboard\n    rules:")
        for i, e in enumerate(dashboard_exprs(argv[2])):
            if e.startswith("label_values("):
                continue
            e = e.replace("$__rate_interval", "5m").replace("$job", ".*").replace("$instance", ".*")
            print("      - record: dashboard:query%d\n        expr: %s" % (i, json.dumps(e)))
    elif argv[1] == "check":
        have = served(argv[2])
        used = set()
        for e in dashboard_exprs(argv[3]) + rules_exprs(argv[4]):
            used |= names_in(e)
        missing = sorted(n for n in used if n not in have and n not in PROMETHEUS_OWN)
        print("\n".join(missing))
        print("%d names used" % len(used), file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
