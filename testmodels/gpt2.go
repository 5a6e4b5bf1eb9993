package testmodels

import (
	"fmt"
	"math"

	"github.com/painterc/painterc/onnx"
)

// GPT2 graph, as torch.onnx / optimum export GPT2LMHeadModel:
//
//	/transformer/wte/Gather, /transformer/wpe/Gather, /transformer/Add
//	/transformer/{Shape,Gather,...,Where}                    the mask, once
//	/transformer/h.{i}/ln_1/LayerNormalization
//	/transformer/h.{i}/attn/c_attn/{MatMul,Add}               one [H, 3H] projection
//	/transformer/h.{i}/attn/Split                             -> q, k, v
//	/transformer/h.{i}/attn/{Reshape,Transpose,Concat,MatMul,Div,Add,Softmax,...}
//	/transformer/h.{i}/attn/c_proj/{MatMul,Add}
//	/transformer/h.{i}/Add                                    residual
//	/transformer/h.{i}/ln_2/LayerNormalization
//	/transformer/h.{i}/mlp/c_fc/{MatMul,Add}
//	/transformer/h.{i}/mlp/act/{Mul,Pow,Mul_1,Add,Mul_2,Tanh,Add_1,Mul_3}   tanh GELU
//	/transformer/h.{i}/mlp/c_proj/{MatMul,Add}
//	/transformer/h.{i}/Add_1                                  residual
//	/transformer/ln_f/LayerNormalization
//	/lm_head/MatMul                                           -> logits
//
// The LM head is tied to wte in the checkpoint, but the export holds it as a
// second initializer, onnx::MatMul_3000 = wte^T [H, V]: the trap docs/design.md describes under "What exports look like"
// describes. The qkv split sizes and the head reshape shape are unnamed
// Constants shared by every block.
type gpt2 struct {
	b *builder
	s Spec

	mask       string
	split, shp string    // shared constants
	gelu       [4]string // shared GELU constants
}

const gpt2Eps = 1e-5

func (m *gpt2) root() string { return "/transformer" }

func (m *gpt2) prologue() string {
	b, s := m.b, m.s
	wte := b.param("transformer.wte.weight", "transformer.wte.weight", []int{s.Vocab, s.Hidden}, initEmbed)
	wpe := b.param("transformer.wpe.weight", "transformer.wpe.weight", []int{s.MaxPos, s.Hidden}, initEmbed)
	te := b.op("/transformer/wte", "Gather", []string{wte, "input_ids"}, attrInt("axis", 0))
	pe := b.op("/transformer/wpe", "Gather", []string{wpe, "position_ids"}, attrInt("axis", 0))
	x := b.op("/transformer", "Add", []string{te, pe})
	m.mask = decoderMask(b, "/transformer", s.KVCache)
	H := int64(s.Hidden)
	m.split = b.constInts("Split", H, H, H)
	m.shp = b.constInts("Reshape", 0, 0, int64(s.Heads), int64(s.HeadDim()))
	m.gelu = [4]string{
		b.constFloat("Mul", 0.5),
		b.constFloat("Pow", 3),
		b.constFloat("Mul", 0.044715),
		b.constFloat("Mul", float32(math.Sqrt(2/math.Pi))),
	}
	return x
}

func (m *gpt2) block(i int, x string, slot int) string {
	b, s := m.b, m.s
	H, nh, d := s.Hidden, s.Heads, s.HeadDim()
	L := layerScope(s, "/transformer/h", i)
	P := fmt.Sprintf("transformer.h.%d.", i)
	prm := func(name string, shape []int, kind initKind) string { return b.param(P+name, P+name, shape, kind) }

	h := layerNorm(b, L+"/ln_1", x, prm("ln_1.weight", []int{H}, initNorm), prm("ln_1.bias", []int{H}, initBias), gpt2Eps)
	at := L + "/attn"
	qkv := linear(b, at+"/c_attn", h, prm("attn.c_attn.weight", []int{H, 3 * H}, initLinear), prm("attn.c_attn.bias", []int{3 * H}, initBias))
	parts := b.emit(at, "Split", []string{qkv, m.split}, []string{"", "", ""}, attrInt("axis", 2))
	hd := func(t string) string {
		t = b.op(at, "Reshape", []string{t, m.shp})
		return b.op(at, "Transpose", []string{t}, attrInts("perm", 0, 2, 1, 3))
	}
	q, k, v := hd(parts[0]), hd(parts[1]), hd(parts[2])
	if s.KVCache {
		p := fmt.Sprintf("past_key_values.%d.", slot)
		o := fmt.Sprintf("present.%d.", slot)
		k = b.opTo(o+"key", at, "Concat", []string{p + "key", k}, attrInt("axis", -2))
		v = b.opTo(o+"value", at, "Concat", []string{p + "value", v}, attrInt("axis", -2))
	}
	a := attention(b, at, q, k, v, m.mask, nh, d)
	a = linear(b, at+"/c_proj", a, prm("attn.c_proj.weight", []int{H, H}, initLinear), prm("attn.c_proj.bias", []int{H}, initBias))
	x = b.op(L, "Add", []string{a, x})

	h = layerNorm(b, L+"/ln_2", x, prm("ln_2.weight", []int{H}, initNorm), prm("ln_2.bias", []int{H}, initBias), gpt2Eps)
	ml := L + "/mlp"
	f := linear(b, ml+"/c_fc", h, prm("mlp.c_fc.weight", []int{H, s.FF}, initLinear), prm("mlp.c_fc.bias", []int{s.FF}, initBias))
	f = m.geluTanh(ml+"/act", f)
	f = linear(b, ml+"/c_proj", f, prm("mlp.c_proj.weight", []int{s.FF, H}, initLinear), prm("mlp.c_proj.bias", []int{H}, initBias))
	return b.op(L, "Add", []string{x, f})
}

// geluTanh emits 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) op by op,
// as torch exports GPT-2's NewGELUActivation.
func (m *gpt2) geluTanh(scope, x string) string {
	b, c := m.b, m.gelu
	half := b.op(scope, "Mul", []string{c[0], x})
	cube := b.op(scope, "Pow", []string{x, c[1]})
	cube = b.op(scope, "Mul", []string{c[2], cube})
	in := b.op(scope, "Add", []string{x, cube})
	in = b.op(scope, "Mul", []string{c[3], in})
	t := b.op(scope, "Tanh", []string{in})
	t = b.op(scope, "Add", []string{b.constFloat("Add", 1), t})
	return b.op(scope, "Mul", []string{half, t})
}

func (m *gpt2) epilogue(x string) {
	b, s := m.b, m.s
	x = layerNorm(b, "/transformer/ln_f", x,
		b.param("transformer.ln_f.weight", "transformer.ln_f.weight", []int{s.Hidden}, initNorm),
		b.param("transformer.ln_f.bias", "transformer.ln_f.bias", []int{s.Hidden}, initBias), gpt2Eps)
	// The tied head, exported as its own transposed copy of wte.
	var t *onnx.Tensor
	if s.ExternalData != "" {
		t = b.external([]int{s.Hidden, s.Vocab})
	} else {
		wte := b.w.get("transformer.wte.weight", []int{s.Vocab, s.Hidden}, initEmbed)
		t = f32Tensor([]int{s.Hidden, s.Vocab}, transposed(wte, s.Vocab, s.Hidden))
	}
	t.Name = anonWeight(0)
	b.opTo("logits", "/lm_head", "MatMul", []string{x, b.initializer(t)})
}

func (m *gpt2) io(slots int) {
	b, s := m.b, m.s
	b.input("input_ids", onnx.Int64, "batch", "sequence_length")
	b.input("attention_mask", onnx.Int64, "batch", "total_sequence_length")
	b.input("position_ids", onnx.Int64, "batch", "sequence_length")
	b.output("logits", onnx.Float, "batch", "sequence_length", s.Vocab)
	if s.KVCache {
		kvIO(b, slots, s.KVHeads, s.HeadDim())
	}
}
