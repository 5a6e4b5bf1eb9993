"""Print what each fixture's exporter actually wrote: IR and opsets, graph
inputs and outputs, contrib operators, If/Loop, how block-1 nodes are named,
anonymous initializers, node metadata. testdata/real/README.md's facts come
from this output.

    facts.py testdata/real/*/
"""

import collections
import json
import os
import sys

import onnx


def main():
    for d in sys.argv[1:]:
        ref_path = os.path.join(d, "referee.json")
        if not os.path.exists(ref_path):
            continue
        ref = json.load(open(ref_path))
        m = onnx.load(os.path.join(d, ref["model"]), load_external_data=False)
        g = m.graph
        inits = {t.name for t in g.initializer}
        ops = collections.Counter((n.domain or "ai.onnx") + ":" + n.op_type for n in g.node)
        ins = [(i.name, [x.dim_param or x.dim_value for x in i.type.tensor_type.shape.dim])
               for i in g.input if i.name not in inits]
        print(f"== {os.path.basename(os.path.normpath(d))}: {ref['model']}, IR {m.ir_version}, opsets "
              f"{[(o.domain or 'ai.onnx', o.version) for o in m.opset_import]}, producer {m.producer_name} "
              f"{m.producer_version}, {len(g.node)} nodes, external data: "
              f"{any(t.data_location == onnx.TensorProto.EXTERNAL for t in g.initializer)}")
        print(f"   inputs ({len(ins)}): {ins[:4]}{' ...' if len(ins) > 4 else ''}")
        print(f"   input order: {[n for n, _ in ins]}")
        print(f"   outputs ({len(g.output)}): {[o.name for o in g.output][:5]}")
        print(f"   contrib ops: {dict(sorted((k, v) for k, v in ops.items() if not k.startswith('ai.onnx:')))}; "
              f"If {ops.get('ai.onnx:If', 0)}, Loop {ops.get('ai.onnx:Loop', 0)}")
        b1 = [n.name for n in g.node if any(s in n.name for s in ("layers.1/", "h.1/", "layer.1/"))]
        print(f"   block-1 node names ({len(b1)}): {b1[:3]}")
        unscoped = [f"{n.op_type}:{n.name}" for n in g.node if n.domain and not n.name.startswith("/")]
        if unscoped:
            print(f"   contrib nodes without a scope in their name: {unscoped[:3]} (+{max(0, len(unscoped) - 3)})")
        anon = sorted(i for i in inits if i.startswith("onnx::"))
        print(f"   initializers: {len(inits)}, anonymous onnx::*: {len(anon)}; sample {sorted(inits)[:3]}")
        keys = sorted({p.key for n in g.node for p in n.metadata_props})
        if keys:
            mid = g.node[len(g.node) // 2]
            scopes = [p.value for p in mid.metadata_props if p.key == "pkg.torch.onnx.name_scopes"]
            print(f"   node metadata keys: {keys}; e.g. {mid.name}: name_scopes {scopes[:1]}")
        # What each block reads from outside itself (masks, rotary tables,
        # and nodes of other blocks that the exporter shared across blocks).
        prod = {o: n for n in g.node for o in n.output}
        for b in range(ref["blocks"]):
            scope = f"/layers.{b}/"
            ext = sorted({prod[i].name for n in g.node if scope in n.name for i in n.input
                          if i in prod and scope not in prod[i].name and prod[i].op_type != "Constant"})
            if ext:
                print(f"   block {b} reads from outside: {ext}")
        for n in g.node:
            if n.op_type in ("GroupQueryAttention", "MultiHeadAttention", "Attention"):
                attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
                print(f"   {n.op_type} {n.name}: {len(n.input)} inputs {list(n.input)[3:9]}, attrs {attrs}")


if __name__ == "__main__":
    main()
