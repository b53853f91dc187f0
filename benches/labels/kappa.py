#!/usr/bin/env python3
"""Agreement of two independent labellings of one log (python3 standard library only).

    benches/labels/kappa.py A.tsv B.tsv [--disagreements]

Both files follow BRIEF.md (one row per client-day, keyed by its first line). Prints, as one
tab-separated line: client-days in both, Cohen's kappa of the verdict (human or bot) over them,
the share of client-days with the same verdict, human page views of A and of B, page-view lines
both mark, Cohen's kappa of "is a human page view" over every line of the log, and the client-days
with a page view in either labelling (the ones the figures depend on) with how many of them get
different verdicts (kappa is no use on them: almost all are people's). With --disagreements, then lists each client-day whose
verdict differs, with both reasons, for adjudication.
"""
import sys


def read(path):
    rows = {}
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            if not line.strip():
                continue
            cells = dict(zip(header, line.rstrip("\n").split("\t")))
            lines = {int(n) for n in cells.get("pageview_lines", "").split(",") if n.strip()}
            rows[int(cells["first_line"])] = {
                "verdict": cells["verdict"].strip(),
                "class": cells.get("class", ""),
                "lines": int(cells.get("lines", "0") or 0),
                "pageviews": lines,
                "reason": cells.get("reason", ""),
                "day": cells.get("day", ""),
            }
    return rows


def kappa(pairs):
    """Cohen's kappa of a list of (a, b) boolean pairs."""
    n = len(pairs)
    if n == 0:
        return float("nan")
    agree = sum(1 for a, b in pairs if a == b) / n
    pa = sum(1 for a, _ in pairs if a) / n
    pb = sum(1 for _, b in pairs if b) / n
    chance = pa * pb + (1 - pa) * (1 - pb)
    return 1.0 if chance == 1 else (agree - chance) / (1 - chance)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    a, b = read(args[0]), read(args[1])
    both = sorted(set(a) & set(b))
    verdicts = [(a[k]["verdict"] == "human", b[k]["verdict"] == "human") for k in both]
    same = sum(1 for x, y in verdicts if x == y)
    pv_a = set().union(*(r["pageviews"] for r in a.values() if r["verdict"] == "human"))
    pv_b = set().union(*(r["pageviews"] for r in b.values() if r["verdict"] == "human"))
    total = max(sum(r["lines"] for r in a.values()), sum(r["lines"] for r in b.values()))
    viewed = [k for k in both if a[k]["pageviews"] or b[k]["pageviews"]]
    print("\t".join(str(x) for x in [
        len(both),
        "%.3f" % kappa(verdicts),
        "%.3f" % (same / len(both) if both else float("nan")),
        len(pv_a),
        len(pv_b),
        len(pv_a & pv_b),
        "%.3f" % kappa([(n in pv_a, n in pv_b) for n in range(1, total + 1)]),
        len(viewed),
        sum(1 for k in viewed if a[k]["verdict"] != b[k]["verdict"]),
    ]))
    if "--disagreements" in sys.argv:
        for k in both:
            if a[k]["verdict"] != b[k]["verdict"]:
                print("%d\t%s\tA %s/%s: %s\tB %s/%s: %s" % (
                    k, a[k]["day"], a[k]["verdict"], a[k]["class"], a[k]["reason"],
                    b[k]["verdict"], b[k]["class"], b[k]["reason"]))


if __name__ == "__main__":
    main()
