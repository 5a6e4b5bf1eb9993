package testmodels

import (
	"fmt"
	"math"

	"github.com/painterc/painterc/onnx"
)

// Llama graph, as torch.onnx / optimum export LlamaForCausalLM:
//
//	/model/embed_tokens/Gather
//	/model/rotary_emb/{Cast,Unsqueeze,Mul,Concat,Cos,Sin}       cos/sin, once
//	/model/{Shape,Gather,...,Where}                               the mask, once
//	/model/layers.{i}/input_layernorm/{Pow,ReduceMean,Add,Sqrt,Div,Mul,Mul_1}
//	/model/layers.{i}/self_attn/{q,k,v}_proj/MatMul               onnx::MatMul_N
//	/model/layers.{i}/self_attn/{Reshape,Transpose,Slice,Neg,Concat,Mul,Add,...}
//	/model/layers.0/self_attn/Unsqueeze, Unsqueeze_1              cos/sin [b,1,s,d]: scoped to
//	                                                              the first block, read by all
//	/model/layers.{i}/self_attn/Concat_2, Concat_3                past ++ new -> present.{k}.*
//	/model/layers.{i}/self_attn/{Unsqueeze,Expand,Reshape}        GQA: repeat K/V heads
//	/model/layers.{i}/self_attn/o_proj/MatMul
//	/model/layers.{i}/Add                                          residual
//	/model/layers.{i}/post_attention_layernorm/...
//	/model/layers.{i}/mlp/{gate,up,down}_proj/MatMul, mlp/act_fn/{Sigmoid,Mul}, mlp/Mul
//	/model/layers.{i}/Add_1                                        residual
//	/model/norm/...
//	/lm_head/MatMul                                                -> logits
//
// The RMSNorm exponent, epsilon and 1.0 are unnamed Constants emitted once
// before block 0 and read by every norm; every other constant is an unnamed
// Constant right before its consumer.
type llama struct {
	b *builder
	s Spec

	mask, cos, sin string // prologue side inputs
	cosU, sinU     string // their [b,1,s,d] Unsqueezes, made by the first block
	two, one, eps  string // shared constants
}

const llamaEps = 1e-6
const ropeTheta = 10000.0

func (m *llama) root() string { return "/model" }

func (m *llama) prologue() string {
	b, s := m.b, m.s
	emb := b.param("model.embed_tokens.weight", "model.embed_tokens.weight", []int{s.Vocab, s.Hidden}, initEmbed)
	x := b.op("/model/embed_tokens", "Gather", []string{emb, "input_ids"}, attrInt("axis", 0))

	// Rotary tables [b, s, d] from position_ids.
	rs := "/model/rotary_emb"
	pos := b.op(rs, "Cast", []string{"position_ids"}, attrInt("to", int64(onnx.Float)))
	pos = b.op(rs, "Unsqueeze", []string{pos, b.constInts("Unsqueeze", 2)})
	freqs := b.op(rs, "Mul", []string{pos, b.constant(f32Tensor([]int{s.HeadDim() / 2}, invFreq(s.HeadDim())), "Mul")})
	embd := b.op(rs, "Concat", []string{freqs, freqs}, attrInt("axis", -1))
	m.cos = b.op(rs, "Cos", []string{embd})
	m.sin = b.op(rs, "Sin", []string{embd})

	m.mask = decoderMask(b, "/model", s.KVCache)

	m.two = b.constFloat("Pow", 2)
	m.eps = b.constFloat("Add", llamaEps)
	m.one = b.constFloat("Div", 1)
	return x
}

// invFreq returns 1/theta^(2j/d) for j < d/2, rounded to float32.
func invFreq(d int) []float32 {
	f := make([]float32, d/2)
	for j := range f {
		f[j] = float32(1 / math.Pow(ropeTheta, float64(2*j)/float64(d)))
	}
	return f
}

// rmsNorm emits x / sqrt(mean(x^2) + eps) * w as torch exports LlamaRMSNorm.
func (m *llama) rmsNorm(scope, x, w string) string {
	b := m.b
	p := b.op(scope, "Pow", []string{x, m.two})
	v := b.op(scope, "ReduceMean", []string{p}, attrInts("axes", -1), attrInt("keepdims", 1))
	v = b.op(scope, "Add", []string{v, m.eps})
	r := b.op(scope, "Sqrt", []string{v})
	r = b.op(scope, "Div", []string{m.one, r})
	y := b.op(scope, "Mul", []string{x, r})
	return b.op(scope, "Mul", []string{w, y})
}

// rope emits x*cos + rotate_half(x)*sin for x of shape [b, n, s, d].
func (m *llama) rope(scope, x string) string {
	b, h := m.b, int64(m.s.HeadDim()/2)
	x1 := b.op(scope, "Slice", []string{x, b.constInts("Slice", 0), b.constInts("Slice", h), b.constInts("Slice", 3), b.constInts("Slice", 1)})
	x2 := b.op(scope, "Slice", []string{x, b.constInts("Slice", h), b.constInts("Slice", math.MaxInt64), b.constInts("Slice", 3), b.constInts("Slice", 1)})
	n := b.op(scope, "Neg", []string{x2})
	r := b.op(scope, "Concat", []string{n, x1}, attrInt("axis", -1))
	a := b.op(scope, "Mul", []string{x, m.cosU})
	c := b.op(scope, "Mul", []string{r, m.sinU})
	return b.op(scope, "Add", []string{a, c})
}

// llamaAnon is the number of anonymous weights per block.
const llamaAnon = 7

// llamaParam is the parameter-name prefix of block i.
func llamaParam(i int) string { return fmt.Sprintf("model.layers.%d.", i) }

func (m *llama) block(i int, x string, slot int) string {
	b, s := m.b, m.s
	L := layerScope(s, "/model/layers", i)
	P := llamaParam(i)
	h := m.rmsNorm(L+"/input_layernorm", x, b.param(P+"input_layernorm.weight", P+"input_layernorm.weight", []int{s.Hidden}, initNorm))
	x = b.op(L, "Add", []string{x, m.attentionBlock(i, L, h, slot)})
	h = m.rmsNorm(L+"/post_attention_layernorm", x, b.param(P+"post_attention_layernorm.weight", P+"post_attention_layernorm.weight", []int{s.Hidden}, initNorm))
	return b.op(L, "Add", []string{x, m.mlpBlock(i, L, h)})
}

// lin returns block i's j-th anonymous projection weight.
func (m *llama) lin(i, j int, name string, in, out int) string {
	P := llamaParam(i)
	return m.b.param(P+name+".weight", anonWeight(i*llamaAnon+j), []int{in, out}, initLinear)
}

// attentionBlock emits block i's self-attention on the normalized h (scope
// L) and returns o_proj's output, before the residual.
func (m *llama) attentionBlock(i int, L, h string, slot int) string {
	b, s := m.b, m.s
	H, nh, kvh, d := s.Hidden, s.Heads, s.KVHeads, s.HeadDim()
	at := L + "/self_attn"
	q := b.op(at+"/q_proj", "MatMul", []string{h, m.lin(i, 0, "self_attn.q_proj", H, nh*d)})
	k := b.op(at+"/k_proj", "MatMul", []string{h, m.lin(i, 1, "self_attn.k_proj", H, kvh*d)})
	v := b.op(at+"/v_proj", "MatMul", []string{h, m.lin(i, 2, "self_attn.v_proj", H, kvh*d)})
	q = heads(b, at, q, nh, d)
	k = heads(b, at, k, kvh, d)
	v = heads(b, at, v, kvh, d)
	if m.cosU == "" {
		// The exporter merges the identical cos/sin Unsqueezes of all
		// blocks into the first one's: a node scoped to this block that
		// every later block reads.
		m.cosU = b.op(at, "Unsqueeze", []string{m.cos, b.constInts("Unsqueeze", 1)})
		m.sinU = b.op(at, "Unsqueeze", []string{m.sin, b.constInts("Unsqueeze", 1)})
	}
	q = m.rope(at, q)
	k = m.rope(at, k)
	if s.KVCache {
		p := fmt.Sprintf("past_key_values.%d.", slot)
		o := fmt.Sprintf("present.%d.", slot)
		k = b.opTo(o+"key", at, "Concat", []string{p + "key", k}, attrInt("axis", 2))
		v = b.opTo(o+"value", at, "Concat", []string{p + "value", v}, attrInt("axis", 2))
	}
	if rep := nh / kvh; rep > 1 {
		// repeat_kv: [b, kv, t, d] -> [b, kv, 1, t, d] -> [b, kv, rep, t, d]
		// -> [b, kv*rep, t, d]; head n reads kv head n/rep.
		expand := func(t string) string {
			t = b.op(at, "Unsqueeze", []string{t, b.constInts("Unsqueeze", 2)})
			t = b.op(at, "Expand", []string{t, b.constInts("Expand", 1, 1, int64(rep), 1, 1)})
			return b.op(at, "Reshape", []string{t, b.constInts("Reshape", 0, int64(nh), -1, int64(d))})
		}
		k = expand(k)
		v = expand(v)
	}
	a := attention(b, at, q, k, v, m.mask, nh, d)
	return b.op(at+"/o_proj", "MatMul", []string{a, m.lin(i, 3, "self_attn.o_proj", nh*d, H)})
}

// mlpBlock emits block i's SwiGLU MLP on the normalized h and returns
// down_proj's output, before the residual.
func (m *llama) mlpBlock(i int, L, h string) string {
	b, s := m.b, m.s
	H := s.Hidden
	ml := L + "/mlp"
	g := b.op(ml+"/gate_proj", "MatMul", []string{h, m.lin(i, 4, "mlp.gate_proj", H, s.FF)})
	sg := b.op(ml+"/act_fn", "Sigmoid", []string{g})
	g = b.op(ml+"/act_fn", "Mul", []string{g, sg})
	u := b.op(ml+"/up_proj", "MatMul", []string{h, m.lin(i, 5, "mlp.up_proj", H, s.FF)})
	g = b.op(ml, "Mul", []string{g, u})
	return b.op(ml+"/down_proj", "MatMul", []string{g, m.lin(i, 6, "mlp.down_proj", s.FF, H)})
}

func (m *llama) epilogue(x string) {
	b, s := m.b, m.s
	x = m.rmsNorm("/model/norm", x, b.param("model.norm.weight", "model.norm.weight", []int{s.Hidden}, initNorm))
	w := b.param("lm_head.weight", anonWeight(s.Layers*llamaAnon), []int{s.Hidden, s.Vocab}, initLinear)
	b.opTo("logits", "/lm_head", "MatMul", []string{x, w})
}

func (m *llama) io(slots int) {
	b, s := m.b, m.s
	b.input("input_ids", onnx.Int64, "batch", "sequence_length")
	b.input("attention_mask", onnx.Int64, "batch", "total_sequence_length")
	b.input("position_ids", onnx.Int64, "batch", "sequence_length")
	b.output("logits", onnx.Float, "batch", "sequence_length", s.Vocab)
	if s.KVCache {
		kvIO(b, slots, s.KVHeads, s.HeadDim())
	}
}
