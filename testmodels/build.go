package testmodels

import (
	"fmt"
	"math"
	"strconv"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/schedule"
)

// family emits one architecture's graph pieces into a builder.
type family interface {
	// prologue emits everything before block 0 (embeddings, the mask, the
	// rotary tables, constants shared by all blocks) and returns the
	// residual stream's first tensor.
	prologue() string
	// block emits one instance of block i reading x; slot is the instance's
	// KV-cache slot. It returns the block's output.
	block(i int, x string, slot int) string
	// epilogue emits the final norm and head reading x and names the graph
	// output.
	epilogue(x string)
	// root is the scope of model-level nodes (the parallel mean).
	root() string
	// io declares the graph inputs and outputs for a model with slots KV
	// instances.
	io(slots int)
}

// streamFamily is a family whose residual stream between blocks is more
// than one tensor (the fused layout hands on a pair).
type streamFamily interface {
	blockStream(i int, x []string, slot int) []string
	epilogueStream(x []string)
}

// Build returns the model that runs its blocks in schedule sched, from the
// weights of spec s. Block i's initializers are shared by every instance of
// block i; blocks that never run contribute none. A parallel group feeds all
// members the same tensor and averages their outputs with Sum then Mul by
// 1/m (Div by m for Float16); a repeat feeds a step's output back in. With s.KVCache, instance k (in
// execution order, counting every parallel member and loop iteration, with a
// parallel group's members in ascending block order) reads
// past_key_values.{k}.* and writes present.{k}.*. The model records
// sched.String() under metadata_props "painterc.schedule".
func Build(s Spec, sched schedule.Schedule) (*onnx.Model, error) {
	s, err := s.normalized()
	if err != nil {
		return nil, err
	}
	if err := checkSchedule(s, sched); err != nil {
		return nil, err
	}
	if hasParts(sched.Steps) {
		return nil, fmt.Errorf("testmodels: Build runs whole blocks only, not sub-block steps (i.attn, i.mlp) as in %s; check those against Reference", sched)
	}
	b := newBuilder(s)
	var f family
	switch s.Family {
	case Llama:
		f = &llama{b: b, s: s}
		if s.Fused {
			f = &llamaFused{llama: llama{b: b, s: s}}
		}
	case GPT2:
		f = &gpt2{b: b, s: s}
	case BERT:
		f = &bert{b: b, s: s}
	}
	block := func(i int, x []string, slot int) []string { return []string{f.block(i, x[0], slot)} }
	epilogue := func(x []string) { f.epilogue(x[0]) }
	if sf, ok := f.(streamFamily); ok {
		block, epilogue = sf.blockStream, sf.epilogueStream
	}
	x := []string{f.prologue()}
	slot := 0
	walk(sched.Steps, func(members []int, _ schedule.Part) {
		if len(members) == 1 {
			x = block(members[0], x, slot)
			slot++
			return
		}
		outs := make([][]string, len(members))
		for j, m := range members {
			outs[j] = block(m, x, slot)
			slot++
		}
		// The mean of each tensor of the stream: for a fused pair (a, r),
		// (mean a, mean r), whose sum is the mean of the members' streams.
		x = make([]string, len(outs[0]))
		for p := range x {
			terms := make([]string, len(outs))
			for j := range outs {
				terms[j] = outs[j][p]
			}
			sum := b.op(f.root(), "Sum", terms)
			if s.Float16 {
				// 1/m is not a float16 value (1/3 would be 0.33325):
				// divide by m, which is.
				x[p] = b.op(f.root(), "Div", []string{sum, b.constFloat("Div", float32(len(members)))})
				continue
			}
			x[p] = b.op(f.root(), "Mul", []string{sum, b.constFloat("Mul", 1/float32(len(members)))})
		}
	})
	epilogue(x)
	f.io(slot)
	m, err := b.finish(sched.String())
	if err == nil && s.Fused {
		m.OpsetImport = append(m.OpsetImport, &onnx.OperatorSet{Domain: msDomain, Version: 1})
	}
	if err == nil && s.GenAI {
		m.IRVersion, m.OpsetImport[0].Version = 10, 21
	}
	if err == nil && s.Dynamo {
		toDynamo(m, s, b.params)
	}
	if err == nil && s.Float16 {
		toFloat16(m)
	}
	return m, err
}

// Default builds the plain model: blocks 0..T-1 in order.
func Default(s Spec) (*onnx.Model, error) { return Build(s, s.Identity()) }

// MustBuild is Build for tests and examples: it panics on error.
func MustBuild(s Spec, sched schedule.Schedule) *onnx.Model {
	m, err := Build(s, sched)
	if err != nil {
		panic(err)
	}
	return m
}

// ---- pieces shared by the decoders ----

// f32Min is torch.finfo(torch.float32).min, the value HF masks with.
const f32Min = -math.MaxFloat32

// decoderMask emits the additive attention mask [batch, 1, seq, past+seq]
// once, in the prologue (scope root): 0 where query i may see key j (j <=
// past+i and attention_mask[b, j] != 0), f32Min elsewhere. With a KV cache
// the past length is read from past_key_values.0.key (Shape -> Gather), as
// the exporter does.
func decoderMask(b *builder, root string, kv bool) string {
	ids := b.op(root, "Shape", []string{"input_ids"})
	seq := b.op(root, "Gather", []string{ids, b.constInt("Gather", 1)}, attrInt("axis", 0))
	var past string
	if kv {
		pk := b.op(root, "Shape", []string{"past_key_values.0.key"})
		past = b.op(root, "Gather", []string{pk, b.constInt("Gather", 2)}, attrInt("axis", 0))
	} else {
		past = b.constInt("Range", 0)
	}
	total := b.op(root, "Add", []string{past, seq})
	one := b.constInt("Range", 1)
	qpos := b.op(root, "Range", []string{past, total, one})
	kpos := b.op(root, "Range", []string{b.constInt("Range", 0), total, one})
	qcol := b.op(root, "Unsqueeze", []string{qpos, b.constInts("Unsqueeze", 1)})
	causal := b.op(root, "LessOrEqual", []string{kpos, qcol}) // [seq, total]
	pad := b.op(root, "Cast", []string{"attention_mask"}, attrInt("to", int64(onnx.Bool)))
	pad = b.op(root, "Unsqueeze", []string{pad, b.constInts("Unsqueeze", 1, 2)}) // [b,1,1,total]
	allowed := b.op(root, "And", []string{causal, pad})                          // [b,1,seq,total]
	return b.op(root, "Where", []string{allowed, b.constFloat("Where", 0), b.constFloat("Where", f32Min)})
}

// kvIO declares the cache inputs and outputs of slots instances.
func kvIO(b *builder, slots, kvHeads, headDim int) {
	for k := 0; k < slots; k++ {
		p := "past_key_values." + strconv.Itoa(k)
		b.input(p+".key", onnx.Float, "batch", kvHeads, "past_sequence_length", headDim)
		b.input(p+".value", onnx.Float, "batch", kvHeads, "past_sequence_length", headDim)
	}
	for k := 0; k < slots; k++ {
		p := "present." + strconv.Itoa(k)
		b.output(p+".key", onnx.Float, "batch", kvHeads, "total_sequence_length", headDim)
		b.output(p+".value", onnx.Float, "batch", kvHeads, "total_sequence_length", headDim)
	}
}

// heads reshapes [b, s, n*d] to [b, n, s, d].
func heads(b *builder, scope, x string, n, d int) string {
	x = b.op(scope, "Reshape", []string{x, b.constInts("Reshape", 0, 0, int64(n), int64(d))})
	return b.op(scope, "Transpose", []string{x}, attrInts("perm", 0, 2, 1, 3))
}

// attention emits softmax(q k^T / sqrt(d) + mask) v for q, k, v of shape
// [b, n, s, d] and merges the heads back to [b, s, n*d].
func attention(b *builder, scope, q, k, v, mask string, n, d int) string {
	kt := b.op(scope, "Transpose", []string{k}, attrInts("perm", 0, 1, 3, 2))
	sc := b.op(scope, "MatMul", []string{q, kt})
	sc = b.op(scope, "Div", []string{sc, b.constFloat("Div", float32(math.Sqrt(float64(d))))})
	sc = b.op(scope, "Add", []string{sc, mask})
	p := b.op(scope, "Softmax", []string{sc}, attrInt("axis", -1))
	o := b.op(scope, "MatMul", []string{p, v})
	o = b.op(scope, "Transpose", []string{o}, attrInts("perm", 0, 2, 1, 3))
	return b.op(scope, "Reshape", []string{o, b.constInts("Reshape", 0, 0, int64(n*d))})
}

// layerNorm emits LayerNormalization (opset 17) as torch exports nn.LayerNorm.
func layerNorm(b *builder, scope, x, gamma, beta string, eps float32) string {
	return b.op(scope, "LayerNormalization", []string{x, gamma, beta}, attrInt("axis", -1), attrFloat("epsilon", eps))
}

// linear emits MatMul, then Add of the bias when there is one.
func linear(b *builder, scope, x, w, bias string) string {
	y := b.op(scope, "MatMul", []string{x, w})
	if bias != "" {
		y = b.op(scope, "Add", []string{y, bias})
	}
	return y
}

func layerScope(s Spec, prefix string, i int) string {
	if s.NoLayerIndex {
		return prefix
	}
	return fmt.Sprintf("%s.%d", prefix, i)
}

// hasParts reports whether steps run any sub-block part.
func hasParts(steps []schedule.Step) bool {
	for _, st := range steps {
		if st.Part != schedule.Whole || hasParts(st.Body) {
			return true
		}
	}
	return false
}
