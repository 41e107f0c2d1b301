#!/usr/bin/env python3
"""Writes deploy/grafana/candlewatch.json, the Grafana dashboard over
candlewatch's /metrics: edit the panels here, then
    python3 deploy/grafana/make_dashboard.py > deploy/grafana/candlewatch.json
(tests/e2e/monitoring.sh checks that the two agree and that every name used
is one /metrics serves).  Every query goes through the `datasource` variable
and filters on $job and $instance."""
import json
DS = {"type": "prometheus", "uid": "${datasource}"}
SEL = 'job=~"$job",instance=~"$instance"'
RI = '$__rate_interval'
panels = []
pid = [0]
y = [0]
x = [0]
rowh = [0]

def nid():
    pid[0] += 1
    return pid[0]

def row(title):
    if x[0]:
        y[0] += rowh[0]; x[0] = 0; rowh[0] = 0
    panels.append({"type": "row", "title": title, "id": nid(), "collapsed": False,
                   "gridPos": {"h": 1, "w": 24, "x": 0, "y": y[0]}, "panels": []})
    y[0] += 1

def place(w, h):
    if x[0] + w > 24:
        y[0] += rowh[0]; x[0] = 0; rowh[0] = 0
    g = {"h": h, "w": w, "x": x[0], "y": y[0]}
    x[0] += w; rowh[0] = max(rowh[0], h)
    return g

def target(expr, legend, ref):
    return {"datasource": DS, "expr": expr, "legendFormat": legend, "refId": ref, "range": True}

def ts(title, desc, targets, unit="short", w=8, h=8, stack=False, min0=True):
    t = [target(e, l, chr(65 + i)) for i, (e, l) in enumerate(targets)]
    defaults = {"unit": unit, "custom": {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10,
                                          "showPoints": "never", "spanNulls": False,
                                          "stacking": {"mode": "normal" if stack else "none", "group": "A"}}}
    if min0:
        defaults["min"] = 0
    panels.append({"type": "timeseries", "title": title, "description": desc, "id": nid(),
                   "datasource": DS, "gridPos": place(w, h), "targets": t,
                   "fieldConfig": {"defaults": defaults, "overrides": []},
                   "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                               "tooltip": {"mode": "multi", "sort": "desc"}}})

def stat(title, desc, expr, unit="short", w=4, h=4, legend="{{instance}}", thresholds=None):
    steps = thresholds or [{"color": "green", "value": None}]
    panels.append({"type": "stat", "title": title, "description": desc, "id": nid(),
                   "datasource": DS, "gridPos": place(w, h), "targets": [target(expr, legend, "A")],
                   "fieldConfig": {"defaults": {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps}},
                                   "overrides": []},
                   "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                               "colorMode": "value", "graphMode": "area", "textMode": "auto",
                               "justifyMode": "auto", "orientation": "auto"}})

def quantiles(metric):
    b = 'sum by (instance, le) (rate(%s_bucket{%s}[%s]))' % (metric, SEL, RI)
    return [("histogram_quantile(%s, %s)" % (q, b), "p%s {{instance}}" % p) for q, p in
            (("0.5", "50"), ("0.9", "90"), ("0.99", "99"))]

def red(v): return {"color": "red", "value": v}
def green(): return {"color": "green", "value": None}

row("Overview")
stat("Up", "The scrape of /metrics succeeds (Prometheus's own `up`).", 'up{%s}' % SEL,
     thresholds=[{"color": "red", "value": None}, {"color": "green", "value": 1}])
stat("Uptime", "Since the process started.", 'time() - candlewatch_start_time_seconds{%s}' % SEL, unit="s")
stat("Live exchange connections", "0 while the feed is down.", 'candlewatch_websocket_connections_live{%s}' % SEL,
     thresholds=[{"color": "red", "value": None}, {"color": "green", "value": 1}])
stat("Telegram queue", "Messages waiting to be sent.", 'candlewatch_telegram_queue_depth{%s}' % SEL,
     thresholds=[green(), {"color": "orange", "value": 100}, red(1000)])
stat("Alerts fired (1 h)", "Alerts the rules fired in the last hour.",
     'increase(candlewatch_alerts_fired_total{%s}[1h])' % SEL, unit="none")
stat("Resident memory", "admin.memory_mb (1024 MB by default) tells the admins.",
     'candlewatch_resident_memory_bytes{%s}' % SEL, unit="bytes",
     thresholds=[green(), {"color": "orange", "value": 805306368}, red(1073741824)])

row("Market feed")
ts("Frames received", "Kline frames from the exchange, a second.",
   [('sum by (instance) (rate(candlewatch_candle_messages_received_total{%s}[%s]))' % (SEL, RI), "frames/s {{instance}}"),
    ('sum by (instance) (rate(candlewatch_candles_closed_total{%s}[%s]))' % (SEL, RI), "candles closed/s {{instance}}"),
    ('sum by (instance) (rate(candlewatch_candles_backfilled_total{%s}[%s]))' % (SEL, RI), "backfilled/s {{instance}}")],
   unit="ops")
ts("Frames dropped", "Garbage from the exchange, by reason; and candle events dropped by a full queue.",
   [('sum by (instance, reason) (rate(candlewatch_candle_messages_dropped_total{%s}[%s])) > 0' % (SEL, RI), "{{reason}} {{instance}}"),
    ('rate(candlewatch_candle_events_dropped_total{%s}[%s]) > 0' % (SEL, RI), "events dropped {{instance}}")],
   unit="ops")
ts("Connections", "Open and live exchange connections.",
   [('candlewatch_websocket_connections{%s}' % SEL, "open {{instance}}"),
    ('candlewatch_websocket_connections_live{%s}' % SEL, "live {{instance}}"),
    ('candlewatch_symbols_ranked{%s}' % SEL, "symbols ranked {{instance}}")])
ts("Reconnects", "Reconnects and planned rotations of exchange connections; REST 429/418.",
   [('increase(candlewatch_websocket_reconnects_total{%s}[%s])' % (SEL, RI), "reconnects {{instance}}"),
    ('increase(candlewatch_websocket_rotations_total{%s}[%s])' % (SEL, RI), "rotations {{instance}}"),
    ('increase(candlewatch_rest_rate_limited_total{%s}[%s])' % (SEL, RI), "REST rate limited {{instance}}")])

row("Alerts")
ts("Alerts fired and sent", "Alerts the rules fired, and alert messages Telegram accepted.",
   [('sum by (instance) (rate(candlewatch_alerts_fired_total{%s}[%s]))' % (SEL, RI), "fired {{instance}}"),
    ('sum by (instance) (rate(candlewatch_alerts_sent_total{%s}[%s]))' % (SEL, RI), "sent {{instance}}"),
    ('sum by (instance) (rate(candlewatch_alerts_duplicates_suppressed_total{%s}[%s]))' % (SEL, RI), "duplicates suppressed {{instance}}"),
    ('sum by (instance) (rate(candlewatch_alerts_late_total{%s}[%s]))' % (SEL, RI), "late {{instance}}"),
    ('sum by (instance) (rate(candlewatch_alerts_held_total{%s}[%s]))' % (SEL, RI), "held (paused) {{instance}}")],
   unit="ops")
ts("Frame → alert latency", "From a candle event's arrival to its alerts queued for Telegram (candlewatch_frame_alert_seconds).",
   quantiles("candlewatch_frame_alert_seconds"), unit="s")
ts("Rule work", "Candle events handed to the rules, values computed, subscriptions visited.",
   [('sum by (instance) (rate(candlewatch_candle_events_total{%s}[%s]))' % (SEL, RI), "events {{instance}}"),
    ('sum by (instance) (rate(candlewatch_rule_evaluations_total{%s}[%s]))' % (SEL, RI), "evaluations {{instance}}"),
    ('sum by (instance) (rate(candlewatch_subscriptions_visited_total{%s}[%s]))' % (SEL, RI), "subscriptions visited {{instance}}")],
   unit="ops")

row("Telegram")
ts("Queue depth", "Messages waiting in the outbox (candlewatch_telegram_queue_depth).",
   [('candlewatch_telegram_queue_depth{%s}' % SEL, "queued {{instance}}"),
    ('candlewatch_telegram_inactive_chats{%s}' % SEL, "inactive chats {{instance}}")])
ts("Oldest queued message", "How long the oldest message has waited to be sent.",
   [('candlewatch_telegram_queue_oldest_seconds{%s}' % SEL, "{{instance}}")], unit="s")
ts("Update → reply latency", "From a Telegram update's arrival to its reply's delivery (candlewatch_update_reply_seconds).",
   quantiles("candlewatch_update_reply_seconds"), unit="s")
ts("Bot API requests by method and result", "Requests a second; anything but ok is worth a look.",
   [('sum by (method, result) (rate(candlewatch_telegram_requests_total{%s}[%s]))' % (SEL, RI), "{{method}} {{result}}")],
   unit="reqps", w=12)
ts("Delivery problems", "429s (flood control), messages given up on, merged alerts, replies taken back.",
   [('sum by (instance) (increase(candlewatch_telegram_rate_limited_total{%s}[%s]))' % (SEL, RI), "429 {{instance}}"),
    ('sum by (instance) (increase(candlewatch_telegram_dropped_total{%s}[%s]))' % (SEL, RI), "dropped {{instance}}"),
    ('sum by (instance) (increase(candlewatch_telegram_merged_alerts_total{%s}[%s]))' % (SEL, RI), "merged alerts {{instance}}"),
    ('sum by (instance) (increase(candlewatch_telegram_retracted_total{%s}[%s]))' % (SEL, RI), "retracted {{instance}}"),
    ('sum by (instance) (rate(candlewatch_telegram_messages_sent_total{%s}[%s]))' % (SEL, RI), "sent/s {{instance}}")],
   w=12)

row("Process and database")
ts("Memory", "Resident memory of the process, and the Lua state's (lua.memory_mb caps it).",
   [('candlewatch_resident_memory_bytes{%s}' % SEL, "resident {{instance}}"),
    ('candlewatch_lua_memory_bytes{%s}' % SEL, "Lua {{instance}}")], unit="bytes")
ts("SQLite commit time", "Each commit's duration, and the longest of the last 10-20 s; errors.",
   quantiles("candlewatch_sqlite_commit_seconds") +
   [('candlewatch_sqlite_commit_max_seconds{%s}' % SEL, "max {{instance}}"),
    ('increase(candlewatch_sqlite_errors_total{%s}[%s])' % (SEL, RI), "errors {{instance}}")], unit="s")
ts("Loop turns", "The work between two waits for I/O; long turns delay everything.",
   [('histogram_quantile(0.99, sum by (instance, le) (rate(candlewatch_loop_turn_seconds_bucket{%s}[%s])))' % (SEL, RI), "p99 {{instance}}"),
    ('candlewatch_loop_turn_max_seconds{%s}' % SEL, "max {{instance}}")], unit="s")
ts("HTTP and admin diagnostics", "HTTP connections open and refused; diagnostics sent to the admins.",
   [('candlewatch_http_connections{%s}' % SEL, "HTTP open {{instance}}"),
    ('sum by (instance, reason) (increase(candlewatch_http_connections_refused_total{%s}[%s]))' % (SEL, RI), "refused {{reason}} {{instance}}"),
    ('increase(candlewatch_admin_messages_total{%s}[%s])' % (SEL, RI), "admin messages {{instance}}"),
    ('sum by (instance, result) (increase(candlewatch_admin_emails_total{%s}[%s]))' % (SEL, RI), "e-mails {{result}} {{instance}}")],
   w=12)
ts("Presets and subscriptions", "The alert engine's size.",
   [('candlewatch_presets{%s}' % SEL, "presets {{instance}}"),
    ('candlewatch_subscriptions{%s}' % SEL, "subscriptions {{instance}}")], w=12)

row("Scripts")
ts("Script errors", "Run-time errors by script (tracebacks in the log).",
   [('sum by (script) (increase(candlewatch_script_errors_total{%s}[%s]))' % (SEL, RI), "{{script}}")], w=8)
ts("Gas", "Gas readings taken, and failed calls by source (scripts/gas.lua; only with gas.enabled).",
   [('increase(candlewatch_script_gas_readings_total{%s}[%s])' % (SEL, RI), "readings {{instance}}"),
    ('increase(candlewatch_script_gas_etherscan_errors_total{%s}[%s])' % (SEL, RI), "Etherscan errors {{instance}}"),
    ('increase(candlewatch_script_gas_rpc_errors_total{%s}[%s])' % (SEL, RI), "RPC errors {{instance}}")], w=8)
ts("Rate sources", "/rate's sources (candlewatch_script_rate_*): errors a source and circuit breakers (0 closed, 1 half-open, 2 open); empty without them.",
   [('sum by (metric) (increase(label_replace({__name__=~"candlewatch_script_rate_.+_errors_total",%s}, "metric", "$1", "__name__", "candlewatch_script_(.+)")[%s:]))' % (SEL, RI), "{{metric}}"),
    ('max by (__name__) ({__name__=~"candlewatch_script_rate_.+_breaker",%s})' % SEL, "{{__name__}}")], w=8)
ts("Other script counters", "Every counter a script made with metrics.counter, a second (a subquery: the names differ).",
   [('sum by (metric) (rate(label_replace({__name__=~"candlewatch_script_.+_total",__name__!="candlewatch_script_errors_total",%s}, "metric", "$1", "__name__", "candlewatch_script_(.+)")[%s:]))' % (SEL, RI), "{{metric}}")],
   unit="ops", w=12)
ts("Script gauges", "Every gauge a script made with metrics.gauge.",
   [('{__name__=~"candlewatch_script_.+",__name__!~".+_(total|bucket|sum|count)",%s}' % SEL, "{{__name__}} {{instance}}")],
   w=12, min0=False)

def var_query(name, label, query, multi=True):
    return {"name": name, "label": label, "type": "query", "datasource": DS,
            "definition": query, "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "refresh": 2, "sort": 1, "multi": multi, "includeAll": True, "allValue": ".*",
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]}, "hide": 0, "options": [], "regex": ""}

dash = {
    "__inputs": [],
    "__requires": [{"type": "grafana", "id": "grafana", "name": "Grafana", "version": "10.0.0"},
                   {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"},
                   {"type": "panel", "id": "timeseries", "name": "Time series", "version": ""},
                   {"type": "panel", "id": "stat", "name": "Stat", "version": ""}],
    "annotations": {"list": [{"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                              "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
                              "name": "Annotations & Alerts", "type": "dashboard"}]},
    "description": "candlewatch's /metrics: the market feed, alerts, Telegram delivery, latency, memory, SQLite and scripts. deploy/grafana/candlewatch.json in the candlewatch repository.",
    "editable": True, "fiscalYearStartMonth": 0, "graphTooltip": 1, "id": None, "links": [],
    "panels": panels, "refresh": "30s", "schemaVersion": 39, "tags": ["candlewatch"],
    "templating": {"list": [
        {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
         "current": {}, "hide": 0, "includeAll": False, "multi": False, "options": [], "refresh": 1, "regex": ""},
        var_query("job", "Job", "label_values(candlewatch_build_info, job)"),
        var_query("instance", "Instance", 'label_values(candlewatch_build_info{job=~"$job"}, instance)')]},
    "time": {"from": "now-6h", "to": "now"}, "timepicker": {}, "timezone": "utc",
    "title": "candlewatch", "uid": "candlewatch", "version": 1, "weekStart": ""}
print(json.dumps(dash, indent=2, ensure_ascii=False))
