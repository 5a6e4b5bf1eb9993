package testmodels

import (
	"fmt"
	"math"

	"github.com/painterc/painterc/onnx"
)

// BERT graph, as torch.onnx / optimum export BertModel (post-LN encoder):
//
//	/bert/embeddings/word_embeddings/Gather
//	/bert/embeddings/{Shape,Gather,Range,Unsqueeze}                  position ids
//	/bert/embeddings/position_embeddings/Gather
//	/bert/embeddings/token_type_embeddings/Gather
//	/bert/embeddings/{Add,Add_1}, /bert/embeddings/LayerNorm/LayerNormalization
//	/bert/{Unsqueeze,Unsqueeze_1,Cast,Sub,Mul}                       extended mask, once
//	/bert/encoder/layer.{i}/attention/self/{query,key,value}/{MatMul,Add}
//	/bert/encoder/layer.{i}/attention/self/{Reshape,Transpose,MatMul,Div,Add,Softmax,...}
//	/bert/encoder/layer.{i}/attention/output/dense/{MatMul,Add}
//	/bert/encoder/layer.{i}/attention/output/{Add, LayerNorm/LayerNormalization}
//	/bert/encoder/layer.{i}/intermediate/dense/{MatMul,Add}
//	/bert/encoder/layer.{i}/intermediate/intermediate_act_fn/{Div,Erf,Add,Mul,Mul_1}
//	/bert/encoder/layer.{i}/output/dense/{MatMul,Add}
//	/bert/encoder/layer.{i}/output/{Add, LayerNorm/LayerNormalization}  -> last_hidden_state
//
// Linear weights are anonymous (onnx::MatMul_N, [in, out]); biases and norm
// parameters keep their names.
type bert struct {
	b *builder
	s Spec

	mask string
}

const bertEps = 1e-12

// bertAnon is the number of anonymous weights per block.
const bertAnon = 6

func (m *bert) root() string { return "/bert/encoder" }

func (m *bert) prologue() string {
	b, s := m.b, m.s
	E := "/bert/embeddings"
	prm := func(name string, shape []int, kind initKind) string {
		return b.param("bert.embeddings."+name, "bert.embeddings."+name, shape, kind)
	}
	we := b.op(E+"/word_embeddings", "Gather", []string{prm("word_embeddings.weight", []int{s.Vocab, s.Hidden}, initEmbed), "input_ids"}, attrInt("axis", 0))
	shp := b.op(E, "Shape", []string{"input_ids"})
	seq := b.op(E, "Gather", []string{shp, b.constInt("Gather", 1)}, attrInt("axis", 0))
	pos := b.op(E, "Range", []string{b.constInt("Range", 0), seq, b.constInt("Range", 1)})
	pos = b.op(E, "Unsqueeze", []string{pos, b.constInts("Unsqueeze", 0)})
	pe := b.op(E+"/position_embeddings", "Gather", []string{prm("position_embeddings.weight", []int{s.MaxPos, s.Hidden}, initEmbed), pos}, attrInt("axis", 0))
	te := b.op(E+"/token_type_embeddings", "Gather", []string{prm("token_type_embeddings.weight", []int{2, s.Hidden}, initEmbed), "token_type_ids"}, attrInt("axis", 0))
	x := b.op(E, "Add", []string{we, te})
	x = b.op(E, "Add", []string{x, pe})
	x = layerNorm(b, E+"/LayerNorm", x, prm("LayerNorm.weight", []int{s.Hidden}, initNorm), prm("LayerNorm.bias", []int{s.Hidden}, initBias), bertEps)

	// extended_attention_mask = (1 - mask[:, None, None, :]) * finfo.min
	am := b.op("/bert", "Unsqueeze", []string{"attention_mask", b.constInts("Unsqueeze", 1)})
	am = b.op("/bert", "Unsqueeze", []string{am, b.constInts("Unsqueeze", 2)})
	am = b.op("/bert", "Cast", []string{am}, attrInt("to", int64(onnx.Float)))
	am = b.op("/bert", "Sub", []string{b.constFloat("Sub", 1), am})
	m.mask = b.op("/bert", "Mul", []string{am, b.constFloat("Mul", f32Min)})
	return x
}

func (m *bert) block(i int, x string, _ int) string {
	b, s := m.b, m.s
	H, nh, d := s.Hidden, s.Heads, s.HeadDim()
	L := layerScope(s, "/bert/encoder/layer", i)
	P := fmt.Sprintf("bert.encoder.layer.%d.", i)
	w := func(j int, name string, in, out int) string {
		return b.param(P+name+".weight", anonWeight(i*bertAnon+j), []int{in, out}, initLinear)
	}
	prm := func(name string, n int, kind initKind) string { return b.param(P+name, P+name, []int{n}, kind) }

	sa := L + "/attention/self"
	q := linear(b, sa+"/query", x, w(0, "attention.self.query", H, H), prm("attention.self.query.bias", H, initBias))
	k := linear(b, sa+"/key", x, w(1, "attention.self.key", H, H), prm("attention.self.key.bias", H, initBias))
	v := linear(b, sa+"/value", x, w(2, "attention.self.value", H, H), prm("attention.self.value.bias", H, initBias))
	a := attention(b, sa, heads(b, sa, q, nh, d), heads(b, sa, k, nh, d), heads(b, sa, v, nh, d), m.mask, nh, d)
	ao := L + "/attention/output"
	a = linear(b, ao+"/dense", a, w(3, "attention.output.dense", H, H), prm("attention.output.dense.bias", H, initBias))
	x = b.op(ao, "Add", []string{a, x})
	x = layerNorm(b, ao+"/LayerNorm", x, prm("attention.output.LayerNorm.weight", H, initNorm), prm("attention.output.LayerNorm.bias", H, initBias), bertEps)

	f := linear(b, L+"/intermediate/dense", x, w(4, "intermediate.dense", H, s.FF), prm("intermediate.dense.bias", s.FF, initBias))
	f = m.geluErf(L+"/intermediate/intermediate_act_fn", f)
	f = linear(b, L+"/output/dense", f, w(5, "output.dense", s.FF, H), prm("output.dense.bias", H, initBias))
	x = b.op(L+"/output", "Add", []string{f, x})
	x = layerNorm(b, L+"/output/LayerNorm", x, prm("output.LayerNorm.weight", H, initNorm), prm("output.LayerNorm.bias", H, initBias), bertEps)
	return x
}

// geluErf emits x * 0.5 * (1 + erf(x / sqrt 2)) as torch exports nn.GELU.
func (m *bert) geluErf(scope, x string) string {
	b := m.b
	t := b.op(scope, "Div", []string{x, b.constFloat("Div", float32(math.Sqrt2))})
	t = b.op(scope, "Erf", []string{t})
	t = b.op(scope, "Add", []string{t, b.constFloat("Add", 1)})
	t = b.op(scope, "Mul", []string{x, t})
	return b.op(scope, "Mul", []string{t, b.constFloat("Mul", 0.5)})
}

func (m *bert) epilogue(x string) {
	// BERT has no head: the last block's output is the graph output.
	m.b.rename(x, "last_hidden_state")
}

func (m *bert) io(int) {
	b, s := m.b, m.s
	b.input("input_ids", onnx.Int64, "batch", "sequence_length")
	b.input("attention_mask", onnx.Int64, "batch", "sequence_length")
	b.input("token_type_ids", onnx.Int64, "batch", "sequence_length")
	b.output("last_hidden_state", onnx.Float, "batch", "sequence_length", s.Hidden)
}
