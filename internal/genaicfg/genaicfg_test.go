package genaicfg

import (
	"os"
	"path/filepath"
	"testing"
)

func TestHeadSize(t *testing.T) {
	for _, c := range []struct {
		name, file string
		want       int64
	}{
		{"builder", `{"model": {"decoder": {"head_size": 64, "num_key_value_heads": 3}}}`, 64},
		{"missing field", `{"model": {"decoder": {}}}`, 0},
		{"negative", `{"model": {"decoder": {"head_size": -8}}}`, 0},
		{"not json", `head_size: 64`, 0},
		{"no file", "", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.file != "" {
				if err := os.WriteFile(filepath.Join(dir, "genai_config.json"), []byte(c.file), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got := HeadSize(dir); got != c.want {
				t.Errorf("HeadSize = %d, want %d", got, c.want)
			}
		})
	}
	if got := HeadSize(""); got != 0 {
		t.Errorf(`HeadSize("") = %d, want 0`, got)
	}
}
