#!/usr/bin/env python3
"""The truth of a log labelled twice (python3 standard library only).

    benches/labels/adjudicate.py A.tsv B.tsv DECISIONS.tsv OUT.tsv

Rows on which both labellers give the same verdict are taken from A. Every client-day whose
verdict differs must be settled in DECISIONS.tsv, one row `first_line<TAB>A|B<TAB>why`, and the
row of the labeller named is taken; a decision may also pick B's row of a client-day both call
the same but count differently. A row `*<TAB>A|B<TAB>why` settles every disagreement on a
client-day that neither labeller gives a page view (no figure depends on those). Refuses (exit 1)
when a disagreement is left unsettled.
"""
import sys


def read(path):
    with open(path, encoding="utf-8") as f:
        header = f.readline()
        rows = {}
        for line in f:
            if line.strip():
                cells = line.rstrip("\n").split("\t")
                rows[int(cells[0])] = cells
    return header, rows


def main():
    a_path, b_path, decisions_path, out_path = sys.argv[1:5]
    header, a = read(a_path)
    _, b = read(b_path)
    decisions = {}
    with open(decisions_path, encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                first, who, why = line.rstrip("\n").split("\t", 2)
                decisions[first if first == "*" else int(first)] = (who, why)
    default = decisions.pop("*", None)
    only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    if only_a or only_b:
        # A line one labeller could not read (a truncated one) is a client-day of the other only.
        print("client-days of one labelling only, taken as they are: A %s, B %s" % (only_a, only_b))
    out = [a[k] for k in only_a] + [b[k] for k in only_b]
    for k in sorted(set(a) & set(b)):
        differ = a[k][3] != b[k][3]
        no_views = a[k][5] in ("", "0") and b[k][5] in ("", "0")
        if differ and k not in decisions and default and no_views:
            decisions[k] = default
        if differ and k not in decisions:
            sys.exit("client-day %d: A says %s, B says %s; settle it in %s" % (k, a[k][3], b[k][3], decisions_path))
        if k in decisions and decisions[k][0] not in ("A", "B"):
            sys.exit("client-day %d: a decision must name A or B" % k)
        if k in decisions:
            out.append(a[k] if decisions[k][0] == "A" else b[k])
        else:
            out.append(a[k])
    out.sort(key=lambda row: int(row[0]))
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(header)
        for row in out:
            f.write("\t".join(row) + "\n")
    print("%d client-days, %d settled by decision" % (len(out), sum(1 for k in a if k in decisions)))


if __name__ == "__main__":
    main()
