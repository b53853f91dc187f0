#!/usr/bin/env python3
"""Lag of `logtally tail` from write to commit under a steady stream of appends.

    benches/tail_lag.py BIN [RATE] [SECONDS] [FLUSH]

A writer appends RATE lines/s (default 20,000) in 10 ms batches for SECONDS (default 30) while
`BIN tail --flush-interval FLUSH` follows the file; a monitor polls the committed line count in the
database every 20 ms. Each batch's lag is the time from its write to the first poll that sees it
committed. Prints p50/p99/max lag, the tail's CPU time and peak RSS (from /proc), and the largest
WAL seen.
"""
import os, random, signal, sqlite3, subprocess, sys, tempfile, threading, time

bin_path = sys.argv[1]
rate = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 30
flush = sys.argv[4] if len(sys.argv) > 4 else "5s"

work = tempfile.mkdtemp(prefix="tail-lag-")
log = os.path.join(work, "access.log")
db = os.path.join(work, "lag.db")
open(log, "w").close()

AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
]
PATHS = ["/", "/blog/", "/about", "/blog/post-%d", "/static/app.css", "/img/%d.png"]

tail = subprocess.Popen(
    [bin_path, "tail", "--db", db, "--flush-interval", flush] + os.environ.get("TAIL_ARGS", "").split() + [log],
    stderr=open(os.path.join(work, "tail.stderr"), "w"),
    env={**os.environ, "TZ": "UTC"},
)
time.sleep(0.5)

written = []  # (lines written so far, time)
committed = []  # (time, lines committed)
max_wal = 0
done = threading.Event()


def monitor():
    global max_wal
    conn = None
    while not done.is_set():
        try:
            if conn is None and os.path.exists(db):
                conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.01)
            if conn is not None:
                row = conn.execute("SELECT coalesce(sum(lines), 0) FROM files").fetchone()
                committed.append((time.monotonic(), row[0]))
        except sqlite3.Error:
            pass
        try:
            max_wal = max(max_wal, os.path.getsize(db + "-wal"))
        except OSError:
            pass
        time.sleep(0.02)


mon = threading.Thread(target=monitor)
mon.start()

rnd = random.Random(1)
batch = max(1, rate // 100)
total = 0
start = time.monotonic()
with open(log, "a") as f:
    while time.monotonic() - start < seconds:
        stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime())
        lines = []
        for _ in range(batch):
            ip = "10.%d.%d.%d" % (rnd.randrange(4), rnd.randrange(256), rnd.randrange(256))
            path = rnd.choice(PATHS)
            if "%d" in path:
                path = path % rnd.randrange(200)
            lines.append('%s - - [%s] "GET %s HTTP/1.1" 200 %d "-" "%s"\n'
                         % (ip, stamp, path, rnd.randrange(100, 90000), rnd.choice(AGENTS)))
        f.write("".join(lines))
        f.flush()
        total += batch
        written.append((total, time.monotonic()))
        next_at = start + len(written) * 0.01
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)

# Wait for the last line to be committed.
deadline = time.monotonic() + 30
while time.monotonic() < deadline and (not committed or committed[-1][1] < total):
    time.sleep(0.05)
done.set()
mon.join()

with open("/proc/%d/status" % tail.pid) as s:
    status = dict(l.split(":", 1) for l in s if ":" in l)
with open("/proc/%d/stat" % tail.pid) as s:
    fields = s.read().rsplit(")", 1)[1].split()
ticks = os.sysconf("SC_CLK_TCK")
cpu = (int(fields[11]) + int(fields[12])) / ticks
tail.send_signal(signal.SIGTERM)
tail.wait(timeout=5)

lags = []
ci = 0
for count, t in written:
    while ci < len(committed) and committed[ci][1] < count:
        ci += 1
    if ci == len(committed):
        break
    lags.append(max(0.0, committed[ci][0] - t))
lags.sort()
elapsed = written[-1][1] - start


def pct(p):
    return lags[min(len(lags) - 1, int(p * len(lags)))]


print("lines written      %d in %.1f s (%.0f lines/s)" % (total, elapsed, total / elapsed))
print("lines committed    %d" % (committed[-1][1] if committed else 0))
print("lag p50 / p99 / max %.2f / %.2f / %.2f s (flush interval %s)" % (pct(0.5), pct(0.99), lags[-1], flush))
print("tail CPU           %.2f s over %.1f s (%.1f%% of one core)" % (cpu, elapsed, 100 * cpu / elapsed))
print("tail peak RSS      %.1f MB" % (int(status["VmHWM"].split()[0]) / 1024))
print("largest WAL        %.1f MB" % (max_wal / 1e6))
