package eval

import (
	"math"
	"math/rand/v2"
)

// BootstrapResamples and BootstrapSeed fix the bootstrap that gives
// `perplexity` its standard error: the sample standard deviation of
// exp(−mean ll) over this many resamples with replacement, drawn from a
// PCG generator with this seed, so that a rerun reports the same number.
// (lm-eval draws 100000 resamples by default; 1000 is fast and its
// estimate differs from theirs only in the resampling noise.)
const (
	BootstrapResamples = 1000
	BootstrapSeed      = 1234
)

// Metric is one aggregated metric of a task.
type Metric struct {
	Name   string // "acc"
	Filter string // "none", or a filter's name such as "strict-match"
	Value  float64
	// Stderr is the standard error; HasStderr is false where lm-eval
	// reports "N/A" (a weighted perplexity, or a single document).
	Stderr    float64
	HasStderr bool
}

// Key is the metric's lm-eval key, "name,filter".
func (m Metric) Key() string { return m.Name + "," + m.Filter }

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// sampleStddev is the standard deviation with Bessel's correction (n−1).
func sampleStddev(xs []float64) float64 {
	mu := mean(xs)
	s := 0.0
	for _, x := range xs {
		s += (x - mu) * (x - mu)
	}
	return math.Sqrt(s / float64(len(xs)-1))
}

// meanMetric aggregates per-document values by their mean, with lm-eval's
// standard error: the sample standard deviation over √n, "N/A" for a
// single document.
func meanMetric(name, filter string, xs []float64) Metric {
	m := Metric{Name: name, Filter: filter, Value: mean(xs)}
	if len(xs) > 1 {
		m.Stderr = sampleStddev(xs) / math.Sqrt(float64(len(xs)))
		m.HasStderr = true
	}
	return m
}

// perplexityMetric is lm-eval's `perplexity` aggregation, exp(−mean ll),
// with a seeded bootstrap standard error (see BootstrapResamples).
func perplexityMetric(lls []float64) Metric {
	m := Metric{Name: "perplexity", Filter: "none", Value: math.Exp(-mean(lls))}
	if len(lls) > 1 {
		m.Stderr = bootstrapStderr(lls, func(xs []float64) float64 { return math.Exp(-mean(xs)) })
		m.HasStderr = true
	}
	return m
}

func bootstrapStderr(xs []float64, f func([]float64) float64) float64 {
	rng := rand.New(rand.NewPCG(BootstrapSeed, uint64(len(xs))))
	res := make([]float64, BootstrapResamples)
	buf := make([]float64, len(xs))
	for i := range res {
		for j := range buf {
			buf[j] = xs[rng.IntN(len(xs))]
		}
		res[i] = f(buf)
	}
	return sampleStddev(res)
}

// weightedMean is lm-eval's weighted_mean over (value, weight) pairs:
// Σvalue / Σweight.
func weightedMean(vals []float64, weights []int) float64 {
	a, b := 0.0, 0
	for i := range vals {
		a += vals[i]
		b += weights[i]
	}
	return a / float64(b)
}

// argmax is numpy's argmax: the first maximum, and the first NaN when there
// is one.
func argmax(xs []float64) int {
	best := 0
	for i, x := range xs {
		if math.IsNaN(x) {
			return i
		}
		if x > xs[best] {
			best = i
		}
	}
	return best
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
