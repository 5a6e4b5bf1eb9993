package search

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/painterc/painterc/internal/fault"
	"github.com/painterc/painterc/rewrite"
	"github.com/painterc/painterc/schedule"
	"github.com/painterc/painterc/similarity"
	"github.com/painterc/painterc/testmodels"
)

func keys(ss []state) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.key())
	}
	return out
}

func TestMoves(t *testing.T) {
	if got, want := keys(full(4).shrink(false)), []string{"1-3", "0,2-3", "0-1,3", "0-2"}; !slices.Equal(got, want) {
		t.Errorf("shrink: %v, want %v", got, want)
	}
	if got, want := keys(full(2).shrink(true)), []string{"1", "0", "0.attn,1", "0.mlp,1", "0,1.attn", "0,1.mlp"}; !slices.Equal(got, want) {
		t.Errorf("shrink with halves: %v, want %v", got, want)
	}
	if got, want := keys(state{{blocks: []int{0}, part: attnOnly}, {blocks: []int{2}}}.grow(3, true)), []string{"0.attn,1-2", "0.attn,1.attn,2", "0.attn,1.mlp,2", "0,2", "0.attn,2,2"}; !slices.Equal(got, want) {
		t.Errorf("grow with halves: %v, want %v", got, want)
	}
	if got, want := keys(full(3).rearrange()), []string{"1-0,2", "[0-1],2", "0,2-1", "0,[1-2]"}; !slices.Equal(got, want) {
		t.Errorf("rearrange: %v, want %v", got, want)
	}
	// The group [0-1] widens by its next block; a swap needs two single blocks.
	pair := full(3).rearrange()[1]
	if got, want := keys(pair.rearrange()), []string{"[0-2]"}; !slices.Equal(got, want) {
		t.Errorf("rearrange [0-1],2: %v, want %v", got, want)
	}
	// Exchange: a dropped block comes back for a kept one at most reach
	// away, in order; groups and halves stay.
	holes := state{{blocks: []int{0}}, {blocks: []int{2}}, {blocks: []int{3}, part: attnOnly}, {blocks: []int{5}}}
	if got, want := keys(holes.exchange(6, 1)), []string{"1-2,3.attn,5", "0-1,3.attn,5", "0,2,3.attn,4"}; !slices.Equal(got, want) {
		t.Errorf("exchange reach 1: %v, want %v", got, want)
	}
	if got, want := keys(holes.exchange(6, 2)), []string{"1-2,3.attn,5", "0-1,3.attn,5", "0,3.attn,4-5", "0,2,3.attn,4"}; !slices.Equal(got, want) {
		t.Errorf("exchange reach 2: %v, want %v", got, want)
	}
	gap := full(3).without(1)
	if got, want := keys(gap.grow(3, false)), []string{"0-2", "0,0,2", "0,2,2"}; !slices.Equal(got, want) {
		t.Errorf("grow 0,2: %v, want %v", got, want)
	}
}

// TestCountCost counts the weight FLOPs of the Llama test model's block
// in every layout that writes its weights differently: q, k, v, o (32×32,
// 32×16, 32×16, 32×32), gate, up (32×64) and down (64×32) make 9216
// multiply-accumulates, 18432 FLOPs per token, whether the weights are
// plain MatMuls, dynamo's, genai's packed qkv or int4 MatMulNBits.
func TestCountCost(t *testing.T) {
	for name, s := range map[string]testmodels.Spec{
		"plain":  {Family: testmodels.Llama, Layers: 3},
		"dynamo": {Family: testmodels.Llama, Layers: 3, Dynamo: true},
		"genai":  {Family: testmodels.Llama, Layers: 3, KVCache: true, GenAI: true, Heads: 4, KVHeads: 2},
		"int4":   {Family: testmodels.Llama, Layers: 3, KVCache: true, GenAI: true, Int4: true, Heads: 4, KVHeads: 2},
	} {
		m, err := testmodels.Default(s)
		if err != nil {
			t.Fatal(err)
		}
		b, err := rewrite.Detect(m.Graph, rewrite.DetectOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c := CountCost(m, b)
		if !c.Counted || !slices.Equal(c.Block, []float64{18432, 18432, 18432}) {
			t.Errorf("%s: block FLOPs %v (counted %v), want 18432 each", name, c.Block, c.Counted)
		}
		if c.Half == nil || c.Half[1] != [2]float64{6144, 12288} {
			t.Errorf("%s: halves %v, want attention 6144 and MLP 12288 FLOPs", name, c.Half)
		}
		if half, _ := schedule.Parse("0,1.attn,2.mlp"); c.Of(half) != 18432+6144+12288 {
			t.Errorf("%s: 0,1.attn,2.mlp costs %v", name, c.Of(half))
		}
		sched, _ := schedule.Parse("0,[1-2]x2")
		if got := c.Fraction(sched); got != 5.0/3 {
			t.Errorf("%s: fraction of 0,[1-2]x2 = %v, want 5/3", name, got)
		}
	}
}

// fakeScreener scores a schedule by the blocks it leaves out (a weight
// each) and by how far its order is from ascending, and counts its calls.
type fakeScreener struct {
	weight []float64
	// nllWeight, when set, prices the dropped blocks for the NLL apart
	// from the KL, so that the two rankings disagree.
	nllWeight []float64
	calls     atomic.Int64
}

func (f *fakeScreener) Screen(_ context.Context, cands []schedule.Schedule) ([]Screen, error) {
	f.calls.Add(int64(len(cands)))
	out := make([]Screen, len(cands))
	for i, c := range cands {
		ran := map[int]bool{}
		kl := 0.0
		prev := -1
		for _, st := range c.Stages() {
			for _, b := range st.Blocks {
				ran[b] = true
				if b < prev {
					kl += 0.5
				}
				prev = b
			}
			if len(st.Blocks) > 1 {
				kl += 0.25
			}
		}
		for b, w := range f.weight {
			if !ran[b] {
				kl += w
			}
		}
		nll := 2 + kl
		if f.nllWeight != nil {
			nll = 2
			for b, w := range f.nllWeight {
				if !ran[b] {
					nll += w
				}
			}
		}
		out[i] = Screen{KL: kl, Top1: 1 / (1 + kl), NLL: nll, Tokens: 10}
	}
	return out, nil
}

// bendingAnalysis is the analysis of a stream that block i turns by
// angle[i] in a plane: Block Influence 1-cos(angle[i]) and angular
// distance (sum of the span's angles)/π, exactly.
func bendingAnalysis(t *testing.T, angle []float64) *similarity.Analysis {
	acc := similarity.NewAccumulator(len(angle))
	states := [][]float32{{1, 0}}
	a := 0.0
	for _, th := range angle {
		a += th
		states = append(states, []float32{float32(math.Cos(a)), float32(math.Sin(a))})
	}
	if err := acc.Add(states, 2); err != nil {
		t.Fatal(err)
	}
	an, err := acc.Analysis()
	if err != nil {
		t.Fatal(err)
	}
	return an
}

func uniform(T int) Cost {
	c := Cost{Block: make([]float64, T), Counted: true}
	for i := range c.Block {
		c.Block[i] = 10
	}
	return c
}

// TestSearchFindsTheCheapestDrops: with additive penalties the best
// schedule at each budget drops the lightest blocks; the search must find
// it, SLEB (ranking by the NLL, here KL+2) too, and a second run must
// screen nothing, reading every screen from the store.
func TestSearchFindsTheCheapestDrops(t *testing.T) {
	weight := []float64{5, 1, 3, 0.2, 0.1, 2, 4, 6}
	dir := t.TempDir()
	f := &fakeScreener{weight: weight}
	cfg := Config{T: 8, Cost: uniform(8), Screener: f, Analysis: bendingAnalysis(t, []float64{0.5, 0.1, 0.3, 0.02, 0.01, 0.2, 0.4, 0.6}),
		Dir: dir, Salt: "model+windows", Seed: 1, Options: Options{Budgets: []float64{0.5, 0.75}, Beam: 2, Finalists: 2, Polish: 1}}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Budgets, []float64{0.75, 0.5}) {
		t.Errorf("budgets %v", res.Budgets)
	}
	want := map[float64]string{0.75: "0-2,5-7", 0.5: "0,2,6-7"}
	for f, s := range want {
		if got := res.Finalists[f][0]; got.Schedule != s || got.Fraction > f {
			t.Errorf("budget %v: best %s (fraction %v), want %s", f, got.Schedule, got.Fraction, s)
		}
		var got []string
		for _, b := range res.Baselines[f] {
			got = append(got, b.Method+" "+b.Schedule)
			if b.Fraction > f+1e-12 {
				t.Errorf("%s at %v: fraction %v over the budget", b.Method, f, b.Fraction)
			}
		}
		if got[0] != "shortgpt "+s || got[2] != "sleb "+s {
			t.Errorf("budget %v baselines %v: want shortgpt and sleb on %s", f, got, s)
		}
	}
	// Angular: the two-block span that turns least is 3-4 (0.03 rad), the
	// four-block one 1-4 (0.43, against 2-5's 0.53).
	if got := res.Baselines[0.75][1].Schedule; got != "0-2,5-7" {
		t.Errorf("angular 0.75: %s", got)
	}
	if got := res.Baselines[0.5][1].Schedule; got != "0,5-7" {
		t.Errorf("angular 0.5: %s", got)
	}
	first := f.calls.Load()
	if first == 0 || res.Cached != 0 || res.Screened != int(first) {
		t.Errorf("first run: %d calls, screened %d, cached %d", first, res.Screened, res.Cached)
	}
	f2 := &fakeScreener{weight: weight}
	cfg.Screener = f2
	res2, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if f2.calls.Load() != 0 || res2.Cached != res.Screened || res2.Finalists[0.5][0].Schedule != want[0.5] {
		t.Errorf("rerun: %d calls, cached %d of %d", f2.calls.Load(), res2.Cached, res.Screened)
	}
	// Another salt (another model or calibration text) screens again.
	cfg.Salt, cfg.Screener = "other", &fakeScreener{weight: weight}
	res3, err := Run(context.Background(), cfg)
	if err != nil || res3.Cached != 0 {
		t.Errorf("other salt: cached %d, err %v", res3.Cached, err)
	}
}

// TestSearchKeepsBothRankings: when the KL and the calibration NLL
// disagree on which blocks to drop, the finalists hold the best by each
// (KL's first), so that the choosing tasks decide between them.
func TestSearchKeepsBothRankings(t *testing.T) {
	f := &fakeScreener{weight: []float64{5, 4, 4, 0.1, 0.2, 4, 4, 6}, nllWeight: []float64{5, 0.1, 0.2, 4, 4, 4, 4, 6}}
	cfg := Config{T: 8, Cost: uniform(8), Screener: f, Analysis: bendingAnalysis(t, []float64{0.5, 0.1, 0.3, 0.02, 0.01, 0.2, 0.4, 0.6}),
		Dir: t.TempDir(), Salt: "disagree", Seed: 1, Options: Options{Budgets: []float64{0.75}, Beam: 1, Finalists: 1}}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range res.Finalists[0.75] {
		got = append(got, c.Schedule)
	}
	if want := []string{"0-2,5-7", "0,3-7"}; !slices.Equal(got, want) {
		t.Errorf("finalists %v, want %v: the best by KL, then the best by NLL", got, want)
	}
}

// TestSearchSeedsTheRules: the label-free rules' schedules join every
// budget's finalists, after the beam's, each saying which rule it came
// from, so the choosing tasks can pick one when the beam's are worse.
func TestSearchSeedsTheRules(t *testing.T) {
	weight := []float64{5, 1, 3, 0.2, 0.1, 2, 4, 6}
	cfg := Config{T: 8, Cost: uniform(8), Screener: &fakeScreener{weight: weight}, Analysis: bendingAnalysis(t, []float64{0.5, 0.1, 0.3, 0.02, 0.01, 0.2, 0.4, 0.6}),
		Dir: t.TempDir(), Salt: "seeds", Seed: 1, Options: Options{Budgets: []float64{0.5}, Beam: 1, Finalists: 1}}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	var got []string
	for _, c := range res.Finalists[0.5] {
		got = append(got, c.Schedule+" "+c.Origin)
	}
	// ShortGPT and SLEB drop what the beam drops (0,2,6-7, found by KL
	// and by NLL alike); angular drops the span 1-4; random is no seed.
	if want := []string{"0,2,6-7 kl", "0,5-7 seed: angular"}; !slices.Equal(got, want) {
		t.Errorf("finalists %q, want %q", got, want)
	}
}

func TestRandomIsSeeded(t *testing.T) {
	a, b, c := Random(30, uniform(30), 0.6, 7), Random(30, uniform(30), 0.6, 7), Random(30, uniform(30), 0.6, 8)
	if a.Schedule != b.Schedule || a.Schedule == c.Schedule || len(a.Dropped) != 12 || a.Fraction != 0.6 {
		t.Errorf("seed 7: %s and %s, seed 8: %s; dropped %d", a.Schedule, b.Schedule, c.Schedule, len(a.Dropped))
	}
}

func TestScreenStoreTornLine(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ScreenFile)
	s, err := openScreenStore(path, "salt")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.put([]string{"0-2", "0,2"}, []Screen{{KL: 0, Tokens: 4}, {KL: 0.5, Tokens: 4}}); err != nil {
		t.Fatal(err)
	}
	s.close()
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"schedule":"1-2","kl":0.`)
	f.Close()
	s, err = openScreenStore(path, "salt")
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if r, ok := s.get("0,2"); !ok || r.KL != 0.5 {
		t.Errorf("0,2: %+v %v", r, ok)
	}
	if _, ok := s.get("1-2"); ok {
		t.Error("the torn line was read")
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), `"1-2"`) {
		t.Error("the torn line was left in the file")
	}
}

func TestExports(t *testing.T) {
	parse := func(s string) schedule.Schedule {
		sc, err := schedule.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	y, err := Mergekit(parse("0-2,6,8-9,9,3"), "HuggingFaceTB/SmolLM2-135M-Instruct", "bfloat16")
	if err != nil {
		t.Fatal(err)
	}
	want := `# painterc search: schedule 0-2,6,8-9,9,3
# layer_range is 0-based and end-exclusive: [a, b] takes blocks a..b-1.
slices:
  - sources:
      - model: HuggingFaceTB/SmolLM2-135M-Instruct
        layer_range: [0, 3]
  - sources:
      - model: HuggingFaceTB/SmolLM2-135M-Instruct
        layer_range: [6, 7]
  - sources:
      - model: HuggingFaceTB/SmolLM2-135M-Instruct
        layer_range: [8, 10]
  - sources:
      - model: HuggingFaceTB/SmolLM2-135M-Instruct
        layer_range: [9, 10]
  - sources:
      - model: HuggingFaceTB/SmolLM2-135M-Instruct
        layer_range: [3, 4]
merge_method: passthrough
dtype: bfloat16
`
	if diff := cmp.Diff(want, y); diff != "" {
		t.Errorf("mergekit (-want +got):\n%s", diff)
	}
	if _, err := Mergekit(parse("0,[1-2],3"), "m", "float32"); err == nil || err.Error() != "mergekit's passthrough merge cannot run blocks in parallel: stage 2 of 0,[1-2],3 averages blocks [1 2]; export a schedule of whole blocks run one after another" {
		t.Errorf("parallel: %v", err)
	}
	if p, err := PruneLayers(parse("0-2,6,8-15"), 16); err != nil || p != "3,4,5,7" {
		t.Errorf("prune: %q %v", p, err)
	}
	if _, err := PruneLayers(parse("0-2,1"), 4); err == nil || err.Error() != "llama.cpp's --prune-layers only drops blocks: 0-2,1 reorders or repeats them" {
		t.Errorf("prune a repeat: %v", err)
	}
	if _, err := PruneLayers(parse("0-3"), 4); err == nil || err.Error() != "0-3 drops no block: there is nothing to prune" {
		t.Errorf("prune nothing: %v", err)
	}
}

type failingScreener struct{}

func (failingScreener) Screen(context.Context, []schedule.Schedule) ([]Screen, error) {
	return nil, errors.New("ONNX Runtime ran out of memory")
}

// TestScreenerFailureIsRuntime: a screener's failure is ONNX Runtime's
// side (exit 7), not a bug.
func TestScreenerFailureIsRuntime(t *testing.T) {
	cfg := Config{T: 4, Cost: uniform(4), Screener: failingScreener{}, Dir: t.TempDir(), Salt: "s", Options: Options{Budgets: []float64{0.5}}}
	_, err := Run(context.Background(), cfg)
	if err == nil || fault.KindOf(err) != fault.Runtime || !strings.Contains(err.Error(), "ran out of memory") {
		t.Errorf("error %v (kind %v), want the screener's, of kind Runtime", err, fault.KindOf(err))
	}
}
