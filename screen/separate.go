package screen

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/rewrite"
	"github.com/painterc/painterc/runtime"
	"github.com/painterc/painterc/schedule"
)

// fullWindow is the full model's distribution at every position of one
// window, kept in float64 so that each candidate costs one pass over its
// own logits: log p_full, p_full and the argmax per position.
type fullWindow struct {
	logp, p []float64 // [n × vocab]
	argmax  []int     // [n]
}

// Separate scores each candidate as its own lowered model (rewrite.Lower),
// one session each: ONNX Runtime returns the logits and the measures are
// computed here in float64 against the full model's logits, which are
// computed once per Screener. It gives the same numbers as Screen, the slow
// way, and so is both Screen's oracle and its baseline.
func (s *Screener) Separate(ctx context.Context, cands []schedule.Schedule) ([]Result, error) {
	if s.full == nil {
		full, err := s.fullWindows(ctx)
		if err != nil {
			return nil, err
		}
		s.full = full
	}
	results := make([]Result, len(cands))
	for j, c := range cands {
		lm, _, err := rewrite.Lower(s.m, s.b, c, rewrite.Provenance{Pass: "screen separate"})
		if err != nil {
			return nil, fmt.Errorf("screen: candidate %d (%s): %w", j, c, err)
		}
		if err := rewrite.Verify("lower", lm); err != nil {
			return nil, fmt.Errorf("screen: candidate %d (%s): %w", j, c, err)
		}
		var acc sums
		err = s.eachWindow(ctx, lm, "candidate "+c.String(), func(w int, logits []float32, vocab int) {
			kl, top1, nll := compare(s.full[w], logits, vocab, s.calib[w])
			acc.kl += kl
			acc.top1 += top1
			acc.nll += nll
			acc.tokens += len(s.calib[w])
			acc.next += len(s.calib[w]) - 1
		})
		if err != nil {
			return nil, err
		}
		results[j] = acc.result(c.String())
	}
	return results, nil
}

// fullWindows runs the original model over every window and keeps its
// distributions.
func (s *Screener) fullWindows(ctx context.Context) ([]fullWindow, error) {
	out := make([]fullWindow, len(s.calib))
	err := s.eachWindow(ctx, s.m, "full model", func(w int, logits []float32, vocab int) {
		n := len(logits) / vocab
		fw := fullWindow{logp: make([]float64, len(logits)), p: make([]float64, len(logits)), argmax: make([]int, n)}
		parallelRows(n, func(p int) {
			row := logits[p*vocab : (p+1)*vocab]
			lse := logSumExp(row)
			for v, x := range row {
				lp := float64(x) - lse
				fw.logp[p*vocab+v] = lp
				fw.p[p*vocab+v] = math.Exp(lp)
			}
			fw.argmax[p] = argmax(row)
		})
		out[w] = fw
	})
	return out, err
}

// eachWindow opens m, runs every window through it in batches and hands
// each window's logits ([n × vocab], row-major) to f.
func (s *Screener) eachWindow(ctx context.Context, m *onnx.Model, name string, f func(w int, logits []float32, vocab int)) error {
	sess, err := s.open(m, name)
	if err != nil {
		return err
	}
	defer sess.Close()
	for lo := 0; lo < len(s.calib); lo += s.o.Batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		wins := s.calib[lo:min(lo+s.o.Batch, len(s.calib))]
		feeds, err := s.feeds(sess, s.batch(lo))
		if err != nil {
			return err
		}
		out, err := sess.Run(feeds, s.logits)
		if err != nil {
			return fmt.Errorf("screen: %s: %w", name, err)
		}
		t := out[s.logits]
		n := len(wins[0])
		if len(t.Shape) != 3 || int(t.Shape[0]) != s.o.Batch || int(t.Shape[1]) != n || t.Shape[2] <= 0 {
			return fmt.Errorf("screen: %s: logits of shape %s, want [%d %d vocab]", name, runtime.FormatShape(t.Shape), s.o.Batch, n)
		}
		v, err := t.Float32s()
		if err != nil {
			return fmt.Errorf("screen: %s: logits: %w", name, err)
		}
		vocab := int(t.Shape[2])
		for w := range wins { // the rest is padding
			f(lo+w, v[w*n*vocab:(w+1)*n*vocab], vocab)
		}
	}
	return nil
}

// compare sums, over one window, KL(p_full || p_cand) and top-1 agreement
// at every position and -log p_cand(next token) at every position but the
// last.
func compare(full fullWindow, logits []float32, vocab int, ids []int) (kl, top1, nll float64) {
	n := len(ids)
	kls := make([]float64, n)
	tops := make([]float64, n)
	nlls := make([]float64, n)
	parallelRows(n, func(p int) {
		row := logits[p*vocab : (p+1)*vocab]
		lse := logSumExp(row)
		lp, pf := full.logp[p*vocab:(p+1)*vocab], full.p[p*vocab:(p+1)*vocab]
		d := 0.0
		for v, x := range row {
			d += pf[v] * (lp[v] - (float64(x) - lse))
		}
		kls[p] = d
		if argmax(row) == full.argmax[p] {
			tops[p] = 1
		}
		if p+1 < n {
			nlls[p] = lse - float64(row[ids[p+1]])
		}
	})
	for p := range n {
		kl += kls[p]
		top1 += tops[p]
		nll += nlls[p]
	}
	return kl, top1, nll
}

// parallelRows calls f(0..n-1), spread over a few goroutines: the float64
// log-softmax over a large vocabulary is most of Separate's own time.
func parallelRows(n int, f func(p int)) {
	const workers = 8
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := w; p < n; p += workers {
				f(p)
			}
		}()
	}
	wg.Wait()
}

func logSumExp(row []float32) float64 {
	m := math.Inf(-1)
	for _, x := range row {
		m = max(m, float64(x))
	}
	s := 0.0
	for _, x := range row {
		s += math.Exp(float64(x) - m)
	}
	return m + math.Log(s)
}

// argmax is the first index of the largest entry, as ONNX's ArgMax picks.
func argmax(row []float32) int {
	best := 0
	for i, x := range row {
		if x > row[best] {
			best = i
		}
	}
	return best
}
