package ortmodel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/painterc/painterc/eval"
	"github.com/painterc/painterc/internal/orttest"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/schedule"
	"github.com/painterc/painterc/testmodels"
)

// The oracle: testmodels.Reference, the plain-Go forward pass of the same
// weights, run here on one unpadded sequence at a time, with the
// log-softmax taken in float64 in the test. Nothing here goes through ORT
// or ortmodel's batching, padding, epilogue or cache.

// refLogits runs the reference on one sequence (positions 0..n-1, no
// padding, empty pasts for a KV model) and returns its logits, [n][vocab].
func refLogits(t testing.TB, s testmodels.Spec, sched schedule.Schedule, ids []int) [][]float64 {
	t.Helper()
	s, err := s.WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	n := int64(len(ids))
	feeds := map[string]testmodels.Tensor{}
	in := make([]int64, n)
	pos := make([]int64, n)
	mask := make([]int64, n)
	for i, id := range ids {
		in[i], pos[i], mask[i] = int64(id), int64(i), 1
	}
	feeds["input_ids"] = testmodels.Tensor{Shape: []int64{1, n}, Int: in}
	feeds["attention_mask"] = testmodels.Tensor{Shape: []int64{1, n}, Int: mask}
	feeds["position_ids"] = testmodels.Tensor{Shape: []int64{1, n}, Int: pos}
	if s.KVCache {
		for k := range testmodels.Instances(sched) {
			for _, kind := range []string{"key", "value"} {
				feeds[fmt.Sprintf("past_key_values.%d.%s", k, kind)] = testmodels.Tensor{
					Shape: []int64{1, int64(s.KVHeads), 0, int64(s.HeadDim())}, Float: []float32{}}
			}
		}
	}
	out, err := testmodels.Reference(s, sched, feeds)
	if err != nil {
		t.Fatal(err)
	}
	lg := out["logits"].Float
	rows := make([][]float64, n)
	for i := range rows {
		rows[i] = make([]float64, s.Vocab)
		for v := range rows[i] {
			rows[i][v] = float64(lg[i*s.Vocab+v])
		}
	}
	return rows
}

// logSoftmax in float64.
func logSoftmax(x []float64) []float64 {
	mx := math.Inf(-1)
	for _, v := range x {
		mx = math.Max(mx, v)
	}
	var z float64
	for _, v := range x {
		z += math.Exp(v - mx)
	}
	lz := mx + math.Log(z)
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v - lz
	}
	return out
}

func argmax(x []float64) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// refLL is lm-eval's loglikelihood of one request, computed from the
// reference: truncate to (ctx+cont)[-(L+1):][:-1], score the last
// len(cont) positions.
func refLL(t testing.TB, s testmodels.Spec, sched schedule.Schedule, r eval.LLRequest, L int) eval.LLResult {
	t.Helper()
	whole := append(append([]int{}, r.Context...), r.Continuation...)
	w := whole[max(0, len(whole)-(L+1)):]
	inp := w[:len(w)-1]
	rows := refLogits(t, s, sched, inp)
	res := eval.LLResult{IsGreedy: true}
	for p := len(inp) - len(r.Continuation); p < len(inp); p++ {
		lp := logSoftmax(rows[p])
		res.LogLikelihood += lp[w[p+1]]
		if argmax(rows[p]) != w[p+1] {
			res.IsGreedy = false
		}
	}
	return res
}

// refGreedy decodes n tokens greedily with the reference, recomputing the
// whole sequence each step.
func refGreedy(t testing.TB, s testmodels.Spec, sched schedule.Schedule, ctx []int, n int) []int {
	t.Helper()
	seq := append([]int{}, ctx...)
	var out []int
	for range n {
		rows := refLogits(t, s, sched, seq)
		tok := argmax(rows[len(rows)-1])
		out = append(out, tok)
		seq = append(seq, tok)
	}
	return out
}

// randTokens draws n ids below vocab.
func randTokens(r *rand.Rand, n, vocab int) []int {
	v := make([]int, n)
	for i := range v {
		v[i] = r.IntN(vocab)
	}
	return v
}

// sameScores scores reqs on a and on b and fails the test for each
// request whose log-likelihoods differ by more than 1e-4 or whose IsGreedy
// differ; what names the pair in the messages ("shared, uncached").
func sameScores(t testing.TB, what string, a, b *Model, reqs []eval.LLRequest) {
	t.Helper()
	x, err := a.LogLikelihood(bg, reqs, nil)
	if err != nil {
		t.Fatal(err)
	}
	y, err := b.LogLikelihood(bg, reqs, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range reqs {
		if d := math.Abs(x[i].LogLikelihood - y[i].LogLikelihood); d > 1e-4 || x[i].IsGreedy != y[i].IsGreedy {
			t.Errorf("%s: request %d: %+v against %+v (diff %g)", what, i, x[i], y[i], d)
		}
	}
}

// open builds m into a Model for a test, closing it at the end.
func open(t testing.TB, m *onnx.Model, o Options) *Model {
	t.Helper()
	orttest.Require(t)
	if o.Threads == 0 {
		o.Threads = 1
	}
	om, err := New(m, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { om.Close() })
	return om
}

func build(t testing.TB, s testmodels.Spec, sched schedule.Schedule) *onnx.Model {
	t.Helper()
	m, err := testmodels.Build(s, sched)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func identity(t testing.TB, s testmodels.Spec) schedule.Schedule {
	t.Helper()
	return s.Identity()
}
