package eval

import (
	"encoding/json"
	"fmt"
)

// DefaultMaxLength is lm-eval's fallback maximum length when neither the
// model's config nor its tokenizer gives one.
const DefaultMaxLength = 2048

// tokenizerInfinity is transformers' VERY_LARGE_INTEGER, int(1e30): the
// model_max_length a tokenizer reports when its config sets none. lm-eval
// ignores it.
const tokenizerInfinity = 1e30

// maxLengthKeys are the config attributes lm-eval 0.4.13's
// resolve_max_length reads, in its order.
var maxLengthKeys = []string{"n_positions", "max_position_embeddings", "n_ctx"}

// ResolveMaxLength is lm-eval 0.4.13's resolve_max_length for a Hugging
// Face folder: the first of n_positions, max_position_embeddings and n_ctx
// in the model config (in its "text_config" when it nests one, as Gemma 3's
// does), else the tokenizer config's model_max_length unless it is
// transformers' "unset" sentinel 1e30, else 2048. config and tokenizerConfig
// are the JSON of config.json and tokenizer_config.json; either may be nil
// (no such file). It returns the length and where it came from, for a note.
func ResolveMaxLength(config, tokenizerConfig []byte) (int, string, error) {
	if config != nil {
		var cfg map[string]json.RawMessage
		if err := json.Unmarshal(config, &cfg); err != nil {
			return 0, "", fmt.Errorf("config.json: %v", err)
		}
		where := "config.json"
		if tc, ok := cfg["text_config"]; ok && string(tc) != "null" {
			var nested map[string]json.RawMessage
			if err := json.Unmarshal(tc, &nested); err != nil {
				return 0, "", fmt.Errorf("config.json: \"text_config\" is not an object: %v", err)
			}
			if len(nested) > 0 { // Python's `text_config or config`: an empty one falls back
				cfg, where = nested, "config.json text_config"
			}
		}
		for _, key := range maxLengthKeys {
			v, ok := cfg[key]
			if !ok || string(v) == "null" {
				continue
			}
			var n float64
			if err := json.Unmarshal(v, &n); err != nil {
				return 0, "", fmt.Errorf("%s: %q must be a number, not %s", where, key, v)
			}
			return int(n), where + " " + key, nil
		}
	}
	if tokenizerConfig != nil {
		var tc struct {
			ModelMaxLength *float64 `json:"model_max_length"`
		}
		if err := json.Unmarshal(tokenizerConfig, &tc); err != nil {
			return 0, "", fmt.Errorf("tokenizer_config.json: %v", err)
		}
		if tc.ModelMaxLength != nil && *tc.ModelMaxLength != tokenizerInfinity {
			return int(*tc.ModelMaxLength), "tokenizer_config.json model_max_length", nil
		}
	}
	return DefaultMaxLength, "lm-eval's default", nil
}
