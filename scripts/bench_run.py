#!/usr/bin/python3
"""Measures painterc's benchmarks side by side and prints a table of ratios.

scripts/bench.sh checks the prerequisites, builds bin/benchmodel and
bin/ortlatency, makes a scratch directory and runs

  bench_run.py WORKDIR [--reps-fast=N] [--reps-slow=N] [--reps-ort=N]

which writes each section's models into WORKDIR (bin/benchmodel), measures,
and deletes them before the next section. Environment: BENCH_ONLY=abcd picks
sections; BENCH_PAINTERC=PATH measures another painterc build (A/B);
BENCH_RAW=FILE saves every sample as JSON.

Every contender of a comparison runs in the same process tree, one after the
other, in an order that rotates each round, under `/usr/bin/time -v` (peak
RSS); wall time is taken around each process with a monotonic clock, and the
median of the rounds is reported. Before every run of the file-writing
benchmarks the page cache's dirty pages are flushed (os.sync), so that one
contender's writeback does not land on the next one's clock; the inputs stay
in the page cache (they were just written), as they would be for a user who
compiles a model twice.
"""
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time

TIME = "/usr/bin/time"
PY = "/usr/bin/python3"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAINTERC = os.environ.get("BENCH_PAINTERC") or os.path.join(ROOT, "bin", "painterc")  # BENCH_PAINTERC: A/B another build
ORTLATENCY = os.path.join(ROOT, "bin", "ortlatency")
BENCHMODEL = os.path.join(ROOT, "bin", "benchmodel")
SKIP_PY = os.path.join(ROOT, "scripts", "bench_skip.py")


class Contender:
    def __init__(self, name, cmd, outputs=(), sync=False, json_out=False, keep=False):
        self.name, self.cmd, self.outputs = name, cmd, list(outputs)
        self.sync, self.json_out, self.keep = sync, json_out, keep
        self.walls, self.rss, self.reports, self.cpus = [], [], [], []

    def run(self):
        for o in self.outputs:
            if os.path.exists(o):
                os.remove(o)
        if self.sync:
            os.sync()
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.run([TIME, "-v"] + self.cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        if p.returncode != 0:
            sys.exit(f"bench: {' '.join(self.cmd)} failed with exit code {p.returncode}:\n{p.stdout}{p.stderr}")
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
        if not m:
            sys.exit(f"bench: no peak RSS in /usr/bin/time -v output:\n{p.stderr}")
        if not self.keep:  # keep the disk footprint at one output at a time
            for o in self.outputs:
                if os.path.exists(o):
                    os.remove(o)
        self.walls.append(wall)
        self.cpus.append(cpu)
        self.rss.append(int(m.group(1)) * 1024)
        if self.json_out:
            self.reports.append(json.loads(p.stdout.strip().splitlines()[-1]))

    @property
    def wall(self):
        return statistics.median(self.walls)

    @property
    def cpu(self):
        return statistics.median(self.cpus)

    @property
    def peak(self):
        return max(self.rss)

    def inproc(self, key="total_s"):
        return statistics.median(r[key] for r in self.reports)


raw = {}  # every sample, saved for a closer look


def side_by_side(contenders, reps, warmup=0):
    for _ in range(warmup):
        for c in contenders:
            c.run()
        for c in contenders:
            c.walls.clear(), c.rss.clear(), c.reports.clear(), c.cpus.clear()
    for i in range(reps):
        k = i % len(contenders)
        for c in contenders[k:] + contenders[:k]:
            c.run()
    for c in contenders:
        raw[c.name] = {"wall_s": c.walls, "cpu_s": c.cpus, "peak_rss_bytes": c.rss, "reports": c.reports}


rows = []  # (benchmark, measured, ratio, goal, verdict)


def row(bench, measured, ratio, goal="", ok=None):
    verdict = "" if ok is None else ("yes" if ok else "MISSED")
    rows.append((bench, measured, ratio, goal, verdict))


def secs(s):
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s"


def mb(b):
    return f"{b / 1e6:.0f} MB" if b < 1e9 else f"{b / 1e9:.2f} GB"


def skip_args(model, out, first, last):
    return [PAINTERC, "-q", "--pass=skip", f"--layers={first}-{last}", model, "-o", out]


# The models. llama7b is the Llama-2-7B shape (no GQA); quarter halves every
# size, so it holds a quarter of the weight bytes in the same graph.
LLAMA7B = ["--layers=32", "--hidden=4096", "--heads=32", "--kv-heads=32", "--ff=11008", "--vocab=32000"]
QUARTER = ["--layers=32", "--hidden=2048", "--heads=32", "--kv-heads=32", "--ff=5504", "--vocab=16000"]
# ~1 GB in-file: 32 blocks of a small Llama (GQA 12/4) with a 32000 vocabulary.
INFILE = ["--layers=32", "--hidden=768", "--heads=12", "--kv-heads=4", "--ff=2048", "--vocab=32000"]
# (d): blocks dominate the run time (the head is 1024 wide), 16 of them.
LAT = {"layers": 16, "hidden": 512, "heads": 8, "ff": 1376, "vocab": 1024, "seq": 128, "skips": [4, 8]}


def sh(*cmd):
    p = subprocess.run(list(cmd), capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed with exit code {p.returncode}:\n{p.stdout}{p.stderr}")
    return p.stdout


def note(msg):
    print(msg, file=sys.stderr, flush=True)


def prepare_external(w):
    for k, spec in (("1x", QUARTER), ("4x", LLAMA7B)):
        d = os.path.join(w, "ext" + k)
        os.makedirs(d, exist_ok=True)
        note("  " + sh(BENCHMODEL, *spec, "--external-data=weights.bin", "-o", os.path.join(d, "model.onnx")).strip())
        st = os.stat(os.path.join(d, "weights.bin"))
        if st.st_blocks * 512 > 64 << 20:
            sys.exit(f"bench: {d}/weights.bin takes {st.st_blocks * 512} bytes of disk: this file system does not keep it sparse; set BENCH_DIR to one that does")


def prepare_infile(w):
    d = os.path.join(w, "infile")
    os.makedirs(d, exist_ok=True)
    note("  " + sh(BENCHMODEL, *INFILE, "-o", os.path.join(d, "model.onnx")).strip())


def prepare_ort(w):
    d = os.path.join(w, "lat")
    os.makedirs(d, exist_ok=True)
    L = LAT
    model = os.path.join(d, "model.onnx")
    note("  " + sh(BENCHMODEL, f"--layers={L['layers']}", f"--hidden={L['hidden']}", f"--heads={L['heads']}",
                   f"--kv-heads={L['heads']}", f"--ff={L['ff']}", f"--vocab={L['vocab']}", "-o", model).strip())
    sh(PAINTERC, "-q", "--pass=identity", model, "-o", os.path.join(d, "identity.onnx"))
    T = L["layers"]
    for m in L["skips"]:
        a = (T - m) // 2
        sh(PAINTERC, "-q", "--pass=skip", f"--layers={a}-{a + m - 1}", model, "-o", os.path.join(d, f"skip{m}.onnx"))


def bench_external(w, reps):
    """(a) compile time of the external-data Llama-7B-shaped model."""
    info = {k: os.path.getsize(os.path.join(w, "ext" + k, "weights.bin")) for k in ("1x", "4x")}
    cs = {}
    for k in ("1x", "4x"):
        d = os.path.join(w, "ext" + k)
        model = os.path.join(d, "model.onnx")
        cs["pc" + k] = Contender(f"painterc skip {k}", skip_args(model, os.path.join(d, "pc.onnx"), 8, 23))
        cs["py" + k] = Contender(f"python onnx skip {k}", [PY, SKIP_PY, model, os.path.join(d, "py.onnx"), "8", "23"], json_out=True)
    side_by_side(list(cs.values()), reps, warmup=1)
    b1, b4 = info["1x"], info["4x"]
    pc1, pc4, py1, py4 = cs["pc1x"], cs["pc4x"], cs["py1x"], cs["py4x"]
    flat = pc4.wall / pc1.wall
    row(f"(a) painterc skip 16/32, external weights {b4 / 1e9:.1f} GB (4x) vs {b1 / 1e9:.1f} GB (1x)",
        f"{secs(pc4.wall)} vs {secs(pc1.wall)}", f"{flat:.2f}x", "flat (0.8-1.25x)", 0.8 <= flat <= 1.25)
    r = py4.wall / pc4.wall
    row("(a) python onnx process (start, import, load->edit->save) / painterc, 4x",
        f"{secs(py4.wall)} / {secs(pc4.wall)}", f"{r:.1f}x", ">= 3x", r >= 3)
    r = py4.inproc() / pc4.wall
    row("(a) python load->edit->save alone (no start-up, no import) / painterc process, 4x",
        f"{secs(py4.inproc())} / {secs(pc4.wall)}", f"{r:.1f}x", "(stricter; info)")
    row("(a) python process 4x vs 1x", f"{secs(py4.wall)} vs {secs(py1.wall)}", f"{py4.wall / py1.wall:.2f}x", "(info)")
    row("(a) python onnx process / painterc: CPU time (user+sys; less sensitive to a busy machine), 4x",
        f"{secs(py4.cpu)} / {secs(pc4.cpu)}", f"{py4.cpu / pc4.cpu:.1f}x", "(info)")
    row("(a) painterc / python onnx process: peak RSS, 4x", f"{mb(pc4.peak)} / {mb(py4.peak)}", f"{pc4.peak / py4.peak:.2f}x", "(info)")
    # Both did the same edit: same counts, and both pass the checker.
    d = os.path.join(w, "ext4x")
    counts = sh(PY, "-c", """import sys, onnx
for p in sys.argv[1:]:
    onnx.checker.check_model(p)
    m = onnx.load(p, load_external_data=False)
    print(len(m.graph.node), len(m.graph.initializer))""", os.path.join(d, "pc.onnx"), os.path.join(d, "py.onnx")).split("\n")
    row("(a) outputs, painterc / python: nodes and initializers (both pass onnx.checker)",
        f"{counts[0]} / {counts[1]}", "", "same weights kept", counts[0].split()[1] == counts[1].split()[1])


def bench_infile(w, reps):
    """(b) skip 16 of 32 on the ~1 GB in-file model; (c) middle-repeat."""
    d = os.path.join(w, "infile")
    model = os.path.join(d, "model.onnx")
    size = os.path.getsize(model)
    j = lambda n: os.path.join(d, n)
    cp = Contender("cp input", ["cp", model, j("cp.onnx")], [j("cp.onnx")], sync=True)
    cps = Contender("cp input + fsync", ["sh", "-c", f'cp "$1" "$2" && sync "$2"', "sh", model, j("cps.onnx")], [j("cps.onnx")], sync=True)
    pc = Contender("painterc skip", skip_args(model, j("pc.onnx"), 8, 23), [j("pc.onnx")], sync=True)
    # onnx.save does not fsync; painterc --no-fsync is the like-for-like run.
    pcn = Contender("painterc skip --no-fsync", skip_args(model, j("pcn.onnx"), 8, 23) + ["--no-fsync"], [j("pcn.onnx")], sync=True)
    py = Contender("python onnx skip", [PY, SKIP_PY, model, j("py.onnx"), "8", "23"], [j("py.onnx")], sync=True, json_out=True)
    side_by_side([cp, cps, pc, pcn, py], reps)
    r = py.wall / pcn.wall
    row(f"(b) python onnx / painterc --no-fsync (neither fsyncs), skip 16/32, {mb(size)} in-file: wall",
        f"{secs(py.wall)} / {secs(pcn.wall)}", f"{r:.1f}x", ">= 5x", r >= 5)
    r = py.wall / pc.wall
    row("(b) python onnx / painterc (durable, the default): wall",
        f"{secs(py.wall)} / {secs(pc.wall)}", f"{r:.1f}x", "(info)")
    row("(b) python onnx / painterc: CPU time (user+sys)", f"{secs(py.cpu)} / {secs(pc.cpu)}", f"{py.cpu / pc.cpu:.1f}x", "(info)")
    r = pc.peak / py.peak
    row("(b) painterc / python onnx: peak RSS", f"{mb(pc.peak)} / {mb(py.peak)}", f"{r:.3f}x", "<= 0.2x", r <= 0.2)
    row("(b) painterc / cp of the input", f"{secs(pc.wall)} / {secs(cp.wall)}", f"{pc.wall / cp.wall:.2f}x", "(info)")
    row("(b) painterc / cp of the input + fsync", f"{secs(pc.wall)} / {secs(cps.wall)}", f"{pc.wall / cps.wall:.2f}x", "(info)")
    row("(b) python load->edit->save alone / painterc process",
        f"{secs(py.inproc())} / {secs(pc.wall)}", f"{py.inproc() / pc.wall:.1f}x", "(info)")

    # (c) middle-repeat, the paper's N=7 for T=32: block 16 runs 17 times.
    out = j("mr.onnx")
    mr = Contender("painterc middle-repeat", [PAINTERC, "-q", "--pass=middle-repeat", "--n=7", model, "-o", out], [out], sync=True, keep=True)
    mr.run()  # the output cp copies must exist first
    mr.walls.clear(), mr.rss.clear(), mr.cpus.clear()
    nosync = j("mr-nosync.onnx")
    mrn = Contender("painterc middle-repeat --no-fsync", [PAINTERC, "-q", "--no-fsync", "--pass=middle-repeat", "--n=7", model, "-o", nosync], [nosync], sync=True)
    cpo = Contender("cp output", ["cp", out, j("cpo.onnx")], [j("cpo.onnx")], sync=True)
    cpos = Contender("cp output + fsync", ["sh", "-c", f'cp "$1" "$2" && sync "$2"', "sh", out, j("cpos.onnx")], [j("cpos.onnx")], sync=True)
    side_by_side([mr, mrn, cpo, cpos], reps)
    osize = os.path.getsize(out)
    r = osize / size
    row("(c) middle-repeat n=7 (17 instances of block 16): output / input size",
        f"{mb(osize)} / {mb(size)}", f"{r:.3f}x", "<= 1.01x", r <= 1.01)
    r = mrn.wall / cpo.wall
    row("(c) painterc middle-repeat --no-fsync / cp of the output", f"{secs(mrn.wall)} / {secs(cpo.wall)}", f"{r:.2f}x", "<= 1.5x", r <= 1.5)
    r = mr.wall / cpos.wall
    row("(c) painterc middle-repeat (durable, the default) / cp of the output + fsync", f"{secs(mr.wall)} / {secs(cpos.wall)}", f"{r:.2f}x", "(info)")
    r = mr.wall / cpo.wall
    row("(c) painterc middle-repeat (durable) / cp of the output", f"{secs(mr.wall)} / {secs(cpo.wall)}", f"{r:.2f}x", "(info)")
    # A schedule that keeps every block and runs 66 instances: the output
    # still holds each weight once.
    lp = j("lp.onnx")
    Contender("looped-parallel", [PAINTERC, "-q", "--pass=looped-parallel", "--n=7", model, "-o", lp], [lp], keep=True).run()
    r = os.path.getsize(lp) / size
    row("(c) looped-parallel n=7 x3 (all 32 blocks, 66 instances): output / input size",
        f"{mb(os.path.getsize(lp))} / {mb(size)}", f"{r:.3f}x", "<= 1.01x", r <= 1.01)
    for o in (out, lp):
        os.remove(o)


def bench_ort(w, reps):
    """(d) ORT latency of rewritten models."""
    d = os.path.join(w, "lat")
    info = LAT
    T = info["layers"]
    variants = [("original", "model.onnx"), ("identity", "identity.onnx")] + [
        (f"skip{m}", f"skip{m}.onnx") for m in info["skips"]]
    args = [ORTLATENCY, f"--seq={info['seq']}", f"--vocab={info['vocab']}", f"--reps={reps}"] + [
        f"{name}={os.path.join(d, f)}" for name, f in variants]
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"bench: {' '.join(args)} failed:\n{p.stdout}{p.stderr}")
    res = {r["label"]: r for r in map(json.loads, p.stdout.splitlines())}
    raw["ortlatency"] = res
    base = res["original"]["median_ms"]

    def paired(label):
        """The median over rounds of label's time / the original's time in
        the same round: drift between rounds cancels."""
        return statistics.median(a / b for a, b in zip(res[label]["times_ms"], res["original"]["times_ms"]))

    desc = f"hidden {info['hidden']}, {T} blocks, seq {info['seq']}, 1 thread, {reps} rounds"
    idr = paired("identity")
    row(f"(d) ORT latency identity-rewritten / original ({desc})",
        f"{res['identity']['median_ms']:.1f} / {base:.1f} ms", f"{idr:.3f}x", "1.00 +- 0.02",
        abs(idr - 1) <= 0.02)
    if res["identity"]["max_logit_diff_vs_first"] != 0:
        row("(d) identity logits differ from the original's", str(res["identity"]["max_logit_diff_vs_first"]), "", "0", False)
    for m in info["skips"]:
        r = paired(f"skip{m}")
        want = (T - m) / T
        row(f"(d) ORT latency skip {m} of {T} / original",
            f"{res[f'skip{m}']['median_ms']:.1f} / {base:.1f} ms", f"{r:.3f}x", f"~ (T-M)/T = {want:.3f}",
            abs(r - want) <= 0.05)


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    w = args[0]
    opts = {"--reps-fast": 15, "--reps-slow": 5, "--reps-ort": 40}
    for a in args[1:]:
        k, _, v = a.partition("=")
        if k not in opts:
            sys.exit(f"bench_run: unknown option {a}")
        opts[k] = int(v)
    only = os.environ.get("BENCH_ONLY", "abcd")
    load0 = os.getloadavg()[0]
    if load0 > 0.5:
        note(f"bench: the load average is {load0:.2f}: other work on this machine will add noise, most of all to "
             "the runs that fsync (ext4 makes an fsync wait for other writers' data); rerun on a quiet machine for "
             "numbers to publish")
    t0 = time.time()
    if "a" in only:
        note("(a) external-data models (sparse weight files)")
        prepare_external(w)
        note("(a) measuring")
        bench_external(w, opts["--reps-fast"])
        shutil.rmtree(os.path.join(w, "ext1x")), shutil.rmtree(os.path.join(w, "ext4x"))
    if "b" in only or "c" in only:
        note("(b, c) in-file model")
        prepare_infile(w)
        note("(b, c) measuring")
        bench_infile(w, opts["--reps-slow"])
        shutil.rmtree(os.path.join(w, "infile"))
    if "d" in only:
        note("(d) latency models")
        prepare_ort(w)
        note("(d) measuring")
        bench_ort(w, opts["--reps-ort"])
        shutil.rmtree(os.path.join(w, "lat"))
    if os.environ.get("BENCH_RAW"):
        with open(os.environ["BENCH_RAW"], "w") as f:
            json.dump(raw, f, indent=1)
    width = [max(len(r[i]) for r in rows + [("benchmark", "measured", "ratio", "goal", "met")]) for i in range(5)]
    line = lambda r: "| " + " | ".join(c.ljust(width[i]) for i, c in enumerate(r)) + " |"
    print(line(("benchmark", "measured", "ratio", "goal", "met")))
    print("|" + "|".join("-" * (x + 2) for x in width) + "|")
    for r in rows:
        print(line(r))
    print(f"\n({time.time() - t0:.0f} s of measuring; load average {load0:.2f} at the start, {os.getloadavg()[0]:.2f} at the end)")
    if any(r[4] == "MISSED" for r in rows):
        print("Some goals were missed (MISSED above).")


if __name__ == "__main__":
    main()
