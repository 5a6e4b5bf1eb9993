#!/usr/bin/python3
"""Generates the small ONNX fixtures the onnx tests read.

Run it from anywhere with Debian's Python (python3-onnx, python3-torch):

    /usr/bin/python3 onnx/testdata/gen.py

It writes, next to itself:

  py_if.onnx           an If node whose then/else branches are subgraphs
  py_loop.onnx         a Loop whose body is a subgraph with a nested If
  py_external.onnx     two initializers in external data ...
  py_external.onnx.data  ... (onnx.save_model(save_as_external_data=True))
  py_sparse_func.onnx  a sparse initializer, a model-local function
                       (helper.make_function) and a node that calls it
  py_kitchen.onnx      metadata_props and doc strings everywhere, every
                       TypeProto kind, every attribute kind, the typed data
                       fields of TensorProto, a segment, a quantization
                       annotation, training info, zero values written
                       explicitly (presence), negative int32s
  py_unknown.onnx      unknown fields added to the model, a node, an
                       attribute, a tensor and a dimension, serialized by
                       protobuf itself (so the test learns where protobuf
                       puts unknown fields)
  torch_tiny.onnx      torch.onnx.export of a 2-layer pre-norm transformer
                       (hidden 16) with dynamic batch/sequence axes

The fixtures are deterministic apart from torch's producer_version; they are
committed, so the tests do not need Python. Re-run only to change them.
"""

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def out(name):
    return os.path.join(HERE, name)


def opset(v=17):
    return [helper.make_opsetid("", v)]


def gen_if():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    cond = helper.make_tensor_value_info("cond", TensorProto.BOOL, [])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    then_out = helper.make_tensor_value_info("then_y", TensorProto.FLOAT, [2])
    else_out = helper.make_tensor_value_info("else_y", TensorProto.FLOAT, [2])
    then_g = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["then_y"], name="then_relu")],
        "then_branch", [], [then_out], doc_string="the then branch")
    else_g = helper.make_graph(
        [helper.make_node("Neg", ["x"], ["else_y"], name="else_neg")],
        "else_branch", [], [else_out])
    node = helper.make_node("If", ["cond"], ["y"], name="the_if",
                            then_branch=then_g, else_branch=else_g)
    g = helper.make_graph([node], "if_graph", [cond, x], [y])
    m = helper.make_model(g, opset_imports=opset(), producer_name="gen.py")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save_model(m, out("py_if.onnx"))


def gen_loop():
    # Loop body: (iter, cond, acc) -> (cond, acc + 1)
    it = helper.make_tensor_value_info("iter", TensorProto.INT64, [])
    cin = helper.make_tensor_value_info("cond_in", TensorProto.BOOL, [])
    ain = helper.make_tensor_value_info("acc_in", TensorProto.FLOAT, [1])
    cout = helper.make_tensor_value_info("cond_out", TensorProto.BOOL, [])
    aout = helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, [1])
    one = numpy_helper.from_array(np.array([1.0], dtype=np.float32), "one")
    inner_then = helper.make_graph(
        [helper.make_node("Add", ["acc_in", "one"], ["t_out"])], "inner_then", [],
        [helper.make_tensor_value_info("t_out", TensorProto.FLOAT, [1])])
    inner_else = helper.make_graph(
        [helper.make_node("Identity", ["acc_in"], ["e_out"])], "inner_else", [],
        [helper.make_tensor_value_info("e_out", TensorProto.FLOAT, [1])])
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("If", ["cond_in"], ["acc_out"], then_branch=inner_then,
                             else_branch=inner_else),
        ],
        "loop_body", [it, cin, ain], [cout, aout], initializer=[one])
    trip = helper.make_tensor_value_info("trip", TensorProto.INT64, [])
    cond = helper.make_tensor_value_info("cond", TensorProto.BOOL, [])
    a0 = helper.make_tensor_value_info("a0", TensorProto.FLOAT, [1])
    res = helper.make_tensor_value_info("res", TensorProto.FLOAT, [1])
    node = helper.make_node("Loop", ["trip", "cond", "a0"], ["res"], body=body, name="loop")
    g = helper.make_graph([node], "loop_graph", [trip, cond, a0], [res])
    m = helper.make_model(g, opset_imports=opset(), producer_name="gen.py")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save_model(m, out("py_loop.onnx"))


def gen_external():
    w1 = numpy_helper.from_array(np.arange(64, dtype=np.float32).reshape(8, 8), "w1")
    w2 = numpy_helper.from_array(np.arange(48, dtype=np.float32).reshape(8, 6) / 7, "w2")
    b = numpy_helper.from_array(np.ones(6, dtype=np.float32), "b")  # small: stays inline
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 6])
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h"], name="mm1"),
        helper.make_node("MatMul", ["h", "w2"], ["h2"], name="mm2"),
        helper.make_node("Add", ["h2", "b"], ["y"], name="add"),
    ]
    g = helper.make_graph(nodes, "ext_graph", [x], [y], initializer=[w1, w2, b])
    m = helper.make_model(g, opset_imports=opset(), producer_name="gen.py")
    m.ir_version = 8
    onnx.checker.check_model(m)
    for f in ("py_external.onnx", "py_external.onnx.data"):
        if os.path.exists(out(f)):
            os.remove(out(f))
    onnx.save_model(m, out("py_external.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="py_external.onnx.data",
                    size_threshold=100)


def gen_sparse_func():
    values = numpy_helper.from_array(np.array([1.5, -2.0, 3.25], dtype=np.float32), "sp")
    indices = numpy_helper.from_array(np.array([0, 5, 11], dtype=np.int64), "sp_indices")
    sp = helper.make_sparse_tensor(values, indices, [3, 4])
    fn_nodes = [
        helper.make_node("Mul", ["X", "X"], ["sq"]),
        helper.make_node("Add", ["sq", "X"], ["Y"]),
    ]
    fn = helper.make_function("custom.domain", "SquarePlus", ["X"], ["Y"], fn_nodes,
                              opset(), doc_string="x*x + x")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 4])
    nodes = [
        helper.make_node("Add", ["x", "sp"], ["s"], name="add_sparse"),
        helper.make_node("SquarePlus", ["s"], ["y"], domain="custom.domain", name="call"),
    ]
    g = helper.make_graph(nodes, "sparse_graph", [x], [y], sparse_initializer=[sp])
    m = helper.make_model(g, opset_imports=opset() + [helper.make_opsetid("custom.domain", 1)],
                          functions=[fn], producer_name="gen.py")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save_model(m, out("py_sparse_func.onnx"))


def gen_kitchen():
    # Every TypeProto kind.
    seq_t = helper.make_sequence_type_proto(helper.make_tensor_type_proto(TensorProto.FLOAT, ["n", None, 0]))
    map_t = onnx.TypeProto()
    map_t.map_type.key_type = TensorProto.INT64
    map_t.map_type.value_type.CopyFrom(helper.make_tensor_type_proto(TensorProto.DOUBLE, [2]))
    opt_t = helper.make_optional_type_proto(helper.make_tensor_type_proto(TensorProto.INT32, [1]))
    sparse_t = helper.make_sparse_tensor_type_proto(TensorProto.FLOAT, [3, 4])
    opaque_t = onnx.TypeProto()
    opaque_t.opaque_type.domain = "com.example"
    opaque_t.opaque_type.name = "Blob"
    opaque_t.denotation = "IMAGE"
    tensor_t = helper.make_tensor_type_proto(TensorProto.FLOAT16, ["batch", 3])
    tensor_t.tensor_type.shape.dim[0].denotation = "DATA_BATCH"
    tensor_t.tensor_type.shape.dim.add()  # a dimension with neither value nor param

    vis = [
        helper.make_value_info("seq", seq_t, doc_string="a sequence"),
        helper.make_value_info("map", map_t),
        helper.make_value_info("opt", opt_t),
        helper.make_value_info("sparse", sparse_t),
        helper.make_value_info("opaque", opaque_t),
    ]
    x = helper.make_value_info("x", tensor_t, doc_string="input doc")
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 2])

    # Typed data fields (no raw_data).
    inits = [
        helper.make_tensor("f", TensorProto.FLOAT, [2], [1.0, -0.0]),
        helper.make_tensor("h", TensorProto.FLOAT16, [3], [1.0, 2.0, 3.0]),  # int32_data
        helper.make_tensor("i8", TensorProto.INT8, [3], [-1, 0, 127]),
        helper.make_tensor("i32", TensorProto.INT32, [3], [-5, 0, 7]),
        helper.make_tensor("i64", TensorProto.INT64, [2], [-1, 1 << 40]),
        helper.make_tensor("d", TensorProto.DOUBLE, [2], [3.5, -1e300]),
        helper.make_tensor("u64", TensorProto.UINT64, [2], [1, 1 << 63]),
        helper.make_tensor("u32", TensorProto.UINT32, [2], [7, 4000000000]),
        helper.make_tensor("s", TensorProto.STRING, [2], [b"hello", b""]),
        helper.make_tensor("raw", TensorProto.FLOAT, [2], np.array([1, 2], np.float32).tobytes(), raw=True),
        helper.make_tensor("empty", TensorProto.FLOAT, [0], []),
    ]
    inits[0].doc_string = "tensor doc"
    inits[1].segment.begin = 0
    inits[1].segment.end = 3
    inits[2].name = "i8"

    sub = helper.make_graph([helper.make_node("Identity", ["x"], ["sub_y"])], "attr_graph", [],
                            [helper.make_tensor_value_info("sub_y", TensorProto.FLOAT, [2])])
    sp = helper.make_sparse_tensor(
        numpy_helper.from_array(np.array([9.0], np.float32), "spv"),
        numpy_helper.from_array(np.array([1], np.int64), "spi"), [4])
    attrs = dict(
        f_attr=0.0, i_attr=0, neg_i=-3, s_attr="", s2="text", t_attr=inits[0],
        g_attr=sub, floats_attr=[1.0, 2.5], ints_attr=[0, -1, 3], strings_attr=["a", "b"],
        tensors_attr=[inits[3], inits[4]], graphs_attr=[sub], sparse_attr=sp,
        sparses_attr=[sp], tp_attr=seq_t, tps_attr=[map_t, opt_t],
    )
    node = helper.make_node("Custom", ["x"], ["y"], name="kitchen_node", domain="com.example",
                            doc_string="node doc", **attrs)
    ref = helper.make_attribute("ref", 1)
    ref.ref_attr_name = "outer_attr"
    ref.doc_string = "attribute doc"
    node.attribute.append(ref)

    g = helper.make_graph([node, helper.make_node("Identity", ["y"], ["y2"], name="")],
                          "kitchen", [x], [y], initializer=inits, doc_string="graph doc",
                          value_info=vis)
    qa = g.quantization_annotation.add()
    qa.tensor_name = "y"
    kv = qa.quant_parameter_tensor_names.add()
    kv.key = "SCALE_TENSOR"
    kv.value = "y_scale"

    m = helper.make_model(g, opset_imports=opset() + [helper.make_opsetid("com.example", 1)],
                          producer_name="gen.py", producer_version="1.0", domain="ai.painterc",
                          model_version=0, doc_string="model doc")
    m.ir_version = 8
    helper.set_model_props(m, {"painterc.schedule": "0-7,[8-24]x3,25-31", "empty": ""})

    ti_alg = helper.make_graph([helper.make_node("Identity", ["f"], ["f_next"])], "algo", [],
                               [helper.make_tensor_value_info("f_next", TensorProto.FLOAT, [2])])
    ti_init = helper.make_graph([], "init", [], [])
    m.training_info.append(helper.make_training_info(ti_alg, [("f", "f_next")], ti_init, []))
    onnx.save_model(m, out("py_kitchen.onnx"))


def varint(v):
    b = bytearray()
    while True:
        c = v & 0x7F
        v >>= 7
        if v:
            b.append(c | 0x80)
        else:
            b.append(c)
            return bytes(b)


def field_bytes(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def field_varint(num, v):
    return varint(num << 3) + varint(v)


def with_unknown(msg, extra):
    cls = type(msg)
    out_msg = cls()
    out_msg.ParseFromString(msg.SerializeToString() + extra)
    return out_msg


def gen_unknown():
    w = numpy_helper.from_array(np.array([[1, 2], [3, 4]], np.float32), "w")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2])
    node = helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")
    g = helper.make_graph([node], "unknown_graph", [x], [y], initializer=[w])
    m = helper.make_model(g, opset_imports=opset(), producer_name="gen.py")
    m.ir_version = 8
    g = m.graph  # make_model copied the graph
    # A NodeProto.device_configurations-like field (10) and a far-away field.
    g.node[0].CopyFrom(with_unknown(g.node[0], field_bytes(10, b"\x0a\x03dev") + field_varint(1000, 7)))
    # A tensor field number between known ones (15 is unused by onnx.proto).
    g.initializer[0].CopyFrom(with_unknown(g.initializer[0], field_varint(15, 1)))
    # A dimension with a fixed64 unknown field.
    dim = g.input[0].type.tensor_type.shape.dim[0]
    dim.CopyFrom(with_unknown(dim, varint(99 << 3 | 1) + b"\x01\x02\x03\x04\x05\x06\x07\x08"))
    # An attribute with an unknown fixed32 field.
    a = helper.make_attribute("alpha", 0.5)
    g.node[0].attribute.append(with_unknown(a, varint(30 << 3 | 5) + b"\x00\x00\x80\x3f"))
    # A ModelProto.configuration-like field (26) and a group (field 50).
    m.CopyFrom(with_unknown(m, field_bytes(26, b"\x0a\x04conf") + varint(50 << 3 | 3) + field_varint(1, 1) + varint(50 << 3 | 4)))
    onnx.save_model(m, out("py_unknown.onnx"))


def gen_torch():
    import torch
    import torch.nn as nn

    torch.manual_seed(0)

    class Attn(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.q_proj = nn.Linear(d, d, bias=False)
            self.k_proj = nn.Linear(d, d, bias=False)
            self.v_proj = nn.Linear(d, d, bias=False)
            self.o_proj = nn.Linear(d, d, bias=False)

        def forward(self, h):
            q, k, v = self.q_proj(h), self.k_proj(h), self.v_proj(h)
            a = torch.softmax(q @ k.transpose(-1, -2) / 4.0, dim=-1)
            return self.o_proj(a @ v)

    class Layer(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.input_layernorm = nn.LayerNorm(d)
            self.self_attn = Attn(d)
            self.post_attention_layernorm = nn.LayerNorm(d)
            self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))

        def forward(self, h):
            h = h + self.self_attn(self.input_layernorm(h))
            return h + self.mlp(self.post_attention_layernorm(h))

    class Inner(nn.Module):
        def __init__(self, d, n):
            super().__init__()
            self.embed_tokens = nn.Embedding(32, d)
            self.layers = nn.ModuleList([Layer(d) for _ in range(n)])
            self.norm = nn.LayerNorm(d)

        def forward(self, ids):
            h = self.embed_tokens(ids)
            for layer in self.layers:
                h = layer(h)
            return self.norm(h)

    class Tiny(nn.Module):
        def __init__(self, d=16, n=2):
            super().__init__()
            self.model = Inner(d, n)
            self.lm_head = nn.Linear(d, 32, bias=False)

        def forward(self, ids):
            return self.lm_head(self.model(ids))

    model = Tiny().eval()
    ids = torch.zeros(1, 5, dtype=torch.int64)
    torch.onnx.export(model, (ids,), out("torch_tiny.onnx"), input_names=["input_ids"],
                      output_names=["logits"], opset_version=14,
                      dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}})


if __name__ == "__main__":
    gen_if()
    gen_loop()
    gen_external()
    gen_sparse_func()
    gen_kitchen()
    gen_unknown()
    gen_torch()
    for f in sorted(os.listdir(HERE)):
        if f.endswith((".onnx", ".data")):
            print(f, os.path.getsize(out(f)))
