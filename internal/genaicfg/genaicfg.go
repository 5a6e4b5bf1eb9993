// Package genaicfg reads the one fact painterc takes from onnxruntime-genai's
// genai_config.json when the graph leaves it symbolic: the attention head
// size. The builder declares its cache tensors as [batch, kv_heads,
// past_sequence_length, kv_cache_dim], so a runner that feeds an empty cache
// must learn kv_cache_dim from the config beside the model.
package genaicfg

import (
	"encoding/json"
	"os"
	"path/filepath"
)

// HeadSize reads model.decoder.head_size from dir/genai_config.json. It
// returns 0 when dir is empty, the file is absent or unreadable, or the
// field is missing or not positive: callers then report the symbolic
// dimension as they would without a config.
func HeadSize(dir string) int64 {
	if dir == "" {
		return 0
	}
	data, err := os.ReadFile(filepath.Join(dir, "genai_config.json"))
	if err != nil {
		return 0
	}
	var cfg struct {
		Model struct {
			Decoder struct {
				HeadSize int64 `json:"head_size"`
			} `json:"decoder"`
		} `json:"model"`
	}
	if json.Unmarshal(data, &cfg) != nil {
		return 0
	}
	return max(cfg.Model.Decoder.HeadSize, 0)
}
