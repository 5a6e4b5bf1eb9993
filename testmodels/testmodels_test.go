package testmodels

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/painterc/painterc/internal/onnxcheck"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/schedule"
)

// schedules are the non-trivial schedules every family is tested with (T=8).
var schedules = []string{"0,[1,3,5]x2,6-7", "0-3,(4-7)x2", "7-0", "0-1,5x3,6-7"}

type variant struct {
	name string
	spec Spec
}

// variants lists every family x {kv, no kv} x {indexed, no index}, plus
// unnamed-node models.
func variants() []variant {
	var out []variant
	for _, f := range []Family{Llama, GPT2, BERT} {
		for _, kv := range []bool{false, true} {
			if kv && f == BERT {
				continue
			}
			for _, idx := range []string{"indexed", "noindex", "nonames"} {
				s := Spec{Family: f, KVCache: kv, Seed: 7, NoLayerIndex: idx == "noindex", NoNames: idx == "nonames"}
				name := f.String()
				if kv {
					name += "-kv"
				}
				out = append(out, variant{name + "-" + idx, s})
			}
		}
	}
	for _, kv := range []bool{false, true} {
		out = append(out, variant{fmt.Sprintf("llama-fused-kv=%v", kv), Spec{Family: Llama, Fused: true, KVCache: kv, Seed: 7}})
	}
	return out
}

func mustParse(t testing.TB, src string) schedule.Schedule {
	t.Helper()
	s, err := schedule.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func encode(t testing.TB, m *onnx.Model) []byte {
	t.Helper()
	b, err := onnx.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func save(t testing.TB, dir, name string, m *onnx.Model) string {
	t.Helper()
	p := filepath.Join(dir, name+".onnx")
	if err := os.WriteFile(p, encode(t, m), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestInstancesMatchPasses(t *testing.T) {
	for _, src := range append([]string{"0-7", "[7,2,5]x2,(1,[4,0])x3", "3x4", "0,1.attn,2.mlp,(3.attn,3.mlp)x2,4.mlpx2"}, schedules...) {
		sched := mustParse(t, src)
		if got, want := Instances(sched), sched.Instances(); !slices.Equal(got, want) {
			t.Errorf("%s: testmodels instances %v, passes instances %v", src, got, want)
		}
	}
	if got := Instances(mustParse(t, "0,[1,3,5]x2,6-7")); !slices.Equal(got, []int{0, 1, 3, 5, 1, 3, 5, 6, 7}) {
		t.Errorf("instances = %v", got)
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	for _, v := range variants() {
		for _, src := range []string{"0-7", schedules[0]} {
			a := encode(t, MustBuild(v.spec, mustParse(t, src)))
			b := encode(t, MustBuild(v.spec, mustParse(t, src)))
			if !bytes.Equal(a, b) {
				t.Errorf("%s %s: two builds differ", v.name, src)
			}
		}
	}
}

func TestBuildRejects(t *testing.T) {
	for _, c := range []struct {
		spec  Spec
		sched string
	}{
		{Spec{Family: Llama}, "0-8"},
		{Spec{Family: BERT, KVCache: true}, "0"},
		{Spec{Family: Llama, Heads: 4, KVHeads: 3}, "0"},
		{Spec{Family: Family(9)}, "0"},
	} {
		if _, err := Build(c.spec, mustParse(t, c.sched)); err == nil {
			t.Errorf("Build(%+v, %s) succeeded", c.spec, c.sched)
		}
	}
	if _, err := Build(Spec{Family: GPT2}, schedule.Schedule{}); err == nil {
		t.Error("Build with an empty schedule succeeded")
	}
	if _, err := Build(Spec{Family: GPT2}, schedule.Schedule{Steps: []schedule.Step{{Kind: schedule.StepParallel, Members: []int{2, 2}}}}); err == nil {
		t.Error("Build with a block twice in one parallel group succeeded")
	}
}

func initNames(m *onnx.Model) []string {
	var out []string
	for _, t := range m.Graph.Initializer {
		out = append(out, t.Name)
	}
	return out
}

func TestInitializersAreShared(t *testing.T) {
	for _, f := range []Family{Llama, GPT2, BERT} {
		s := Spec{Family: f, Seed: 3}
		full := MustBuild(s, s.Identity())
		skip := MustBuild(s, mustParse(t, "0-2,6-7"))
		rep := MustBuild(s, mustParse(t, "0-3,4x9,5-7"))
		par := MustBuild(s, mustParse(t, "0-1,[2-5]x3,6-7"))
		n := len(full.Graph.Initializer)
		if k := len(skip.Graph.Initializer); k >= n {
			t.Errorf("%v: skipping blocks 3-5 keeps %d of %d initializers", f, k, n)
		}
		if k := len(rep.Graph.Initializer); k > n {
			t.Errorf("%v: repeating block 4 grows initializers from %d to %d", f, n, k)
		}
		if k := len(par.Graph.Initializer); k != n {
			t.Errorf("%v: looped parallel has %d initializers, the plain model %d", f, k, n)
		}
		// Every initializer of a rewritten model is the plain model's, by
		// name and bytes.
		byName := map[string][]byte{}
		for _, t := range full.Graph.Initializer {
			byName[t.Name] = t.RawData
		}
		for _, m := range []*onnx.Model{skip, rep, par} {
			for _, in := range m.Graph.Initializer {
				if !bytes.Equal(byName[in.Name], in.RawData) {
					t.Errorf("%v: initializer %s differs from the plain model's", f, in.Name)
				}
			}
		}
		// Block 3's weights are absent when it never runs.
		for _, name := range initNames(skip) {
			if strings.Contains(name, "layers.3.") || strings.Contains(name, "h.3.") || strings.Contains(name, "layer.3.") {
				t.Errorf("%v: skipped block 3 left %s", f, name)
			}
		}
	}
}

func nodeNames(m *onnx.Model) map[string]*onnx.Node {
	out := map[string]*onnx.Node{}
	for _, n := range m.Graph.Node {
		if n.Name != "" {
			out[n.Name] = n
		}
	}
	return out
}

// consumers maps a value to the nodes reading it.
func consumers(m *onnx.Model) map[string][]*onnx.Node {
	out := map[string][]*onnx.Node{}
	for _, n := range m.Graph.Node {
		for _, in := range n.Input {
			out[in] = append(out[in], n)
		}
	}
	return out
}

func TestLlamaLooksExported(t *testing.T) {
	s := Spec{Family: Llama, KVCache: true, Seed: 1}
	m, err := Default(s)
	if err != nil {
		t.Fatal(err)
	}
	names := nodeNames(m)
	for _, want := range []string{
		"/model/embed_tokens/Gather",
		"/model/rotary_emb/Cos",
		"/model/layers.0/input_layernorm/Pow",
		"/model/layers.0/input_layernorm/ReduceMean",
		"/model/layers.0/input_layernorm/Sqrt",
		"/model/layers.0/input_layernorm/Div",
		"/model/layers.0/input_layernorm/Mul_1",
		"/model/layers.3/self_attn/q_proj/MatMul",
		"/model/layers.3/self_attn/k_proj/MatMul",
		"/model/layers.3/self_attn/o_proj/MatMul",
		"/model/layers.3/self_attn/Expand",
		"/model/layers.3/self_attn/Softmax",
		"/model/layers.3/mlp/gate_proj/MatMul",
		"/model/layers.3/mlp/act_fn/Sigmoid",
		"/model/layers.3/mlp/down_proj/MatMul",
		"/model/layers.7/Add_1",
		"/model/norm/Mul_1",
		"/lm_head/MatMul",
		"/model/layers.0/self_attn/Unsqueeze",
	} {
		if names[want] == nil {
			t.Errorf("no node %s", want)
		}
	}
	if names["/model/layers.1/self_attn/Unsqueeze"] != nil && names["/model/layers.1/self_attn/Unsqueeze"].Input[0] == names["/model/layers.0/self_attn/Unsqueeze"].Input[0] {
		t.Error("block 1 has its own cos Unsqueeze; the exporter merges it into block 0's")
	}
	// Trap (a): block 0's cos Unsqueeze feeds every block.
	cons := consumers(m)
	cosU := names["/model/layers.0/self_attn/Unsqueeze"].Output[0]
	blocks := map[string]bool{}
	for _, n := range cons[cosU] {
		blocks[regexp.MustCompile(`layers\.\d+`).FindString(n.Name)] = true
	}
	if len(blocks) != 8 {
		t.Errorf("block 0's cos Unsqueeze feeds %d blocks, want 8: %v", len(blocks), blocks)
	}
	// Trap (b): unnamed Constants, some inside blocks and some shared.
	var unnamed, shared int
	for _, n := range m.Graph.Node {
		if n.OpType == "Constant" && n.Name == "" {
			unnamed++
			if len(cons[n.Output[0]]) >= 8 {
				shared++
			}
		}
	}
	if unnamed < 8*10 || shared < 3 {
		t.Errorf("%d unnamed constants, %d shared by all blocks", unnamed, shared)
	}
	// Trap (c): the mask reads the past length from past_key_values.0.key
	// only, and is computed once.
	pk := cons["past_key_values.0.key"]
	if len(pk) != 2 || pk[0].Name != "/model/Shape_1" {
		t.Errorf("past_key_values.0.key is read by %d nodes, first %q", len(pk), pk[0].Name)
	}
	if len(cons["attention_mask"]) != 1 || len(cons[names["/model/Where"].Output[0]]) != 8 {
		t.Error("the mask is not computed once and read by all blocks")
	}
	// Bias-free projections have anonymous weights.
	if w := names["/model/layers.3/self_attn/q_proj/MatMul"].Input[1]; !strings.HasPrefix(w, "onnx::MatMul_") {
		t.Errorf("q_proj weight is %q", w)
	}
	// Cache I/O names and order.
	var ins, outs []string
	for _, v := range m.Graph.Input {
		ins = append(ins, v.Name)
	}
	for _, v := range m.Graph.Output {
		outs = append(outs, v.Name)
	}
	if ins[3] != "past_key_values.0.key" || ins[4] != "past_key_values.0.value" || len(ins) != 3+16 || ins[18] != "past_key_values.7.value" {
		t.Errorf("inputs %v", ins)
	}
	if outs[0] != "logits" || outs[1] != "present.0.key" || len(outs) != 1+16 {
		t.Errorf("outputs %v", outs)
	}
	if got := metadata(m, "painterc.schedule"); got != "0-7" {
		t.Errorf("painterc.schedule = %q", got)
	}
	if m.IRVersion != 8 || len(m.OpsetImport) != 1 || m.OpsetImport[0].Domain != "" || m.OpsetImport[0].Version != 17 {
		t.Errorf("IR %d opsets %v", m.IRVersion, m.OpsetImport)
	}
}

func metadata(m *onnx.Model, key string) string {
	for _, e := range m.MetadataProps {
		if e.Key == key {
			return e.Value
		}
	}
	return ""
}

func TestGPT2LooksExported(t *testing.T) {
	s := Spec{Family: GPT2, Seed: 1}
	m := MustBuild(s, s.Identity())
	names := nodeNames(m)
	for _, want := range []string{
		"/transformer/wte/Gather", "/transformer/wpe/Gather",
		"/transformer/h.2/ln_1/LayerNormalization",
		"/transformer/h.2/attn/c_attn/MatMul", "/transformer/h.2/attn/c_attn/Add",
		"/transformer/h.2/attn/Split", "/transformer/h.2/attn/c_proj/MatMul",
		"/transformer/h.2/ln_2/LayerNormalization", "/transformer/h.2/mlp/c_fc/MatMul",
		"/transformer/h.2/mlp/act/Tanh", "/transformer/h.2/mlp/act/Pow", "/transformer/h.2/mlp/c_proj/Add",
		"/transformer/ln_f/LayerNormalization", "/lm_head/MatMul",
	} {
		if names[want] == nil {
			t.Errorf("no node %s", want)
		}
	}
	// The tied head is a second, transposed copy of wte.
	inits := map[string]*onnx.Tensor{}
	for _, t := range m.Graph.Initializer {
		inits[t.Name] = t
	}
	head := inits[names["/lm_head/MatMul"].Input[1]]
	wte := inits["transformer.wte.weight"]
	if head == nil || wte == nil || head == wte || !slices.Equal(head.Dims, []int64{int64(32), int64(64)}) {
		t.Fatalf("head %v wte %v", head, wte)
	}
	w := newWeights(1).get("transformer.wte.weight", []int{64, 32}, initEmbed)
	if !bytes.Equal(head.RawData, f32Tensor([]int{32, 64}, transposed(w, 64, 32)).RawData) {
		t.Error("the head is not wte transposed")
	}
}

func TestBERTLooksExported(t *testing.T) {
	s := Spec{Family: BERT, Seed: 1}
	m := MustBuild(s, s.Identity())
	names := nodeNames(m)
	for _, want := range []string{
		"/bert/embeddings/word_embeddings/Gather", "/bert/embeddings/position_embeddings/Gather",
		"/bert/embeddings/token_type_embeddings/Gather", "/bert/embeddings/LayerNorm/LayerNormalization",
		"/bert/encoder/layer.5/attention/self/query/MatMul", "/bert/encoder/layer.5/attention/self/key/Add",
		"/bert/encoder/layer.5/attention/self/value/MatMul", "/bert/encoder/layer.5/attention/output/dense/MatMul",
		"/bert/encoder/layer.5/attention/output/LayerNorm/LayerNormalization",
		"/bert/encoder/layer.5/intermediate/dense/MatMul", "/bert/encoder/layer.5/intermediate/intermediate_act_fn/Erf",
		"/bert/encoder/layer.5/output/dense/Add", "/bert/encoder/layer.5/output/LayerNorm/LayerNormalization",
	} {
		if names[want] == nil {
			t.Errorf("no node %s", want)
		}
	}
	last := names["/bert/encoder/layer.7/output/LayerNorm/LayerNormalization"]
	if last == nil || last.Output[0] != "last_hidden_state" {
		t.Errorf("last block's output is not last_hidden_state: %v", last)
	}
}

func TestNameStyles(t *testing.T) {
	idx := regexp.MustCompile(`(layers|h|layer)\.\d`)
	for _, v := range variants() {
		m := MustBuild(v.spec, mustParse(t, schedules[0]))
		var named int
		for _, n := range m.Graph.Node {
			if n.Name != "" {
				named++
			}
			if (v.spec.NoLayerIndex || v.spec.NoNames) && idx.MatchString(n.Name) {
				t.Errorf("%s: node %s carries a layer index", v.name, n.Name)
				break
			}
			for _, o := range n.Output {
				if (v.spec.NoLayerIndex || v.spec.NoNames) && idx.MatchString(o) {
					t.Errorf("%s: value %s carries a layer index", v.name, o)
				}
			}
		}
		if v.spec.NoNames != (named == 0) {
			t.Errorf("%s: %d named nodes", v.name, named)
		}
	}
	m := MustBuild(Spec{Family: Llama, NoLayerIndex: true}, schedule.Sequential(0, 1))
	names := nodeNames(m)
	if names["/model/layers/self_attn/q_proj/MatMul"] == nil || names["/model/layers/self_attn/q_proj/MatMul_1"] == nil {
		t.Error("no-index names are not /model/layers/self_attn/q_proj/MatMul{,_1}")
	}
}

// TestCheckerAcceptsAll runs onnx.checker (full_check) on every variant in
// the default schedule and in a schedule using every step kind.
func TestCheckerAcceptsAll(t *testing.T) {
	if ok, _ := onnxcheck.Available(); !ok {
		onnxcheck.Check(t, "") // skips, or fails under PAINTERC_REQUIRE_CHECKER=1
	}
	dir := t.TempDir()
	var paths []string
	for _, v := range variants() {
		for i, src := range []string{"0-7", "0,[1,3,5]x2,(6,[4,2])x2,7"} {
			paths = append(paths, save(t, dir, fmt.Sprintf("%s-%d", v.name, i), MustBuild(v.spec, mustParse(t, src))))
		}
	}
	onnxcheck.CheckMany(t, paths...)
}

// ---- reference-only properties (no ONNX Runtime needed) ----

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var m float64
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if math.IsNaN(d) {
			return math.Inf(1) // NaN anywhere fails every tolerance
		}
		m = math.Max(m, d)
	}
	return m
}

func mustRef(t testing.TB, s Spec, sched schedule.Schedule, feeds map[string]Tensor) map[string]Tensor {
	t.Helper()
	out, err := Reference(s, sched, feeds)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func mustInputs(t testing.TB, s Spec, sched schedule.Schedule, o InputOptions) map[string]Tensor {
	t.Helper()
	f, err := RandomInputs(s, sched, o)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestReferenceParallelOfOneIsTheBlock(t *testing.T) {
	for _, f := range []Family{Llama, GPT2, BERT} {
		s := Spec{Family: f, Seed: 2}
		a := schedule.Schedule{Steps: []schedule.Step{{Kind: schedule.StepBlock, Block: 0}, {Kind: schedule.StepParallel, Members: []int{3}}}}
		b := schedule.Sequential(0, 3)
		in := mustInputs(t, s, b, InputOptions{Batch: 2, Seq: 4, Seed: 1})
		out := "logits"
		if f == BERT {
			out = "last_hidden_state"
		}
		if d := maxDiff(mustRef(t, s, a, in)[out].Float, mustRef(t, s, b, in)[out].Float); d != 0 {
			t.Errorf("%v: [3] differs from 3 by %g", f, d)
		}
	}
}

// prefillDecode checks, with the reference or with run, that running the
// first n-1 tokens and then the last one with the presents as pasts gives
// the full n-token run's last position and presents.
func prefillDecode(t *testing.T, s Spec, sched schedule.Schedule, n int, run func(map[string]Tensor) map[string]Tensor) {
	t.Helper()
	full := mustInputs(t, s, sched, InputOptions{Batch: 2, Seq: n, Seed: 5})
	ids := full["input_ids"].Int
	pre := mustInputs(t, s, sched, InputOptions{Batch: 2, Seq: n - 1, Seed: 5})
	dec := mustInputs(t, s, sched, InputOptions{Batch: 2, Seq: 1, Past: n - 1, Seed: 5})
	for b := 0; b < 2; b++ {
		copy(pre["input_ids"].Int[b*(n-1):], ids[b*n:b*n+n-1])
		dec["input_ids"].Int[b] = ids[b*n+n-1]
	}
	fo := run(full)
	po := run(pre)
	for k := range Instances(sched) {
		for _, kind := range []string{"key", "value"} {
			dec[fmt.Sprintf("past_key_values.%d.%s", k, kind)] = po[fmt.Sprintf("present.%d.%s", k, kind)]
		}
	}
	do := run(dec)
	V := s.Vocab
	if V == 0 {
		V = 64
	}
	var last []float32
	for b := 0; b < 2; b++ {
		last = append(last, fo["logits"].Float[(b*n+n-1)*V:(b*n+n)*V]...)
	}
	if d := maxDiff(do["logits"].Float, last); d > 1e-4 {
		t.Errorf("%v %s: decode logits differ from the full run's last position by %g", s.Family, sched.String(), d)
	}
	for k := range Instances(sched) {
		name := fmt.Sprintf("present.%d.key", k)
		if d := maxDiff(do[name].Float, fo[name].Float); d > 1e-4 {
			t.Errorf("%v %s: %s after decode differs from the full run's by %g", s.Family, sched.String(), name, d)
		}
	}
}

func TestReferenceCacheConsistency(t *testing.T) {
	for _, f := range []Family{Llama, GPT2} {
		s := Spec{Family: f, KVCache: true, Seed: 4}
		for _, src := range []string{"0-7", schedules[0], schedules[1]} {
			sched := mustParse(t, src)
			prefillDecode(t, s, sched, 6, func(in map[string]Tensor) map[string]Tensor { return mustRef(t, s, sched, in) })
		}
	}
}

func TestReferenceRejectsBadFeeds(t *testing.T) {
	s := Spec{Family: Llama, KVCache: true}
	sched := schedule.Sequential(0, 1)
	in := mustInputs(t, s, sched, InputOptions{Seq: 3, Past: 2})
	delete(in, "past_key_values.1.value")
	if _, err := Reference(s, sched, in); err == nil {
		t.Error("a missing past passed")
	}
	in = mustInputs(t, s, sched, InputOptions{Seq: 3, Past: 2})
	in["attention_mask"] = Tensor{Shape: []int64{1, 3}, Int: []int64{1, 1, 1}}
	if _, err := Reference(s, sched, in); err == nil {
		t.Error("a mask without the past passed")
	}
}

// TestSchedulesMatter guards the oracle's strength: if blocks barely changed
// the residual stream, every schedule would look equivalent.
func TestSchedulesMatter(t *testing.T) {
	for _, f := range []Family{Llama, GPT2, BERT} {
		s := Spec{Family: f, Seed: 8}
		out := "logits"
		if f == BERT {
			out = "last_hidden_state"
		}
		base := s.Identity()
		in := mustInputs(t, s, base, InputOptions{Batch: 1, Seq: 6, Seed: 2})
		want := mustRef(t, s, base, in)[out].Float
		for _, src := range schedules {
			if d := maxDiff(mustRef(t, s, mustParse(t, src), in)[out].Float, want); d < 0.05 {
				t.Errorf("%v: %s changes the output by only %g", f, src, d)
			}
		}
	}
}

// TestReferenceHalves: the reference's halves are the block (exactly, for
// every family), halves matter (running one alone changes the output),
// an MLP half takes no KV slot, the cache stays consistent with halves,
// and Build refuses them (the compiler's sub-block lowering is checked
// against Reference instead).
func TestReferenceHalves(t *testing.T) {
	for _, f := range []Family{Llama, GPT2, BERT} {
		s := Spec{Family: f, KVCache: f != BERT, Seed: 6}
		out := "logits"
		if f == BERT {
			out = "last_hidden_state"
		}
		whole := mustParse(t, "0-7")
		in := mustInputs(t, s, whole, InputOptions{Batch: 2, Seq: 4, Past: 2 * btoi(s.KVCache), Seed: 3})
		want := mustRef(t, s, whole, in)
		halves := mustParse(t, "0,1.attn,1.mlp,(2.attn,2.mlp),3-7")
		got := mustRef(t, s, halves, in)
		for name, w := range want {
			if d := maxDiff(got[name].Float, w.Float); d != 0 {
				t.Errorf("%v: %s of 1.attn,1.mlp differs from block 1's by %g", f, name, d)
			}
		}
		for _, src := range []string{"0,1.attn,2-7", "0,1.mlp,2-7", "0,1.attnx2,1.mlp,2-7"} {
			sched := mustParse(t, src)
			in := mustInputs(t, s, sched, InputOptions{Batch: 2, Seq: 4, Past: 2 * btoi(s.KVCache), Seed: 3})
			if d := maxDiff(mustRef(t, s, sched, in)[out].Float, want[out].Float); d < 0.01 {
				t.Errorf("%v: %s changes the output by only %g", f, src, d)
			}
		}
		if _, err := Build(s, halves); err == nil || !strings.Contains(err.Error(), "sub-block") {
			t.Errorf("%v: Build with halves: %v, want a refusal naming sub-block steps", f, err)
		}
	}
	if got := Instances(mustParse(t, "0,1.attn,2.mlp,(3.attn,3.mlp)x2")); !slices.Equal(got, []int{0, 1, 3, 3}) {
		t.Errorf("instances with halves = %v, want [0 1 3 3]", got)
	}
	s := Spec{Family: Llama, KVCache: true, Seed: 4}
	for _, src := range []string{"0,1.attn,2,3.mlp,4-7", "0.mlp,0.attnx2,1-7"} {
		sched := mustParse(t, src)
		prefillDecode(t, s, sched, 6, func(in map[string]Tensor) map[string]Tensor { return mustRef(t, s, sched, in) })
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
