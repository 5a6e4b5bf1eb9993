package screen

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/painterc/painterc/internal/orttest"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/schedule"
)

// smolExports are the real SmolLM2-135M-Instruct exports make real-models
// writes: the TorchScript exporter's without and with a cache, whose every
// block is a few hundred primitive nodes, and onnxruntime-genai's builder's,
// whose blocks are a few fused operators.
var smolExports = []string{"smollm2-135m-instruct-torchscript", "smollm2-135m-instruct-torchscript-kv", "smollm2-135m-instruct-genai"}

// BenchmarkScreen screens 16 candidates typical of a search, single-block
// skips of the middle blocks 7..22 of SmolLM2's 30, on 4 windows of 128
// tokens, both ways: Screen (fork graphs of Options.MaxPerGraph
// candidates) and Separate (one lowered model per candidate, plus the full
// model once), on each export present. Both times include building the
// graphs and loading them into ONNX Runtime, which a search pays for every
// candidate. It reports separate/fork as x-faster. PAINTERC_BENCH_OPT_LEVEL
// sets ONNX Runtime's optimization level for both (default: screen's,
// basic).
//
//	go test ./screen/ -run XXX -bench 'Screen/.*/per-graph=16' -benchtime 3x
func BenchmarkScreen(b *testing.B) {
	orttest.Require(b)
	for _, export := range smolExports {
		path := filepath.Join("..", "build", "real", export, "model.onnx")
		b.Run(strings.TrimPrefix(export, "smollm2-135m-instruct-"), func(b *testing.B) {
			if _, err := os.Stat(path); err != nil {
				b.Skipf("the real SmolLM2 export is absent (%v); make real-models builds it", err)
			}
			benchScreen(b, path)
		})
	}
}

func benchScreen(b *testing.B, path string) {
	m, err := onnx.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	blocks := detect(b, m)
	var cands []schedule.Schedule
	for skip := 7; skip <= 22; skip++ {
		cands = append(cands, parse(b, []string{fmt.Sprintf("0-%d,%d-%d", skip-1, skip+1, blocks.T-1)})[0])
	}
	calib := windows(4, 128, 49152, 1)
	for _, per := range []int{8, 16} {
		b.Run(fmt.Sprintf("per-graph=%d", per), func(b *testing.B) {
			o := Options{Batch: 4, MaxPerGraph: per, OptLevel: os.Getenv("PAINTERC_BENCH_OPT_LEVEL")}
			var fork, sep time.Duration
			var worst float64
			for range b.N {
				s, err := New(m, blocks, calib, o)
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				fr, err := s.Screen(context.Background(), cands)
				if err != nil {
					b.Fatal(err)
				}
				fork += time.Since(start)
				start = time.Now()
				sr, err := s.Separate(context.Background(), cands)
				if err != nil {
					b.Fatal(err)
				}
				sep += time.Since(start)
				for j := range cands {
					for _, d := range [][2]float64{{fr[j].KL, sr[j].KL}, {fr[j].NLL, sr[j].NLL}} {
						worst = max(worst, relDiff(d[0], d[1]))
					}
				}
			}
			n := float64(b.N * len(cands))
			b.ReportMetric(n/fork.Seconds(), "fork-cands/s")
			b.ReportMetric(n/sep.Seconds(), "separate-cands/s")
			b.ReportMetric(sep.Seconds()/fork.Seconds(), "x-faster")
			b.ReportMetric(worst, "max-rel-diff")
		})
	}
}

func relDiff(a, b float64) float64 {
	if a == b {
		return 0
	}
	return math.Abs(a-b) / max(math.Abs(a), math.Abs(b))
}
