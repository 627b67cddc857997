#!/usr/bin/python3
"""dashboard.py - the Grafana dashboard of the plugin's Prometheus series (conf/grafana-mqttip.json)
without Grafana: its panels' queries evaluated on textfiles the plugin wrote.

  dashboard.py check DASHBOARD TEXTFILE [TEXTFILE...]
      Every query of the dashboard is parsed (the PromQL subset below), every series it selects
      exists in the textfiles (sample lines, not only HELP), and evaluated over the textfiles (in
      order, as snapshots 'interval' seconds apart; rates need two) every query gives a value.
      Exit status 1 with one line per problem.
  dashboard.py render DASHBOARD RECORDING OUT.png
      Draws the dashboard's panels, laid out by their gridPos, from a recording: snapshots of the
      textfile, each preceded by a line "# mqttip-recording time=UNIX" (scripts/
      dashboard-record.sh makes one). Needs python3-matplotlib.

The PromQL subset, what the dashboard uses: a selector NAME{label="v",label!="v"}, rate(SEL[W])
and increase(SEL[W]) with W like 1m or $__rate_interval (4 snapshot intervals, as Grafana picks
for a 15 s scrape), and sum/count/max [by (labels)] (EXPR). Anything else is refused, so the
dashboard cannot use a query this script would draw wrongly.
"""
import json
import re
import sys

# ---------------------------------------------------------------------------------------------
# Textfiles


def parse_textfile(text, where):
    """{(name, frozenset(labels.items())): value} of the sample lines of a Prometheus textfile."""
    samples = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? +([-+0-9.eEinfINFaN]+)( +-?\d+)?', line)
        if not m:
            raise ValueError("%s:%d: not a sample line: %r" % (where, n, line))
        labels = {}
        if m.group(3):
            for lm in re.finditer(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3)):
                labels[lm.group(1)] = re.sub(r'\\(.)', lambda e: "\n" if e.group(1) == "n" else e.group(1), lm.group(2))
        samples[(m.group(1), frozenset(labels.items()))] = float(m.group(4))
    return samples


def parse_recording(text, where):
    """[(time, samples)] from snapshots separated by '# mqttip-recording time=T' lines."""
    snaps, cur, t = [], [], None
    for line in text.splitlines():
        m = re.fullmatch(r"# mqttip-recording time=(\d+)", line)
        if m:
            if t is not None:
                snaps.append((t, parse_textfile("\n".join(cur), where)))
            t, cur = int(m.group(1)), []
        else:
            cur.append(line)
    if t is not None:
        snaps.append((t, parse_textfile("\n".join(cur), where)))
    if len(snaps) < 2:
        raise ValueError("%s: fewer than two snapshots" % where)
    return snaps


# ---------------------------------------------------------------------------------------------
# The PromQL subset: parse into a tree, evaluate at one time over the snapshots.

TOKEN = re.compile(r'\s*(?:(?P<dur>\[[^\]]+\])|(?P<str>"(?:[^"\\]|\\.)*")|(?P<op>!=|=|[(){},])|(?P<id>[a-zA-Z_:][a-zA-Z0-9_:]*))')
AGGS = ("sum", "count", "max")
FUNCS = ("rate", "increase")


class Query:
    def __init__(self, text, rate_interval):
        self.text, self.toks, self.i = text, [], 0
        pos = 0
        while pos < len(text.rstrip()):
            m = TOKEN.match(text, pos)
            if not m or m.end() == pos:
                raise ValueError("cannot parse %r at %r" % (text, text[pos:]))
            kind = m.lastgroup
            self.toks.append((kind, m.group(kind)))
            pos = m.end()
        self.rate_interval = rate_interval
        self.tree = self.expr()
        if self.i != len(self.toks):
            raise ValueError("%r: unexpected %r" % (text, self.toks[self.i][1]))

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self, value=None, kind=None):
        k, v = self.peek()
        if (value is not None and v != value) or (kind is not None and k != kind):
            raise ValueError("%r: expected %s, found %r" % (self.text, value or kind, v))
        self.i += 1
        return v

    def expr(self):
        k, v = self.peek()
        if k == "id" and v in AGGS:
            self.take()
            by = None
            if self.peek()[1] == "by":
                self.take()
                self.take("(")
                by = [self.take(kind="id")]
                while self.peek()[1] == ",":
                    self.take()
                    by.append(self.take(kind="id"))
                self.take(")")
            self.take("(")
            inner = self.expr()
            self.take(")")
            return ("agg", v, by, inner)
        if k == "id" and v in FUNCS:
            self.take()
            self.take("(")
            sel = self.selector()
            window = self.take(kind="dur")[1:-1]
            self.take(")")
            return ("func", v, sel, self.seconds(window))
        if k == "id":
            return self.selector()
        raise ValueError("%r: unsupported at %r" % (self.text, v))

    def selector(self):
        name = self.take(kind="id")
        if name in AGGS + FUNCS:
            raise ValueError("%r: %s is not a series" % (self.text, name))
        matchers = []
        if self.peek()[1] == "{":
            self.take()
            while self.peek()[1] != "}":
                label = self.take(kind="id")
                op = self.take()
                if op not in ("=", "!="):
                    raise ValueError("%r: matcher %r unsupported" % (self.text, op))
                value = json.loads(self.take(kind="str"))
                matchers.append((label, op, value))
                if self.peek()[1] == ",":
                    self.take()
            self.take("}")
        return ("sel", name, matchers)

    def seconds(self, window):
        if window == "$__rate_interval":
            return self.rate_interval
        m = re.fullmatch(r"(\d+)([smh])", window)
        if not m:
            raise ValueError("%r: window %r unsupported" % (self.text, window))
        return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600}[m.group(2)]

    def selectors(self, node=None):
        node = node or self.tree
        if node[0] == "sel":
            return [node]
        if node[0] == "func":
            return [node[2]]
        return self.selectors(node[3])

    @staticmethod
    def matches(sel, key):
        name, labels = key[0], dict(key[1])
        if name != sel[1]:
            return False
        for label, op, value in sel[2]:
            if (labels.get(label, "") == value) != (op == "="):
                return False
        return True

    def evaluate(self, snaps, at):
        """{labels frozenset: value} at index 'at' of snaps ([(time, samples)])."""
        return self.eval_node(self.tree, snaps, at)

    def eval_node(self, node, snaps, at):
        if node[0] == "sel":
            return {k[1]: v for k, v in snaps[at][1].items() if self.matches(node, k)}
        if node[0] == "func":
            _, fn, sel, window = node
            t = snaps[at][0]
            inside = [s for s in snaps[: at + 1] if s[0] > t - window - 1e-9]
            if len(inside) < 2:
                return {}
            out = {}
            for key in {k for _, samples in inside for k in samples if self.matches(sel, k)}:
                pts = [(ts, samples[key]) for ts, samples in inside if key in samples]
                if len(pts) < 2:
                    continue
                inc = 0.0
                for (_, a), (_, b) in zip(pts, pts[1:]):
                    inc += b - a if b >= a else b  # a counter reset starts again from 0
                span = pts[-1][0] - pts[0][0]
                out[key[1]] = inc / span if fn == "rate" else inc * window / span
            return out
        _, agg, by, inner = node
        groups = {}
        for labels, v in self.eval_node(inner, snaps, at).items():
            key = frozenset((k, v2) for k, v2 in labels if by and k in by)
            groups.setdefault(key, []).append(v)
        return {k: (sum(vs) if agg == "sum" else len(vs) if agg == "count" else max(vs)) for k, vs in groups.items()}


def targets(dashboard):
    for panel in dashboard["panels"]:
        for t in panel.get("targets", []):
            yield panel, t


def legend(fmt, labels):
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: dict(labels).get(m.group(1), ""), fmt or "") or "value"


# ---------------------------------------------------------------------------------------------
# check


def check(dashboard_path, textfiles):
    dashboard = json.load(open(dashboard_path))
    snaps = []
    for i, path in enumerate(textfiles):
        snaps.append((i * 10, parse_textfile(open(path).read(), path)))
    problems, n = [], 0
    for panel, target in targets(dashboard):
        n += 1
        before = len(problems)
        what = "panel %r query %r" % (panel["title"], target.get("expr"))
        try:
            q = Query(target["expr"], 40)
        except (ValueError, KeyError) as e:
            problems.append("%s: %s" % (what, e))
            continue
        for sel in q.selectors():
            name = sel[1]
            if not any(k[0] == name for s in snaps for k in s[1]):
                problems.append("%s: no series %s in the plugin's textfile" % (what, name))
            elif not any(Query.matches(sel, k) for s in snaps for k in s[1]):
                problems.append("%s: no series of %s matches %s" % (what, name, sel[2]))
        if len(problems) == before and len(snaps) >= 2 and not q.evaluate(snaps, len(snaps) - 1):
            problems.append("%s: gives no value over the textfiles" % what)
    for p in problems:
        print("FAIL: " + p, file=sys.stderr)
    print("%d queries of %d panels, %d problems" % (n, len(dashboard["panels"]), len(problems)))
    return 1 if problems else 0


# ---------------------------------------------------------------------------------------------
# render

UNITS = {"Bps": ("B/s", 1024, ["", "Ki", "Mi", "Gi"]), "short": ("", 1000, ["", "k", "M", "G"]), "none": ("", 1000, ["", "k", "M", "G"])}


def human(v, unit):
    suffix, base, prefixes = UNITS.get(unit, UNITS["short"])
    p = 0
    while abs(v) >= base and p < len(prefixes) - 1:
        v, p = v / base, p + 1
    return ("%.3g %s%s" % (v, prefixes[p], suffix)).strip()


def render(dashboard_path, recording_path, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    dashboard = json.load(open(dashboard_path))
    snaps = parse_recording(open(recording_path).read(), recording_path)
    step = min(b[0] - a[0] for a, b in zip(snaps, snaps[1:])) or 1
    t0 = snaps[0][0]
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in dashboard["panels"])
    plt.style.use("dark_background")
    colors = ["#73bf69", "#f2cc0c", "#8ab8ff", "#ff780a", "#f2495c", "#5794f2", "#b877d9", "#fade2a"]
    fig = plt.figure(figsize=(16, rows * 0.5), facecolor="#111217")
    fig.suptitle("%s  (rendered from a recorded plugin textfile, %d s)" % (dashboard["title"], snaps[-1][0] - t0),
                 color="#ccccdc", fontsize=13, x=0.01, ha="left")
    width_in, height_in = fig.get_size_inches()
    top = 1 - 0.5 / height_in  # below the figure's title
    unit_w, unit_h = 1 / 24, top / rows
    for panel in dashboard["panels"]:
        # Grafana's grid: 24 columns, rows of equal height; room inside for title and ticks.
        g = panel["gridPos"]
        left = g["x"] * unit_w + 0.65 / width_in
        bottom = top - (g["y"] + g["h"]) * unit_h + 0.3 / height_in
        ax = fig.add_axes([left, bottom, g["w"] * unit_w - 0.75 / width_in, g["h"] * unit_h - 0.6 / height_in])
        ax.set_facecolor("#181b1f")
        for side in ax.spines.values():
            side.set_color("#2c3235")
        ax.set_title(panel["title"], loc="left", color="#ccccdc", fontsize=10)
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "short")
        if panel["type"] == "stat":
            q = Query(panel["targets"][0]["expr"], 4 * step)
            values = q.evaluate(snaps, len(snaps) - 1)
            v = sum(values.values()) if values else 0
            ax.text(0.5, 0.45, human(v, unit), ha="center", va="center", fontsize=30, color=colors[0], transform=ax.transAxes)
            ax.set_xticks([])
            ax.set_yticks([])
            continue
        k = 0
        for target in panel["targets"]:
            q = Query(target["expr"], 4 * step)
            series = {}
            for i, (t, _) in enumerate(snaps):
                for labels, v in q.evaluate(snaps, i).items():
                    series.setdefault(labels, []).append((t - t0, v))
            for labels in sorted(series, key=lambda ls: sorted(ls)):
                pts = series[labels]
                c = colors[k % len(colors)]
                k += 1
                ax.plot([p[0] for p in pts], [p[1] for p in pts], color=c, linewidth=1.2, label=legend(target.get("legendFormat"), labels))
                ax.fill_between([p[0] for p in pts], [p[1] for p in pts], color=c, alpha=0.1)
        ax.set_ylim(bottom=0)
        ax.tick_params(colors="#8e8e8e", labelsize=7)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p, u=unit: human(v, u)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: "%d s" % v))
        ax.grid(color="#2c3235", linewidth=0.5)
        if k:
            ax.legend(loc="upper left", fontsize=7, frameon=False, ncol=4, labelcolor="#ccccdc")
    fig.savefig(out, dpi=80, facecolor=fig.get_facecolor())
    print("%s: %d panels, %d snapshots" % (out, len(dashboard["panels"]), len(snaps)))
    return 0


def main(argv):
    if len(argv) >= 4 and argv[1] == "check":
        return check(argv[2], argv[3:])
    if len(argv) == 5 and argv[1] == "render":
        return render(argv[2], argv[3], argv[4])
    print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (OSError, ValueError) as e:
        print("dashboard.py: %s" % e, file=sys.stderr)
        sys.exit(1)
