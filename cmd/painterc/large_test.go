package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/painterc/painterc/internal/orttest"
	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/runtime/npy"
	"github.com/painterc/painterc/testmodels"
)

// largeSpec is a Llama of 2.26 GiB of float32 weights, more than protobuf's
// 2 GiB: 12 blocks at hidden 2048, MLP 5504, and the score fixture's
// 16-word vocabulary.
var largeSpec = testmodels.Spec{Family: testmodels.Llama, Layers: 12, Hidden: 2048, Heads: 16, KVHeads: 16, FF: 5504, Vocab: 16}

// TestScoreOver2GiB scores a model whose external weights exceed 2 GiB, as
// it is and with its middle blocks skipped, each in a child process whose
// peak RSS it prints beside the weight bytes (scripts/large-model.sh runs
// it; docs/large-models.md has the numbers). Beside each it runs the same
// model through `painterc run`, which ONNX Runtime loads from its path,
// reading the data file itself: the reference both for the numbers (the
// score's log-likelihood of "cat" after BOS must be the log-softmax of
// run's logits) and for memory (what ORT alone holds).
//
// The weights are a sparse file of zeros, which costs no disk; every logit
// is then 0, so each scored token's log-likelihood is exactly -log(16) and
// acc is known. With PAINTERC_LARGE_FILL=1 the file is filled with small
// pseudo-random floats instead (2.3 GB written), which makes ORT hold every
// weight page: the memory figures in the docs come from that run.
//
// It needs about 5 GB of memory and a few minutes; set PAINTERC_LARGE=1.
func TestScoreOver2GiB(t *testing.T) {
	if os.Getenv("PAINTERC_LARGE") != "1" {
		t.Skip("writes and scores a 2.3 GiB (sparse) model; set PAINTERC_LARGE=1")
	}
	orttest.Require(t)
	fill := os.Getenv("PAINTERC_LARGE_FILL") == "1"
	in := t.TempDir()
	s := largeSpec
	s.ExternalData = "weights.bin"
	model, task := writeScoreFixtureIn(t, in, tiny) // the tokenizer and task files
	m, err := testmodels.Default(s)
	if err != nil {
		t.Fatal(err)
	}
	size, err := testmodels.ExternalDataSize(m)
	if err != nil {
		t.Fatal(err)
	}
	if size <= 2<<30 {
		t.Fatalf("the model holds %d bytes of weights, not over 2 GiB", size)
	}
	writeWeights(t, filepath.Join(in, "weights.bin"), size, fill)
	m.Dir = in
	if err := onnx.Save(model, m, onnx.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	before := statDir(t, in)

	work := t.TempDir()
	skipModel := filepath.Join(work, "skip.onnx")
	if r := cli(t, "--pass", "skip", "--n", "4", model, "-o", skipModel); r.code != 0 {
		t.Fatalf("compiling the skip variant: exit %d: %s", r.code, r.stderr)
	}
	feeds := []string{}
	for name, v := range map[string][]int64{"input_ids": {0, 4}, "attention_mask": {1, 1}, "position_ids": {0, 1}} {
		p := filepath.Join(work, name+".npy")
		writeFile(t, p, npyInt64([]int64{1, 2}, v))
		feeds = append(feeds, "--input", name+"="+p)
	}

	for _, c := range []struct {
		name, file string
		pass       []string
	}{
		{"original", model, nil},
		{"skip", skipModel, []string{"--pass", "skip", "--n", "4"}},
	} {
		out := filepath.Join(work, c.name+"-logits")
		r, runPeak := cliChildPeak(t, append([]string{"run", c.file, "--out", out, "--threads", "2"}, feeds...))
		if r.code != 0 {
			t.Fatalf("%s: painterc run: exit %d: %s", c.name, r.code, r.stderr)
		}
		want := logSoftmaxAt(t, filepath.Join(out, "logits.npy"), 4)

		samples := filepath.Join(work, c.name+"-samples.jsonl")
		args := append([]string{"score", model, "--task", task, "--json", "--threads", "2", "--log-samples", samples}, c.pass...)
		r, peak := cliChildPeak(t, args)
		if r.code != 0 {
			t.Fatalf("%s: exit %d: %s", c.name, r.code, r.stderr)
		}
		lls := readLLs(t, samples)
		// Document 2 has an empty context (so BOS) and "cat" as choice 1.
		if got := lls[2][1]; math.Abs(got-want) > 1e-4 {
			t.Errorf("%s: ll of \"cat\" after BOS is %v; ORT on the model by path gives %v", c.name, got, want)
		}
		if !fill {
			// -(tokens) * log(16) for choices of 1, 1, 2 and 1, 4 and 3, 1
			// tokens; the first of the shortest wins: acc = 1/3 (gold 0, 1, 0).
			for i, toks := range [][]int{{1, 1, 2}, {1, 4}, {3, 1}} {
				for j, n := range toks {
					if want := -float64(n) * math.Log(16); math.Abs(lls[i][j]-want) > 1e-4 {
						t.Errorf("%s: doc %d choice %d: ll %v, want %v", c.name, i, j, lls[i][j], want)
					}
				}
			}
			var res struct {
				Results map[string]map[string]any `json:"results"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
				t.Fatalf("%s: %v\n%s", c.name, err, r.stdout)
			}
			if acc := res.Results["mc"]["acc,none"]; acc != 1.0/3 {
				t.Errorf("%s: acc %v, want 1/3", c.name, acc)
			}
		}
		fmt.Printf("LARGE %s filled=%v weights_mib=%d score: %v peak/weights=%.2f; ort-by-path: %v peak/weights=%.2f; score/ort-by-path=%.2f\n",
			c.name, fill, size>>20, peak, float64(peak.Total)/float64(size), runPeak, float64(runPeak.Total)/float64(size), float64(peak.Total)/float64(runPeak.Total))
	}
	// A sweep of the skip variant at N = 4 scores the original too (its
	// baseline): both load the same way.
	sweepDir := filepath.Join(work, "sweep")
	r, peak := cliChildPeak(t, []string{"sweep", model, "--task", task, "--passes", "skip", "--n", "4..4", "--out", sweepDir, "--threads", "2", "-q"})
	if r.code != 0 {
		t.Fatalf("sweep: exit %d: %s", r.code, r.stderr)
	}
	rows := lines(string(readFile(t, filepath.Join(sweepDir, "results.jsonl"))))
	if len(rows) < 2 {
		t.Errorf("sweep wrote %d results, want the original and the skip variant:\n%s", len(rows), strings.Join(rows, "\n"))
	}
	fmt.Printf("LARGE sweep filled=%v weights_mib=%d results=%d %v peak/weights=%.2f\n", fill, size>>20, len(rows), peak, float64(peak.Total)/float64(size))

	if after := statDir(t, in); !maps.Equal(before, after) {
		t.Errorf("scoring changed the model's folder:\n before %v\n after %v", before, after)
	}
}

// writeWeights makes the data file: size bytes of zeros, sparse, or with
// fill small pseudo-random float32 values (uniform in ±0.02).
func writeWeights(t *testing.T, path string, size int64, fill bool) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !fill {
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		return
	}
	r := rand.New(rand.NewPCG(1, 2))
	chunk := make([]byte, 4<<20)
	for i := 0; i < len(chunk); i += 4 {
		binary.LittleEndian.PutUint32(chunk[i:], math.Float32bits(float32(r.Float64()*0.04-0.02)))
	}
	for w := int64(0); w < size; w += int64(len(chunk)) {
		if _, err := f.Write(chunk[:min(int64(len(chunk)), size-w)]); err != nil {
			t.Fatal(err)
		}
	}
}

// logSoftmaxAt is log_softmax(logits[0, 0, :])[tok] from a .npy file of
// float32 logits [1, sequence, vocab].
func logSoftmaxAt(t *testing.T, path string, tok int) float64 {
	t.Helper()
	x, err := npy.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := x.Float32s()
	if err != nil {
		t.Fatal(err)
	}
	vocab := int(x.Shape[len(x.Shape)-1])
	row := v[:vocab]
	mx := math.Inf(-1)
	for _, l := range row {
		mx = math.Max(mx, float64(l))
	}
	var sum float64
	for _, l := range row {
		sum += math.Exp(float64(l) - mx)
	}
	return float64(row[tok]) - mx - math.Log(sum)
}

// readLLs reads each document's choice log-likelihoods from a samples log.
func readLLs(t *testing.T, samples string) [][]float64 {
	t.Helper()
	f, err := os.ReadFile(samples)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]float64
	for _, line := range lines(string(f)) {
		var d struct {
			LLs []float64 `json:"loglikelihoods"`
		}
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatal(err)
		}
		out = append(out, d.LLs)
	}
	if len(out) != 3 {
		t.Fatalf("%d documents in %s, want 3", len(out), samples)
	}
	return out
}

// statDir lists dir's files with their sizes and modification times
// (hashing the 2.3 GiB of weights would read them all into memory).
func statDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = fmt.Sprintf("%d %s", fi.Size(), fi.ModTime())
	}
	return out
}

// peakRSS is a child's peak memory: Total from getrusage (the kernel's
// high-water mark), Anon and File the highest anonymous and file-backed
// resident sizes seen by sampling /proc/PID/status every 10 ms (file pages
// are mapped files, such as weights read through a mapping, which the
// kernel may drop and reread; anonymous pages are copies).
type peakRSS struct{ Total, Anon, File int64 }

func (p peakRSS) String() string {
	return fmt.Sprintf("peak_rss_mib=%d anon_mib=%d file_mib=%d", p.Total>>20, p.Anon>>20, p.File>>20)
}

// cliChildPeak runs painterc in a child process (as cliChild does) and
// returns its result and peak memory.
func cliChildPeak(t *testing.T, args []string) (result, peakRSS) {
	t.Helper()
	js, err := json.Marshal(childSpec{Args: args})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"="+string(js))
	var so, se strings.Builder
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var peak peakRSS
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	for waiting := true; waiting; {
		select {
		case err = <-done:
			waiting = false
		case <-time.After(10 * time.Millisecond):
			b, _ := os.ReadFile(status)
			for _, line := range strings.Split(string(b), "\n") {
				k, v, _ := strings.Cut(line, ":")
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				switch k {
				case "RssAnon":
					peak.Anon = max(peak.Anon, kb<<10)
				case "RssFile":
					peak.File = max(peak.File, kb<<10)
				}
			}
		}
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		peak.Total = ru.Maxrss << 10 // kilobytes on Linux
	}
	return result{code, so.String(), se.String()}, peak
}

// npyInt64 encodes an int64 array as a .npy file.
func npyInt64(shape []int64, v []int64) []byte {
	dims := ""
	for _, d := range shape {
		dims += strconv.FormatInt(d, 10) + ","
	}
	header := fmt.Sprintf("{'descr': '<i8', 'fortran_order': False, 'shape': (%s), }", dims)
	for (10+len(header)+1)%64 != 0 {
		header += " "
	}
	header += "\n"
	b := []byte("\x93NUMPY\x01\x00")
	b = append(b, byte(len(header)), byte(len(header)>>8))
	b = append(b, header...)
	for _, x := range v {
		for k := 0; k < 8; k++ {
			b = append(b, byte(uint64(x)>>(8*k)))
		}
	}
	return b
}
