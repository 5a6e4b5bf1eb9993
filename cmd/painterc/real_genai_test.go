package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/painterc/painterc/onnx"
)

// TestGenAIConfigRealBuilder: on the files onnxruntime-genai's model builder
// itself wrote (testdata/real/*-genai*, see compile's TestRealExporters), a
// rewrite into another directory gets a copy of the builder's
// genai_config.json in which only num_hidden_layers (one per KV slot) and
// the file name changed, and the rewrite's cache inputs and outputs are
// exactly the slots the config's name patterns describe.
func TestGenAIConfigRealBuilder(t *testing.T) {
	configs, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "real", "*", "genai_config.json"))
	if len(configs) == 0 {
		t.Skip("no genai fixtures under testdata/real")
	}
	for _, cfgPath := range configs {
		dir := filepath.Dir(cfgPath)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			orig := readJSON(t, cfgPath)
			decoder := orig["model"].(map[string]any)["decoder"].(map[string]any)
			in := filepath.Join(dir, decoder["filename"].(string))
			blocks := int(decoder["num_hidden_layers"].(float64))
			// Every block twice, the second time as a parallel group: 2T
			// slots.
			sched := fmt.Sprintf("0-%d,[0-%d]", blocks-1, blocks-1)
			out := filepath.Join(t.TempDir(), "rewritten.onnx")
			var stdout, stderr bytes.Buffer
			if code := run([]string{"--schedule", sched, in, "-o", out}, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			got := readJSON(t, filepath.Join(filepath.Dir(out), "genai_config.json"))
			slots := 2 * blocks
			decoder["num_hidden_layers"] = float64(slots)
			decoder["filename"] = "rewritten.onnx"
			// Gemma 3: the sliding-window layers, as slots (block j runs
			// in slots j and blocks+j).
			if sw, ok := decoder["sliding_window"].(map[string]any); ok {
				var want []any
				for pass := 0; pass < 2; pass++ {
					for _, l := range sw["layers"].([]any) {
						want = append(want, l.(float64)+float64(pass*blocks))
					}
				}
				sw["layers"] = want
			}
			if !reflect.DeepEqual(got, orig) {
				t.Errorf("the rewritten config differs from the builder's beyond num_hidden_layers=%d and filename:\n got %v\nwant %v", slots, got, orig)
			}
			m, err := onnx.Load(out)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			names := map[string]bool{}
			for _, v := range append(append([]*onnx.ValueInfo(nil), m.Graph.Input...), m.Graph.Output...) {
				names[v.Name] = true
			}
			ins := decoder["inputs"].(map[string]any)
			outs := decoder["outputs"].(map[string]any)
			for _, pattern := range []string{ins["past_key_names"].(string), ins["past_value_names"].(string), outs["present_key_names"].(string), outs["present_value_names"].(string)} {
				for k := 0; k <= slots; k++ {
					if name := fmt.Sprintf(pattern, k); names[name] != (k < slots) {
						t.Errorf("%s: present in the rewrite = %v, want %v (slots 0..%d)", name, names[name], k < slots, slots-1)
					}
				}
			}
		})
	}
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}
