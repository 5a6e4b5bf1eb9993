package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/testmodels"
)

// TestGenAIConfig: a genai_config.json beside an onnxruntime-genai style
// model is copied next to a rewrite in another directory with the new layer
// count (one per KV slot) and file name; the input's copy is left alone, and
// nothing is written when the output shares the input's directory.
func TestGenAIConfig(t *testing.T) {
	spec := testmodels.Spec{Family: testmodels.Llama, Fused: true, KVCache: true}
	m, err := testmodels.Default(spec)
	if err != nil {
		t.Fatal(err)
	}
	inDir, outDir := t.TempDir(), t.TempDir()
	in := filepath.Join(inDir, "model.onnx")
	if err := onnx.Save(in, m, onnx.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg := []byte(`{"model": {"decoder": {"filename": "model.onnx", "num_hidden_layers": 8, "head_size": 8,
  "inputs": {"past_key_names": "past_key_values.%d.key", "past_value_names": "past_key_values.%d.value"}},
  "type": "llama"}, "search": {"max_length": 64}}`)
	if err := os.WriteFile(filepath.Join(inDir, "genai_config.json"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	out := filepath.Join(outDir, "looped.onnx")
	if code := run([]string{"--pass=looped-parallel", "--n", "2", in, "-o", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	data, err := os.ReadFile(filepath.Join(outDir, "genai_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Model struct {
			Decoder struct {
				Filename string `json:"filename"`
				Layers   int    `json:"num_hidden_layers"`
				HeadSize int    `json:"head_size"`
			} `json:"decoder"`
		} `json:"model"`
		Search map[string]any `json:"search"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	// T=8, N=2: 0-2,[3-5]x3,6-7 is 3 + 3*3 + 2 = 14 instances.
	if d := got.Model.Decoder; d.Layers != 14 || d.Filename != "looped.onnx" || d.HeadSize != 8 || got.Search["max_length"] != 64.0 {
		t.Errorf("rewritten config: %+v %v", d, got.Search)
	}
	if after, _ := os.ReadFile(filepath.Join(inDir, "genai_config.json")); !bytes.Equal(after, cfg) {
		t.Error("the input's genai_config.json changed")
	}
	// Same directory: the input's config must not be touched.
	if code := run([]string{"--pass=skip", in, "-o", filepath.Join(inDir, "skip.onnx")}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if after, _ := os.ReadFile(filepath.Join(inDir, "genai_config.json")); !bytes.Equal(after, cfg) {
		t.Error("a rewrite into the input's directory changed its genai_config.json")
	}
	if !bytes.Contains(stderr.Bytes(), []byte("genai_config.json was left as it is")) {
		t.Errorf("no note that the config was left alone:\n%s", stderr.String())
	}

}

// TestGenAIConfigBuilderLayout: the same on the genai builder layout itself
// (GroupQueryAttention, no position_ids) with the config testmodels writes
// as the builder does: middle-repeat on T=8, N=2 runs 3 + 3 + 2 = 8
// instances, looped-parallel 14, and the config follows.
func TestGenAIConfigBuilderLayout(t *testing.T) {
	for _, spec := range []testmodels.Spec{
		{Family: testmodels.Llama, GenAI: true, KVCache: true},
		{Family: testmodels.Llama, GenAI: true, Int4: true, KVCache: true},
	} {
		m, err := testmodels.Default(spec)
		if err != nil {
			t.Fatal(err)
		}
		inDir, outDir := t.TempDir(), t.TempDir()
		in := filepath.Join(inDir, "model.onnx")
		if err := onnx.Save(in, m, onnx.SaveOptions{}); err != nil {
			t.Fatal(err)
		}
		cfg, err := testmodels.GenAIConfig(spec, 8, "model.onnx")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(inDir, "genai_config.json"), cfg, 0o644); err != nil {
			t.Fatal(err)
		}
		for pass, layers := range map[string]int{"middle-repeat": 8, "looped-parallel": 14, "skip": 5} {
			var stdout, stderr bytes.Buffer
			dir := filepath.Join(outDir, pass)
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if code := run([]string{"--pass=" + pass, "--n", "2", in, "-o", filepath.Join(dir, "model.onnx")}, &stdout, &stderr); code != 0 {
				t.Fatalf("%s: exit %d: %s", pass, code, stderr.String())
			}
			data, err := os.ReadFile(filepath.Join(dir, "genai_config.json"))
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Model struct {
					Decoder struct {
						Layers int `json:"num_hidden_layers"`
						KV     int `json:"num_key_value_heads"`
					} `json:"decoder"`
				} `json:"model"`
			}
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatal(err)
			}
			if got.Model.Decoder.Layers != layers || got.Model.Decoder.KV != 1 {
				t.Errorf("int4=%v %s: num_hidden_layers %d, want %d (%+v)", spec.Int4, pass, got.Model.Decoder.Layers, layers, got.Model.Decoder)
			}
		}
	}
}

// TestGenAIConfigSlidingLayers: the builder lists Gemma-style
// sliding-window layers in model.decoder.sliding_window.layers, and
// onnxruntime-genai bounds exactly those layers' caches; a rewrite lists
// the slots whose block slides, whatever order the schedule runs them in,
// and refuses a list that holds something else than layer indices.
func TestGenAIConfigSlidingLayers(t *testing.T) {
	spec := testmodels.Spec{Family: testmodels.Llama, GenAI: true, KVCache: true, Layers: 4}
	m, err := testmodels.Default(spec)
	if err != nil {
		t.Fatal(err)
	}
	inDir := t.TempDir()
	in := filepath.Join(inDir, "model.onnx")
	if err := onnx.Save(in, m, onnx.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		layers, want string
		code         int
	}{
		// 3,1,0,[0-2]: slots 0..5 run blocks 3, 1, 0, 0, 1, 2.
		{layers: "[0, 1, 3]", want: "[0,1,2,3,4]"},
		{layers: "[2]", want: "[5]"},
		{layers: "[]", want: "[]"},
		{layers: `["x"]`, code: exitOutput},
	} {
		cfg := `{"model": {"decoder": {"filename": "model.onnx", "num_hidden_layers": 4,
  "sliding_window": {"window_size": 4, "layers": ` + tc.layers + `, "slide_key_value_cache": false}}}}`
		if err := os.WriteFile(filepath.Join(inDir, "genai_config.json"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		outDir := t.TempDir()
		var stdout, stderr bytes.Buffer
		code := run([]string{"--schedule", "3,1,0,[0-2]", in, "-o", filepath.Join(outDir, "model.onnx")}, &stdout, &stderr)
		if code != tc.code {
			t.Fatalf("layers %s: exit %d, want %d: %s", tc.layers, code, tc.code, stderr.String())
		}
		if code != 0 {
			if !bytes.Contains(stderr.Bytes(), []byte("sliding_window.layers")) {
				t.Errorf("layers %s: the error does not name the field:\n%s", tc.layers, stderr.String())
			}
			if entries, _ := os.ReadDir(outDir); len(entries) != 0 {
				t.Errorf("layers %s: a refused config left %d files in the output directory", tc.layers, len(entries))
			}
			continue
		}
		var got struct {
			Model struct {
				Decoder struct {
					Layers  int `json:"num_hidden_layers"`
					Sliding struct {
						Window int   `json:"window_size"`
						Layers []int `json:"layers"`
					} `json:"sliding_window"`
				} `json:"decoder"`
			} `json:"model"`
		}
		data, err := os.ReadFile(filepath.Join(outDir, "genai_config.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatal(err)
		}
		d := got.Model.Decoder
		if enc, _ := json.Marshal(d.Sliding.Layers); d.Layers != 6 || d.Sliding.Window != 4 || string(enc) != tc.want {
			t.Errorf("layers %s: num_hidden_layers %d, window %d, sliding layers %s; want 6, 4, %s", tc.layers, d.Layers, d.Sliding.Window, enc, tc.want)
		}
	}
}
