package testmodels

import (
	"fmt"
	"math"
	"strconv"

	"github.com/painterc/painterc/onnx"
)

// The onnxruntime-genai builder layout (Spec.GenAI), as its model builder
// writes a CPU Llama (docs/design.md, "What exports look like"):
//
//	/model/embed_tokens/Gather                                  model.embed_tokens.weight
//	/model/attn_mask_reformat/attn_mask_subgraph/ReduceSum, Sub, Sub/Cast
//	                                                            seqlens_k = ReduceSum(mask, 1) - 1, int32
//	/model/attn_mask_reformat/attn_mask_subgraph/Shape, Gather, Gather/Cast
//	                                                            total_sequence_length = Shape(mask)[1], int32
//	/model/layers.0/input_layernorm/LayerNorm                   SimplifiedLayerNormalization (default domain)
//	/model/layers.{i}/input_layernorm/SkipLayerNorm             com.microsoft SkipSimplifiedLayerNormalization, i > 0
//	/model/layers.{i}/attn/qkv_proj/MatMul                      packed [q | k | v]
//	/model/layers.{i}/attn/GroupQueryAttention                  com.microsoft, do_rotary=1, cos_cache/sin_cache
//	/model/layers.{i}/attn/o_proj/MatMul
//	/model/layers.{i}/post_attention_layernorm/SkipLayerNorm
//	/model/layers.{i}/mlp/{gate_proj,up_proj}/MatMul, mlp/act_fn/{Sigmoid,Mul}, mlp/Mul, mlp/down_proj/MatMul
//	/model/layers.{T}/final_norm_layernorm/SkipLayerNorm        output 0 only
//	/lm_head/MatMul                                             -> logits
//
// A node's outputs are "{name}/output_{j}", as the builder names them, but
// for the norms' "{scope}/output_{j}" (/model/layers.1/input_layernorm/output_3).
// Its int64 constants are Constant nodes /model/constant_nodes/INT64/{v},
// each read by every use as /model/constants/INT64/{v}. The model is IR 10,
// opset 21 (com.microsoft 1), as the builder writes it. The
// inputs are input_ids, attention_mask [batch, total_sequence_length] and
// past_key_values.{k}.key/.value; there is no position_ids: GroupQueryAttention
// rotates position past_length + i. With Spec.Int4 every MatMul on a weight
// is a MatMulNBits named .../MatMul_Q4, as ORT's quantizer names it.
//
// The weights are the plain Llama's (the packed qkv is its q, k and v
// projections side by side), so that the function is the Llama family's.

const genaiBlockSize = 32

func (m *llamaFused) genaiPrologue() string {
	b, s := m.b, m.s
	emb := b.param("model.embed_tokens.weight", "model.embed_tokens.weight", []int{s.Vocab, s.Hidden}, initEmbed)
	x := b.op("/model/embed_tokens", "Gather", []string{emb, "input_ids"})

	ms := "/model/attn_mask_reformat/attn_mask_subgraph"
	sum := b.op(ms, "ReduceSum", []string{"attention_mask", m.genaiConst("[1]")}, attrInt("keepdims", 0))
	sub := b.op(ms, "Sub", []string{sum, m.genaiConst("[1]")})
	m.seqlensK = b.op(ms+"/Sub", "Cast", []string{sub}, attrInt("to", int64(onnx.Int32)))
	shape := b.op(ms, "Shape", []string{"attention_mask"})
	total := b.op(ms, "Gather", []string{shape, m.genaiConst("1")}, attrInt("axis", 0))
	m.totalLen = b.op(ms+"/Gather", "Cast", []string{total}, attrInt("to", int64(onnx.Int32)))

	// cos_cache/sin_cache [MaxPos, head_dim/2]: cos and sin of p * inv_freq[j],
	// the product rounded to float32 as the plain Llama's Mul rounds it.
	d := s.HeadDim()
	inv := invFreq(d)
	cos := make([]float32, s.MaxPos*d/2)
	sin := make([]float32, s.MaxPos*d/2)
	for p := 0; p < s.MaxPos; p++ {
		for j := 0; j < d/2; j++ {
			f := float32(p) * inv[j]
			cos[p*d/2+j] = float32(math.Cos(float64(f)))
			sin[p*d/2+j] = float32(math.Sin(float64(f)))
		}
	}
	m.cos = b.initializer(named(f32Tensor([]int{s.MaxPos, d / 2}, cos), "cos_cache"))
	m.sin = b.initializer(named(f32Tensor([]int{s.MaxPos, d / 2}, sin), "sin_cache"))
	return x
}

func named(t *onnx.Tensor, name string) *onnx.Tensor { t.Name = name; return t }

// genaiConst returns the builder's shared int64 constant v ("1" a scalar,
// "[1]" a 1-element tensor): a Constant node /model/constant_nodes/INT64/v
// whose output /model/constants/INT64/v every later use reads.
func (m *llamaFused) genaiConst(v string) string {
	b := m.b
	out := "/model/constants/INT64/" + v
	if b.inits[out] {
		return out
	}
	b.inits[out] = true // a value name, reserved like an initializer's
	t := i64Scalar(1)
	switch v {
	case "1":
	case "[1]":
		t = i64s([]int64{1})
	default:
		panic("testmodels: no genai constant " + v)
	}
	b.g.Node = append(b.g.Node, &onnx.Node{Name: "/model/constant_nodes/INT64/" + v, OpType: "Constant", Output: []string{out},
		Attribute: []*onnx.Attribute{attrTensor("value", t)}})
	return out
}

// genaiNormOutput names output j of a norm node called name in scope as
// the builder does, {scope}/output_{j} (/model/layers.3/input_layernorm/output_0),
// for the first norm node in the scope; later ones (a block Build runs
// twice) take the node's name, which is unique.
func (m *llamaFused) genaiNormOutput(scope, name string, j int) string {
	out := scope + "/output_" + strconv.Itoa(j)
	if m.normOuts == nil {
		m.normOuts = map[string]string{}
	}
	if owner, taken := m.normOuts[out]; taken && owner != name {
		return name + "/output_" + strconv.Itoa(j)
	}
	m.normOuts[out] = name
	return out
}

// genaiNorm is block i's input norm: layer 0's SimplifiedLayerNormalization
// of one tensor, or the fused skip norm of a pair.
func (m *llamaFused) genaiNorm(scope string, x []string, w string) (norm, residual string) {
	if len(x) == 2 {
		return m.skipNorm(scope, x[0], x[1], w)
	}
	b := m.b
	name := b.nodeName(scope, "LayerNorm")
	y := m.genaiNormOutput(scope, name, 0)
	b.g.Node = append(b.g.Node, &onnx.Node{Name: name, OpType: "SimplifiedLayerNormalization",
		Input: []string{x[0], w}, Output: []string{y},
		Attribute: []*onnx.Attribute{attrInt("axis", -1), attrFloat("epsilon", llamaEps), attrInt("stash_type", 1)}})
	return y, x[0]
}

// genaiWeight returns the weight named after its MatMul, [in, out], made
// from the plain Llama's parameters (concatenated along out when several).
func (m *llamaFused) genaiWeight(name string, in int, parts []string, outs []int) []float32 {
	total := 0
	for _, o := range outs {
		total += o
	}
	w := make([]float32, in*total)
	col := 0
	for p, part := range parts {
		src := m.b.w.get(part, []int{in, outs[p]}, initLinear)
		for r := 0; r < in; r++ {
			copy(w[r*total+col:], src[r*outs[p]:(r+1)*outs[p]])
		}
		col += outs[p]
	}
	return w
}

// genaiLinear emits x @ W for the weight made of parts: a MatMul on the
// initializer {wname}, or with Int4 a MatMulNBits on {wname}_Q4 and
// {wname}_scales.
func (m *llamaFused) genaiLinear(scope, x, wname string, in int, parts []string, outs []int) string {
	b := m.b
	N := 0
	for _, o := range outs {
		N += o
	}
	if !m.s.Int4 {
		if !b.inits[wname] {
			b.initializer(named(f32Tensor([]int{in, N}, m.genaiWeight(wname, in, parts, outs)), wname))
		}
		return b.op(scope, "MatMul", []string{x, wname})
	}
	q, sc := wname+"_Q4", wname+"_scales"
	if !b.inits[q] {
		packed, scales := quantize4(m.genaiWeight(wname, in, parts, outs), in, N)
		nb := (in + genaiBlockSize - 1) / genaiBlockSize
		qt := &onnx.Tensor{Name: q, Dims: []int64{int64(N), int64(nb), genaiBlockSize / 2}, DataType: onnx.Uint8, RawData: packed}
		b.initializer(qt)
		b.initializer(named(f32Tensor([]int{N * nb}, scales), sc))
	}
	// ORT's MatMul4BitsQuantizer replaces the builder's MatMul by a
	// MatMulNBits named {name}_Q4 that keeps the MatMul's output name.
	name := b.nodeName(scope, "MatMul")
	y := name + b.outSep + "0"
	b.g.Node = append(b.g.Node, &onnx.Node{Name: name + "_Q4", OpType: "MatMulNBits", Domain: msDomain,
		Input: []string{x, q, sc}, Output: []string{y},
		Attribute: []*onnx.Attribute{attrInt("K", int64(in)), attrInt("N", int64(N)), attrInt("accuracy_level", 4),
			attrInt("bits", 4), attrInt("block_size", genaiBlockSize)}})
	return y
}

// quantize4 quantizes w [K, N] per column in blocks of 32 along K, as ORT's
// symmetric blockwise quantizer does: the block's value of largest
// magnitude v gives scale = v / -8, q = clamp(round(x/scale) + 8, 0, 15),
// packed two to a byte, the lower k in the low nibble. It returns the
// packed [N, K/32, 16] bytes and the scales [N, K/32].
func quantize4(w []float32, K, N int) (packed []byte, scales []float32) {
	nb := (K + genaiBlockSize - 1) / genaiBlockSize
	packed = make([]byte, N*nb*genaiBlockSize/2)
	scales = make([]float32, N*nb)
	for n := 0; n < N; n++ {
		for blk := 0; blk < nb; blk++ {
			var vmax, amax float32
			for k := blk * genaiBlockSize; k < min(K, (blk+1)*genaiBlockSize); k++ {
				if a := float32(math.Abs(float64(w[k*N+n]))); a > amax {
					amax, vmax = a, w[k*N+n]
				}
			}
			scale := vmax / -8
			inv := float32(0)
			if scale != 0 {
				inv = 1 / scale
			}
			scales[n*nb+blk] = scale
			for j := 0; j < genaiBlockSize; j++ {
				k := blk*genaiBlockSize + j
				q := 8
				if k < K {
					q = int(math.Round(float64(w[k*N+n]*inv))) + 8
					q = max(0, min(15, q))
				}
				byteAt := (n*nb+blk)*genaiBlockSize/2 + j/2
				packed[byteAt] |= byte(q) << (4 * (j % 2))
			}
		}
	}
	return packed, scales
}

// dequantize4 returns w [K, N] as MatMulNBits sees it after quantize4:
// (q - 8) * scale.
func dequantize4(w []float32, K, N int) []float32 {
	packed, scales := quantize4(w, K, N)
	nb := (K + genaiBlockSize - 1) / genaiBlockSize
	out := make([]float32, len(w))
	for n := 0; n < N; n++ {
		for k := 0; k < K; k++ {
			blk, j := k/genaiBlockSize, k%genaiBlockSize
			q := packed[(n*nb+blk)*genaiBlockSize/2+j/2] >> (4 * (j % 2)) & 15
			out[k*N+n] = float32(int(q)-8) * scales[n*nb+blk]
		}
	}
	return out
}

func (m *llamaFused) genaiBlock(i int, x []string, slot int) []string {
	b, s := m.b, m.s
	H, nh, kvh, d := s.Hidden, s.Heads, s.KVHeads, s.HeadDim()
	L := "/model/layers." + strconv.Itoa(i)
	W := "model.layers." + strconv.Itoa(i) + "."
	P := llamaParam(i)
	h, res := m.genaiNorm(L+"/input_layernorm", x, b.param(P+"input_layernorm.weight", W+"input_layernorm.weight", []int{H}, initNorm))

	qkv := m.genaiLinear(L+"/attn/qkv_proj", h, W+"attn.qkv_proj.MatMul.weight", H,
		[]string{P + "self_attn.q_proj.weight", P + "self_attn.k_proj.weight", P + "self_attn.v_proj.weight"},
		[]int{nh * d, kvh * d, kvh * d})
	k := strconv.Itoa(slot)
	att := b.emit(L+"/attn", "GroupQueryAttention",
		[]string{qkv, "", "", "past_key_values." + k + ".key", "past_key_values." + k + ".value", m.seqlensK, m.totalLen, m.cos, m.sin},
		[]string{"", "present." + k + ".key", "present." + k + ".value"},
		attrInt("do_rotary", 1), attrInt("kv_num_heads", int64(kvh)), attrInt("local_window_size", -1),
		attrInt("num_heads", int64(nh)), attrInt("rotary_interleaved", 0),
		attrFloat("scale", float32(1/math.Sqrt(float64(d)))), attrFloat("softcap", 0))[0]
	b.g.Node[len(b.g.Node)-1].Domain = msDomain
	o := m.genaiLinear(L+"/attn/o_proj", att, W+"attn.o_proj.MatMul.weight", nh*d,
		[]string{P + "self_attn.o_proj.weight"}, []int{H})

	h, res = m.skipNorm(L+"/post_attention_layernorm", o, res, b.param(P+"post_attention_layernorm.weight", W+"post_attention_layernorm.weight", []int{H}, initNorm))
	ml := L + "/mlp"
	g := m.genaiLinear(ml+"/gate_proj", h, W+"mlp.gate_proj.MatMul.weight", H, []string{P + "mlp.gate_proj.weight"}, []int{s.FF})
	u := m.genaiLinear(ml+"/up_proj", h, W+"mlp.up_proj.MatMul.weight", H, []string{P + "mlp.up_proj.weight"}, []int{s.FF})
	sg := b.op(ml+"/act_fn", "Sigmoid", []string{g})
	g = b.op(ml+"/act_fn", "Mul", []string{g, sg})
	g = b.op(ml, "Mul", []string{g, u})
	dn := m.genaiLinear(ml+"/down_proj", g, W+"mlp.down_proj.MatMul.weight", s.FF, []string{P + "mlp.down_proj.weight"}, []int{H})
	return []string{dn, res}
}

func (m *llamaFused) genaiEpilogue(x []string) {
	b, s := m.b, m.s
	T := strconv.Itoa(s.Layers)
	w := b.param("model.norm.weight", "model.layers."+T+".final_norm_layernorm.weight", []int{s.Hidden}, initNorm)
	h, _ := m.genaiNorm("/model/layers."+T+"/final_norm_layernorm", x, w)
	if len(x) == 2 {
		// The last norm writes only output 0.
		n := b.g.Node[len(b.g.Node)-1]
		n.Output = n.Output[:1]
	}
	// A one-tensor stream here means no block ran; genai's final norm is
	// then a SimplifiedLayerNormalization like layer 0's.
	y := m.genaiLinear("/lm_head", h, "lm_head.MatMul.weight", s.Hidden, []string{"lm_head.weight"}, []int{s.Vocab})
	b.rename(y, "logits")
}

func (m *llamaFused) genaiIO(slots int) {
	b, s := m.b, m.s
	b.input("input_ids", onnx.Int64, "batch_size", "sequence_length")
	b.input("attention_mask", onnx.Int64, "batch_size", "total_sequence_length")
	for k := 0; k < slots; k++ {
		p := "past_key_values." + strconv.Itoa(k)
		b.input(p+".key", onnx.Float, "batch_size", s.KVHeads, "past_sequence_length", s.HeadDim())
		b.input(p+".value", onnx.Float, "batch_size", s.KVHeads, "past_sequence_length", s.HeadDim())
	}
	b.output("logits", onnx.Float, "batch_size", "sequence_length", s.Vocab)
	for k := 0; k < slots; k++ {
		p := "present." + strconv.Itoa(k)
		b.output(p+".key", onnx.Float, "batch_size", s.KVHeads, "total_sequence_length", s.HeadDim())
		b.output(p+".value", onnx.Float, "batch_size", s.KVHeads, "total_sequence_length", s.HeadDim())
	}
}

// GenAIConfig returns the genai_config.json onnxruntime-genai reads beside
// a model built from s with the given number of KV slots (instances).
func GenAIConfig(s Spec, slots int, filename string) ([]byte, error) {
	s, err := s.normalized()
	if err != nil {
		return nil, err
	}
	if !s.GenAI {
		return nil, fmt.Errorf("testmodels: genai_config.json belongs to the genai layout")
	}
	return []byte(fmt.Sprintf(`{
    "model": {
        "bos_token_id": 1,
        "context_length": %d,
        "decoder": {
            "session_options": {"log_id": "onnxruntime-genai", "provider_options": []},
            "filename": %q,
            "head_size": %d,
            "hidden_size": %d,
            "inputs": {
                "input_ids": "input_ids",
                "attention_mask": "attention_mask",
                "past_key_names": "past_key_values.%%d.key",
                "past_value_names": "past_key_values.%%d.value"
            },
            "outputs": {
                "logits": "logits",
                "present_key_names": "present.%%d.key",
                "present_value_names": "present.%%d.value"
            },
            "num_attention_heads": %d,
            "num_hidden_layers": %d,
            "num_key_value_heads": %d
        },
        "eos_token_id": 2,
        "pad_token_id": 0,
        "type": "llama",
        "vocab_size": %d
    },
    "search": {"max_length": %d, "past_present_share_buffer": false}
}
`, s.MaxPos, filename, s.HeadDim(), s.Hidden, s.Heads, slots, s.KVHeads, s.Vocab, s.MaxPos)), nil
}
