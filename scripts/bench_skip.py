#!/usr/bin/python3
"""The Python onnx side of painterc's benchmarks (scripts/bench.sh).

Does with the onnx package (Debian python3-onnx, /usr/bin/python3) what a
careful user writes by hand to skip blocks FIRST..LAST of a torch-style
decoder (node scopes /model/layers.{i}/...):

  onnx.load(MODEL, load_external_data=False)
  -> drop the nodes of blocks FIRST..LAST, feed block LAST+1 (or whatever read
     block LAST's output) the output of block FIRST-1
  -> drop the nodes and initializers nothing reads any more
  -> onnx.save(OUT)

External data stays where it is: with load_external_data=False the tensors
keep their references and onnx.save writes no payload, so OUT must sit in
MODEL's directory for them to resolve.

usage: bench_skip.py MODEL OUT FIRST LAST
Prints one JSON line: seconds spent loading, editing and saving, and the
node and initializer counts before and after.
"""
import json
import re
import sys
import time

import onnx


def block_of(name, pat=re.compile(r"/layers\.(\d+)/")):
    m = pat.search(name)
    return int(m.group(1)) if m else None


def skip(model, first, last):
    g = model.graph
    nodes = list(g.node)
    # The residual stream between blocks: block i's output is the output of
    # its last node (the exporter emits a block's nodes contiguously).
    last_node = {}
    for n in nodes:
        b = block_of(n.name)
        if b is not None:
            last_node[b] = n
    if first - 1 not in last_node or last not in last_node:
        raise SystemExit(f"bench_skip: blocks {first - 1} and {last} must exist")
    src = last_node[first - 1].output[0]  # what block FIRST read
    dst = last_node[last].output[0]       # what block LAST produced
    def skipped(n):
        b = block_of(n.name)
        return b is not None and first <= b <= last

    keep = [n for n in nodes if not skipped(n)]
    for n in keep:
        for i, x in enumerate(n.input):
            if x == dst:
                n.input[i] = src
    for o in g.output:
        if o.name == dst:
            raise SystemExit("bench_skip: the skipped range ends at a graph output")

    # Dead code: one backward pass suffices on a topologically sorted graph.
    used = {o.name for o in g.output}
    live = []
    for n in reversed(keep):
        if any(o in used for o in n.output):
            live.append(n)
            used.update(x for x in n.input if x)
    live.reverse()
    removed = {x for n in nodes for x in n.output} - {x for n in live for x in n.output}
    for n in live:
        for x in n.input:
            if x in removed:
                raise SystemExit(f"bench_skip: node {n.name} reads {x} of a skipped block")
    inits = [t for t in g.initializer if t.name in used]
    del g.node[:]
    g.node.extend(live)
    del g.initializer[:]
    g.initializer.extend(inits)
    meta = model.metadata_props.add()
    meta.key, meta.value = "bench.skip", f"{first}-{last}"
    return len(nodes), len(live)


def main():
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    path, out, first, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    t0 = time.perf_counter()
    model = onnx.load(path, load_external_data=False)
    t1 = time.perf_counter()
    inits_before = len(model.graph.initializer)
    nodes_before, nodes_after = skip(model, first, last)
    t2 = time.perf_counter()
    onnx.save(model, out)
    t3 = time.perf_counter()
    print(json.dumps({
        "load_s": t1 - t0, "edit_s": t2 - t1, "save_s": t3 - t2, "total_s": t3 - t0,
        "nodes": [nodes_before, nodes_after],
        "initializers": [inits_before, len(model.graph.initializer)],
    }))


if __name__ == "__main__":
    main()
