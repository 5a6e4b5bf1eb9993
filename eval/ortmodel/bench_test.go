package ortmodel

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/painterc/painterc/eval"
	"github.com/painterc/painterc/internal/orttest"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/runtime"
	"github.com/painterc/painterc/testmodels"
)

// benchSpec is a Llama big enough that the forward pass, not per-run
// overhead, dominates a run: hidden 256, 4 blocks, vocabulary 8192. Its
// lm_head has 45% of its weights, far more than real models (GPT-2 small
// 30%, TinyLlama 6%, Llama-3-8B 7%), so scoring it is dominated by the
// vocabulary.
func benchSpec(kv bool) testmodels.Spec {
	return testmodels.Spec{Family: testmodels.Llama, KVCache: kv, Layers: 4, Hidden: 256, Heads: 8, KVHeads: 4, FF: 512, Vocab: 8192, Seed: 1}
}

// deepSpec has a real model's proportions: 8 blocks of hidden 256 and MLP
// 688, vocabulary 2048, so the lm_head is 8% of the weights.
func deepSpec(kv bool) testmodels.Spec {
	return testmodels.Spec{Family: testmodels.Llama, KVCache: kv, Layers: 8, Hidden: 256, Heads: 8, KVHeads: 4, FF: 688, Vocab: 2048, Seed: 1}
}

// benchThreads is ONNX Runtime's intra-op thread count in the benchmarks
// (PAINTERC_BENCH_THREADS; default 1, for a shared machine).
func benchThreads() int {
	var n int
	fmt.Sscan(os.Getenv("PAINTERC_BENCH_THREADS"), &n)
	return max(n, 1)
}

// scoreRequests is 32 requests of 100-140 tokens, contexts all different.
func scoreRequests(vocab int) []eval.LLRequest {
	r := rand.New(rand.NewPCG(1, 1))
	var reqs []eval.LLRequest
	for range 32 {
		reqs = append(reqs, eval.LLRequest{Context: randTokens(r, 90+r.IntN(30), vocab), Continuation: randTokens(r, 10+r.IntN(10), vocab)})
	}
	return reqs
}

// BenchmarkScore compares LogLikelihood with a bare ONNX Runtime loop over
// the same batches (same order, padding, inputs) on the model without the
// epilogue, which only runs the session and receives the logits: the
// ratio bare/ortmodel of ns/op is ortmodel's throughput relative to the
// bare runtime. "bare+logsoftmax" also computes the scores in Go from the
// logits, as a backend without the epilogue must.
func BenchmarkScore(b *testing.B) {
	orttest.Require(b)
	s := benchSpec(false)
	m := build(b, s, s.Identity())
	reqs := scoreRequests(s.Vocab)
	opts := Options{MaxLength: 512, BatchSize: 8, Threads: benchThreads()}
	lm := open(b, m, opts)

	batches, batchItems := bareBatches(lm, reqs)
	data, err := onnx.Encode(m)
	if err != nil {
		b.Fatal(err)
	}
	bare, err := runtime.NewSessionFromBytes(data, "bare", runtime.SessionOptions{IntraOpThreads: opts.Threads})
	if err != nil {
		b.Fatal(err)
	}
	defer bare.Close()

	b.Run("ortmodel", func(b *testing.B) {
		for b.Loop() {
			if _, err := lm.LogLikelihood(bg, reqs, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bare", func(b *testing.B) {
		for b.Loop() {
			for _, in := range batches {
				if _, err := bare.Run(in, "logits"); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("bare+logsoftmax", func(b *testing.B) {
		for b.Loop() {
			for k, in := range batches {
				out, err := bare.Run(in, "logits")
				if err != nil {
					b.Fatal(err)
				}
				lg := out["logits"].Data
				S := int(out["logits"].Shape[1])
				for row, it := range batchItems[k] {
					var ll float64
					for p := len(it.inp) - len(it.cont); p < len(it.inp); p++ {
						ll += goLogProb(lg[4*(row*S+p)*s.Vocab:][:4*s.Vocab], it.tgt[p])
					}
					_ = ll
				}
			}
		}
	})
}

// goLogProb is log softmax(x)[t] in float64 for x the raw little-endian
// float32 bytes of one logits row (read in place: no converted copy).
func goLogProb(x []byte, t int) float64 {
	at := func(i int) float64 { return float64(math.Float32frombits(binary.LittleEndian.Uint32(x[4*i:]))) }
	n := len(x) / 4
	mx := math.Inf(-1)
	for i := range n {
		mx = math.Max(mx, at(i))
	}
	var z float64
	for i := range n {
		z += math.Exp(at(i) - mx)
	}
	return at(t) - mx - math.Log(z)
}

// mcBenchRequests: 8 documents, each 4 choices of 20 tokens after the same
// 100-token context.
func mcBenchRequests(vocab int) []eval.LLRequest {
	r := rand.New(rand.NewPCG(2, 2))
	var reqs []eval.LLRequest
	for range 8 {
		ctx := randTokens(r, 100, vocab)
		for range 4 {
			reqs = append(reqs, eval.LLRequest{Context: ctx, Continuation: randTokens(r, 20, vocab)})
		}
	}
	return reqs
}

// BenchmarkMultipleChoice: on a KV model, scoring 4 choices from one
// prefilled context ("shared") against scoring each request whole
// ("uncached"); both in batches of 8.
func BenchmarkMultipleChoice(b *testing.B) {
	orttest.Require(b)
	s := benchSpec(true)
	m := build(b, s, s.Identity())
	reqs := mcBenchRequests(s.Vocab)
	opts := Options{MaxLength: 512, BatchSize: 8, Threads: benchThreads()}
	shared := open(b, m, opts)
	plain := open(b, m, opts)
	plain.noShare = true
	for _, c := range []struct {
		name string
		m    *Model
	}{{"shared", shared}, {"uncached", plain}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.m.LogLikelihood(bg, reqs, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPeakRSS is scripts/bench-score.sh's memory probe. A process has
// one peak RSS, so the script runs it once per mode (-benchtime 1x), each
// in a fresh process: one batch of 8 x 512 tokens on a Llama with a 128k
// vocabulary, scored through ortmodel's default epilogue
// (PAINTERC_RSS_MODE=epilogue: the positions gathered before the lm_head),
// the epilogue after the full logits (after-head), each also in the
// ReduceLogSumExp form (epilogue-lse, after-head-lse), or by a bare session
// handing the logits to Go, which computes the scores (bare). Without the
// variable it is skipped. It reports peak_MiB and fails when the scores
// are not log-probabilities, or when the default epilogue's growth reaches
// the size of the full logits it exists to avoid.
func BenchmarkPeakRSS(b *testing.B) {
	mode := os.Getenv("PAINTERC_RSS_MODE")
	if mode == "" {
		b.Skip("a probe for scripts/bench-score.sh (set PAINTERC_RSS_MODE)")
	}
	orttest.Require(b)
	const batch, length, cont = 8, 512, 13
	s := testmodels.Spec{Family: testmodels.Llama, Layers: 1, Hidden: 64, Heads: 4, KVHeads: 2, FF: 128, Vocab: 128000, Seed: 1}
	m := build(b, s, s.Identity())
	r := rand.New(rand.NewPCG(3, 3))
	var reqs []eval.LLRequest
	for range batch {
		reqs = append(reqs, eval.LLRequest{Context: randTokens(r, length-cont+1, s.Vocab), Continuation: randTokens(r, cont, s.Vocab)})
	}
	opts := Options{MaxLength: length, BatchSize: batch, Threads: benchThreads()}
	var before int64
	var sum float64
	switch mode {
	case "epilogue", "epilogue-lse", "after-head", "after-head-lse":
		opts.keepHead = strings.HasPrefix(mode, "after-head")
		if strings.HasSuffix(mode, "-lse") {
			opts.epilogue = formLogSumExp
		}
		lm := open(b, m, opts)
		before = maxRSS()
		res, err := lm.LogLikelihood(bg, reqs, nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, x := range res {
			sum += x.LogLikelihood
		}
	case "bare":
		lm := open(b, m, opts) // for its feeds only
		data, err := onnx.Encode(m)
		if err != nil {
			b.Fatal(err)
		}
		bare, err := runtime.NewSessionFromBytes(data, "bare", runtime.SessionOptions{IntraOpThreads: opts.Threads})
		if err != nil {
			b.Fatal(err)
		}
		defer bare.Close()
		var rows [][]int
		for _, q := range reqs {
			rows = append(rows, append(append([]int{}, q.Context...), q.Continuation...)[:length])
		}
		in, _ := lm.feeds(rows, length, nil, nil)
		before = maxRSS()
		out, err := bare.Run(in, "logits")
		if err != nil {
			b.Fatal(err)
		}
		lg := out["logits"].Data
		for i, q := range reqs {
			whole := append(append([]int{}, q.Context...), q.Continuation...)
			for p := length - cont; p < length; p++ {
				sum += goLogProb(lg[4*(i*length+p)*s.Vocab:][:4*s.Vocab], whole[p+1])
			}
		}
	default:
		b.Fatalf("unknown PAINTERC_RSS_MODE %q", mode)
	}
	peak := maxRSS()
	// batch*cont log-probabilities of random tokens under a near-uniform
	// 128k-way softmax: each close to -log(128000) = -11.76.
	if math.IsNaN(sum) || sum >= 0 || sum < -2*float64(batch*cont)*math.Log(float64(s.Vocab)) {
		b.Errorf("mode %s: sum of %d log-likelihoods %v: want a negative number near %d x -%.2f", mode, batch*cont, sum, batch*cont, math.Log(float64(s.Vocab)))
	}
	logits := int64(batch) * length * int64(s.Vocab) * 4
	if mode == "epilogue" && peak-before >= logits {
		b.Errorf("the default epilogue grew the RSS by %d MiB, as much as the full logits (%d MiB) it exists to avoid", (peak-before)>>20, logits>>20)
	}
	b.ReportMetric(float64(peak>>20), "peak_MiB")
	fmt.Printf("RSS mode=%s before_mib=%d peak_mib=%d ll_sum=%.4f\n", mode, before>>20, peak>>20, sum)
}

func maxRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return ru.Maxrss << 10 // kilobytes on Linux
}

// BenchmarkRatios measures the benchmark pairs interleaved (A, B, A, B,
// ...), so that load from other processes falls on both alike, and prints
// the median time of each and the ratio of the medians; the ratios are
// also reported as metrics. scripts/bench-score.sh runs it with
// -benchtime 1x; PAINTERC_BENCH_ROUNDS sets the rounds (default 9). Each
// pair must compute the same scores, or the ratio compares unlike work.
func BenchmarkRatios(b *testing.B) {
	orttest.Require(b)
	rounds := 9
	fmt.Sscan(os.Getenv("PAINTERC_BENCH_ROUNDS"), &rounds)
	opts := Options{MaxLength: 512, BatchSize: 8, Threads: benchThreads()}

	for _, sh := range []struct {
		name, metric string
		spec         func(bool) testmodels.Spec
	}{{"vocab-heavy (4x256, vocab 8192)", "vocab-heavy", benchSpec}, {"deep (8x256, vocab 2048)", "deep", deepSpec}} {
		s := sh.spec(false)
		m := build(b, s, s.Identity())
		reqs := scoreRequests(s.Vocab)
		lm := open(b, m, opts)
		batches, batchItems := bareBatches(lm, reqs)
		data, err := onnx.Encode(m)
		if err != nil {
			b.Fatal(err)
		}
		bare, err := runtime.NewSessionFromBytes(data, "bare", runtime.SessionOptions{IntraOpThreads: opts.Threads})
		if err != nil {
			b.Fatal(err)
		}
		defer bare.Close()
		got, err := lm.LogLikelihood(bg, reqs, nil)
		if err != nil {
			b.Fatal(err)
		}
		for k, in := range batches {
			out, err := bare.Run(in, "logits")
			if err != nil {
				b.Fatal(err)
			}
			lg, S := out["logits"].Data, int(out["logits"].Shape[1])
			for row, it := range batchItems[k] {
				var ll float64
				for p := len(it.inp) - len(it.cont); p < len(it.inp); p++ {
					ll += goLogProb(lg[4*(row*S+p)*s.Vocab:][:4*s.Vocab], it.tgt[p])
				}
				if d := math.Abs(ll - got[it.req].LogLikelihood); d > 1e-3*max(1, math.Abs(ll)) {
					b.Fatalf("%s: request %d: ortmodel scores %v, the bare loop %v: the two sides do different work", sh.name, it.req, got[it.req].LogLikelihood, ll)
				}
			}
		}
		ta, tb := interleave(rounds,
			func() {
				if _, err := lm.LogLikelihood(bg, reqs, nil); err != nil {
					b.Fatal(err)
				}
			},
			func() {
				for _, in := range batches {
					if _, err := bare.Run(in, "logits"); err != nil {
						b.Fatal(err)
					}
				}
			})
		fmt.Printf("BENCH %s: score 32 requests of 100-140 tokens: ortmodel %.1f ms, bare ORT loop %.1f ms: throughput ortmodel/bare = %.3f\n", sh.name, ta*1e3, tb*1e3, tb/ta)
		b.ReportMetric(tb/ta, sh.metric+"-ortmodel/bare")

		ks := sh.spec(true)
		km := build(b, ks, ks.Identity())
		mc := mcBenchRequests(ks.Vocab)
		shared := open(b, km, opts)
		plain := open(b, km, opts)
		plain.noShare = true
		sharedRes, err := shared.LogLikelihood(bg, mc, nil)
		if err != nil {
			b.Fatal(err)
		}
		plainRes, err := plain.LogLikelihood(bg, mc, nil)
		if err != nil {
			b.Fatal(err)
		}
		for i := range mc {
			if d := math.Abs(sharedRes[i].LogLikelihood - plainRes[i].LogLikelihood); d > 1e-3 {
				b.Fatalf("%s: request %d: shared prefill scores %v, uncached %v", sh.name, i, sharedRes[i].LogLikelihood, plainRes[i].LogLikelihood)
			}
		}
		ta, tb = interleave(rounds,
			func() {
				if _, err := shared.LogLikelihood(bg, mc, nil); err != nil {
					b.Fatal(err)
				}
			},
			func() {
				if _, err := plain.LogLikelihood(bg, mc, nil); err != nil {
					b.Fatal(err)
				}
			})
		fmt.Printf("BENCH %s: multiple choice, 8 docs x 4 choices x 20 tokens after 100: shared %.1f ms, uncached %.1f ms: speed-up %.2fx\n", sh.name, ta*1e3, tb*1e3, tb/ta)
		b.ReportMetric(tb/ta, sh.metric+"-shared/uncached")
	}
}

// bareBatches forms the batches LogLikelihood runs for reqs (longest first,
// right-padded, same feeds) without the epilogue's inputs, and returns each
// batch's requests too.
func bareBatches(lm *Model, reqs []eval.LLRequest) ([]map[string]*runtime.Tensor, [][]llItem) {
	var items []llItem
	for i, q := range reqs {
		whole := append(append([]int{}, q.Context...), q.Continuation...)
		items = append(items, llItem{req: i, cont: q.Continuation, whole: whole, inp: whole[:len(whole)-1], tgt: whole[1:]})
	}
	slices.SortStableFunc(items, func(x, y llItem) int {
		if c := cmp.Compare(len(y.whole), len(x.whole)); c != 0 {
			return c
		}
		return slices.Compare(x.whole, y.whole)
	})
	var batches []map[string]*runtime.Tensor
	var batchItems [][]llItem
	n := lm.opts.BatchSize
	for i := 0; i < len(items); i += n {
		bi := items[i:min(i+n, len(items))]
		var rows [][]int
		for _, it := range bi {
			rows = append(rows, it.inp)
		}
		in, _ := lm.feeds(rows, len(rows[0]), nil, nil)
		batches = append(batches, in)
		batchItems = append(batchItems, bi)
	}
	return batches, batchItems
}

// interleave runs a and b alternately, once each to warm up and then
// rounds times, and returns their median wall times in seconds.
func interleave(rounds int, a, b func()) (float64, float64) {
	a()
	b()
	var ta, tb []float64
	for i := range rounds {
		first, second, t1, t2 := a, b, &ta, &tb
		if i%2 == 1 {
			first, second, t1, t2 = b, a, &tb, &ta
		}
		start := time.Now()
		first()
		*t1 = append(*t1, time.Since(start).Seconds())
		start = time.Now()
		second()
		*t2 = append(*t2, time.Since(start).Seconds())
	}
	slices.Sort(ta)
	slices.Sort(tb)
	return ta[len(ta)/2], tb[len(tb)/2]
}

// BenchmarkGenerate: 8 contexts of 100 tokens, 32 greedy tokens each, on
// the deep KV model, with the cache and by recomputation.
func BenchmarkGenerate(b *testing.B) {
	orttest.Require(b)
	s := deepSpec(true)
	m := build(b, s, s.Identity())
	r := rand.New(rand.NewPCG(4, 4))
	var reqs []eval.GenRequest
	for range 8 {
		reqs = append(reqs, eval.GenRequest{Context: randTokens(r, 100, s.Vocab), MaxTokens: 32})
	}
	lm := open(b, m, Options{MaxLength: 512, BatchSize: 8, Threads: benchThreads()})
	for _, noCache := range []bool{false, true} {
		name := "cached"
		if noCache {
			name = "recomputed"
		}
		b.Run(name, func(b *testing.B) {
			lm.noCache = noCache
			for b.Loop() {
				if _, err := lm.Generate(bg, reqs, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
