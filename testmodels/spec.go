// Package testmodels builds small transformer ONNX models whose graphs look
// like real exports (torch.onnx / optimum), and computes their outputs with a
// plain Go reference forward pass.
//
// It is painterc's independent oracle (docs/design.md, "Test oracles", 1): [Build] emits
// a model that runs its blocks directly in a given schedule, from the same
// seeded weights as the plain model [Default], so that
// ORT(painterc(Default, S)) can be compared with ORT(Build(S)); and
// [Reference] computes the same function without ONNX at all, so that the
// graphs themselves are checked against arithmetic written out by hand.
//
// Nothing here uses the passes package's own unrolling (Stages, Instances):
// testmodels walks the schedule's Step tree itself, so that a bug in the
// compiler's lowering cannot hide behind the same bug in the oracle. The one
// convention shared with passes is the KV-cache slot order: instances are
// numbered in execution order, every loop iteration and every parallel member
// is its own instance, and a parallel group's members run in ascending block
// order (a parallel group is a set).
//
// Three families are built (see llama.go, gpt2.go, bert.go for the node
// names). Their sizes default to hidden 32, 4 heads, vocabulary 64, MLP 64 and
// 8 blocks, so a forward pass runs in milliseconds. Every model is opset 17,
// IR 8, default domain only, float32, and byte-identical for equal arguments.
package testmodels

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/painterc/painterc/schedule"
)

// Family is a model architecture.
type Family int

// The families testmodels builds.
const (
	Llama Family = iota // decoder, RMSNorm, rotary, GQA, SwiGLU, optimum-style
	GPT2                // decoder, LayerNorm, learned positions, tanh-GELU, tied head
	BERT                // post-LN encoder, erf-GELU, no head
)

func (f Family) String() string {
	switch f {
	case Llama:
		return "llama"
	case GPT2:
		return "gpt2"
	case BERT:
		return "bert"
	}
	return fmt.Sprintf("Family(%d)", int(f))
}

// ParseFamily reads "llama", "gpt2" or "bert" (case-insensitive).
func ParseFamily(s string) (Family, error) {
	switch strings.ToLower(s) {
	case "llama":
		return Llama, nil
	case "gpt2", "gpt-2":
		return GPT2, nil
	case "bert":
		return BERT, nil
	}
	return 0, fmt.Errorf("testmodels: unknown family %q (want llama, gpt2 or bert)", s)
}

// Spec describes a test model. Zero sizes take the defaults listed.
type Spec struct {
	Family Family
	Layers int // T, the number of blocks; default 8

	// KVCache adds optimum-style cache I/O (Llama and GPT2 only): inputs
	// past_key_values.{k}.key/.value [batch, kv_heads, past_sequence_length,
	// head_dim] and outputs present.{k}.key/.value [batch, kv_heads,
	// total_sequence_length, head_dim], one pair per executed block instance.
	KVCache bool

	// NoLayerIndex drops the block index from node scopes:
	// /model/layers/self_attn/q_proj/MatMul, .../MatMul_1, ... (the per-scope
	// counter keeps names unique), so that blocks can only be found by
	// structure. NoNames goes further: every node name is empty and every
	// intermediate value is a bare number, as old torch exports had it.
	// Initializer names are unaffected (painterc must never key on them).
	NoLayerIndex bool
	NoNames      bool

	// Fused (Llama only) lays the graph out as onnxruntime-genai's model
	// builder and ORT's optimizer do: each residual Add is fused into the
	// following norm (com.microsoft SkipSimplifiedLayerNormalization, whose
	// output 3 is the residual sum), so blocks hand on a pair of tensors, and
	// the final norm is scoped as a phantom layer T. Same function, same
	// weights as the plain Llama.
	Fused bool

	// GenAI (Llama with KVCache) lays the graph out exactly as
	// onnxruntime-genai's model builder writes a CPU model (genai.go): the
	// fused pairs above, a packed qkv_proj, com.microsoft
	// GroupQueryAttention with rotary inside (cos_cache/sin_cache
	// initializers of MaxPos rows), seqlens_k and total_sequence_length
	// computed once from attention_mask, no position_ids input, and genai's
	// node and value names. It implies Fused. Same function, same weights
	// as the plain Llama: positions are past_length + i, as genai feeds them.
	// Heads and KVHeads default to 2 and 1 (GroupQueryAttention on CPU wants
	// a head size that is a multiple of 16).
	GenAI bool
	// Int4 (GenAI only) replaces every MatMul on a weight with com.microsoft
	// MatMulNBits (bits 4, block_size 32, accuracy_level 4, symmetric), the
	// weights quantized as ORT's MatMul4BitsQuantizer stores them:
	// {weight}_Q4 (uint8 [N, K/32, 16]) and {weight}_scales. The function is
	// then the int4 model's, not the plain Llama's.
	Int4 bool

	// Dynamo lays the family out as torch >= 2.5's dynamo exporter writes it
	// (dynamo.go): nodes node_{Op}_{N}, values val_{N}, the module scope in
	// each node's metadata_props (pkg.torch.onnx.name_scopes, namespace),
	// initializers named after their parameters but for folded linear
	// weights (val_N), IR 10 and opset 18. Same function, same weights.
	Dynamo bool

	// Float16 (Llama, plain or genai) stores every weight, constant and
	// float graph input and output (logits, the KV cache) in float16
	// (float16.go), with the mask's minimum at float16's -65504. Reference
	// then computes in float32 from the float16-rounded weights.
	Float16 bool

	Seed int64 // weights are a function of (Seed, parameter name)

	Hidden  int // default 32
	Heads   int // default 4
	KVHeads int // key/value heads; default 2 for Llama (GQA), Heads otherwise
	Vocab   int // default 64
	FF      int // MLP width; default 64
	MaxPos  int // GPT2/BERT position table size; default 64

	// ExternalData, when set, builds the graph without generating weights:
	// every parameter becomes an initializer whose payload is external data
	// at this location (a file name relative to the model's directory), laid
	// out in the order the initializers appear, each at an offset aligned to
	// 4096 bytes. The graph is otherwise the one Build makes from the same
	// Spec. The caller supplies the data file, at least ExternalDataSize(m)
	// bytes long; a sparse file of zeros (os.Truncate) is enough to compile
	// and benchmark multi-gigabyte models in no time and no disk space.
	// Reference refuses such a Spec: its weights are not the seeded ones.
	ExternalData string
}

// normalized returns s with defaults filled in, or an error if it is not a
// model testmodels can build.
func (s Spec) normalized() (Spec, error) {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	def(&s.Layers, 8)
	def(&s.Hidden, 32)
	if s.GenAI {
		// ORT's GroupQueryAttention wants head_size % 16 == 0: 2 query
		// heads and 1 key/value head of 16 by default.
		def(&s.Heads, 2)
		def(&s.KVHeads, 1)
	}
	def(&s.Heads, 4)
	if s.Family == Llama {
		def(&s.KVHeads, 2)
	} else {
		def(&s.KVHeads, s.Heads)
	}
	def(&s.Vocab, 64)
	def(&s.FF, 64)
	def(&s.MaxPos, 64)
	if s.Fused && s.Family != Llama {
		return s, fmt.Errorf("testmodels: only llama has a fused layout")
	}
	if s.Int4 && !s.GenAI {
		return s, fmt.Errorf("testmodels: int4 weights come with the genai layout only")
	}
	if s.Float16 && (s.Family != Llama || s.Dynamo || s.ExternalData != "") {
		return s, fmt.Errorf("testmodels: float16 is built for the llama family (plain, fused or genai), in-file")
	}
	if s.Dynamo && (s.Fused || s.GenAI || s.NoLayerIndex || s.NoNames || s.ExternalData != "") {
		return s, fmt.Errorf("testmodels: the dynamo layout is the torch-style graph renamed; it combines with no other layout option")
	}
	if s.GenAI {
		if s.Family != Llama || !s.KVCache {
			return s, fmt.Errorf("testmodels: the genai layout is a Llama with a KV cache (GroupQueryAttention always writes present)")
		}
		if s.NoLayerIndex || s.NoNames {
			return s, fmt.Errorf("testmodels: the genai layout has genai's names")
		}
		if s.ExternalData != "" || (s.Int4 && s.Float16) {
			return s, fmt.Errorf("testmodels: the genai layout is built in-file, and int4 with float32 scales")
		}
		s.Fused = true
	}
	switch s.Family {
	case Llama, GPT2:
	case BERT:
		if s.KVCache {
			return s, fmt.Errorf("testmodels: bert is an encoder and has no KV cache")
		}
	default:
		return s, fmt.Errorf("testmodels: unknown family %d", int(s.Family))
	}
	switch {
	case s.Layers < 1 || s.Hidden < 1 || s.Heads < 1 || s.KVHeads < 1 || s.Vocab < 1 || s.FF < 1 || s.MaxPos < 1:
		return s, fmt.Errorf("testmodels: sizes must be positive: %+v", s)
	case s.Hidden%s.Heads != 0:
		return s, fmt.Errorf("testmodels: hidden %d is not a multiple of heads %d", s.Hidden, s.Heads)
	case s.Heads%s.KVHeads != 0:
		return s, fmt.Errorf("testmodels: heads %d is not a multiple of kv heads %d", s.Heads, s.KVHeads)
	case s.Family != Llama && s.KVHeads != s.Heads:
		return s, fmt.Errorf("testmodels: %v has no grouped-query attention (kv heads %d != heads %d)", s.Family, s.KVHeads, s.Heads)
	case s.Family == Llama && s.HeadDim()%2 != 0:
		return s, fmt.Errorf("testmodels: rotary embeddings need an even head dim, got %d", s.HeadDim())
	}
	if s.ExternalData != "" {
		clean := filepath.ToSlash(filepath.Clean(s.ExternalData))
		if filepath.IsAbs(s.ExternalData) || strings.HasPrefix(s.ExternalData, "/") || clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
			return s, fmt.Errorf("testmodels: ExternalData %q must be a file name relative to the model's directory, inside it", s.ExternalData)
		}
	}
	return s, nil
}

// HeadDim is Hidden / Heads.
func (s Spec) HeadDim() int {
	if s.Heads == 0 {
		return 0
	}
	return s.Hidden / s.Heads
}

// WithDefaults returns s with every default filled in, or an error if
// the spec is inconsistent.
func (s Spec) WithDefaults() (Spec, error) { return s.normalized() }

// Identity is the schedule of the plain model: blocks 0..T-1 in order.
func (s Spec) Identity() schedule.Schedule {
	n, err := s.normalized()
	if err != nil {
		n = s
	}
	blocks := make([]int, n.Layers)
	for i := range blocks {
		blocks[i] = i
	}
	return schedule.Sequential(blocks...)
}

// Instances walks sched the way Build does and returns the block of each
// executed instance that holds attention, in execution order: instance k
// owns KV slot k. An MLP half alone (i.mlp) has no cache and no slot. It
// is testmodels' own unrolling, deliberately independent of passes'.
func Instances(sched schedule.Schedule) []int {
	var out []int
	walk(sched.Steps, func(members []int, part schedule.Part) {
		if part != schedule.MLP {
			out = append(out, members...)
		}
	})
	return out
}

// walk calls stage once per sequential stage of steps, in execution order,
// with the blocks of that stage: one block, or a parallel group's members in
// ascending order, and the part of the block it runs.
func walk(steps []schedule.Step, stage func(members []int, part schedule.Part)) {
	for _, st := range steps {
		r := st.Repeat
		if r < 1 {
			r = 1
		}
		for range r {
			switch st.Kind {
			case schedule.StepBlock:
				stage([]int{st.Block}, st.Part)
			case schedule.StepParallel:
				stage(sortedCopy(st.Members), schedule.Whole)
			case schedule.StepSeq:
				walk(st.Body, stage)
			}
		}
	}
}

func sortedCopy(a []int) []int {
	b := append([]int(nil), a...)
	// insertion sort: groups are small and this keeps the oracle free of
	// anything clever
	for i := 1; i < len(b); i++ {
		for j := i; j > 0 && b[j] < b[j-1]; j-- {
			b[j], b[j-1] = b[j-1], b[j]
		}
	}
	return b
}

// checkSchedule rejects schedules Build cannot run: no steps, an unknown
// step kind, an empty group, a block out of range or repeated in one
// parallel group.
func checkSchedule(s Spec, sched schedule.Schedule) error {
	if len(sched.Steps) == 0 {
		return fmt.Errorf("testmodels: empty schedule")
	}
	var check func(steps []schedule.Step) error
	check = func(steps []schedule.Step) error {
		for _, st := range steps {
			if st.Repeat < 0 {
				return fmt.Errorf("testmodels: negative repeat %d", st.Repeat)
			}
			var blocks []int
			if st.Part != schedule.Whole && (st.Kind != schedule.StepBlock || (st.Part != schedule.Attn && st.Part != schedule.MLP)) {
				return fmt.Errorf("testmodels: part %d on a %v step", int(st.Part), st.Kind)
			}
			switch st.Kind {
			case schedule.StepBlock:
				blocks = []int{st.Block}
			case schedule.StepParallel:
				if len(st.Members) == 0 {
					return fmt.Errorf("testmodels: empty parallel group")
				}
				m := sortedCopy(st.Members)
				for i := 1; i < len(m); i++ {
					if m[i] == m[i-1] {
						return fmt.Errorf("testmodels: block %d twice in one parallel group", m[i])
					}
				}
				blocks = m
			case schedule.StepSeq:
				if len(st.Body) == 0 {
					return fmt.Errorf("testmodels: empty sequential group")
				}
				if err := check(st.Body); err != nil {
					return err
				}
			default:
				return fmt.Errorf("testmodels: unknown step kind %d", int(st.Kind))
			}
			for _, b := range blocks {
				if b < 0 || b >= s.Layers {
					return fmt.Errorf("testmodels: block %d out of range: the model has %d blocks", b, s.Layers)
				}
			}
		}
		return nil
	}
	return check(sched.Steps)
}
