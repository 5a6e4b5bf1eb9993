package eval

import "testing"

// The order of lm-eval 0.4.13's resolve_max_length.
func TestResolveMaxLength(t *testing.T) {
	for _, c := range []struct {
		name, config, tok string
		want              int
		from              string
	}{
		{"n_positions first", `{"max_position_embeddings": 4096, "n_positions": 1024, "n_ctx": 512}`, "", 1024, "config.json n_positions"},
		{"then max_position_embeddings", `{"max_position_embeddings": 4096, "n_ctx": 512}`, `{"model_max_length": 100}`, 4096, "config.json max_position_embeddings"},
		{"then n_ctx", `{"n_ctx": 512}`, "", 512, "config.json n_ctx"},
		{"null is absent", `{"n_positions": null, "n_ctx": 512}`, "", 512, "config.json n_ctx"},
		{"text_config wins", `{"max_position_embeddings": 1200, "text_config": {"max_position_embeddings": 32768}}`, "", 32768, "config.json text_config max_position_embeddings"},
		{"then the tokenizer", `{"hidden_size": 8}`, `{"model_max_length": 8192}`, 8192, "tokenizer_config.json model_max_length"},
		{"the sentinel is unset", `{}`, `{"model_max_length": 1000000000000000019884624838656}`, 2048, "lm-eval's default"},
		{"no files", "", "", 2048, "lm-eval's default"},
	} {
		var cfg, tok []byte
		if c.config != "" {
			cfg = []byte(c.config)
		}
		if c.tok != "" {
			tok = []byte(c.tok)
		}
		got, from, err := ResolveMaxLength(cfg, tok)
		if err != nil || got != c.want || from != c.from {
			t.Errorf("%s: got %d from %q (%v), want %d from %q", c.name, got, from, err, c.want, c.from)
		}
	}
	if _, _, err := ResolveMaxLength([]byte(`{"n_positions": "x"}`), nil); err == nil || err.Error() != `config.json: "n_positions" must be a number, not "x"` {
		t.Errorf("bad config: %v", err)
	}
}
