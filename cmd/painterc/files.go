package main

import (
	"path/filepath"

	"github.com/painterc/painterc/internal/safeio"
	"github.com/painterc/painterc/onnx"
)

// The file-safety rules of every command (package safeio): which files a
// run reads, so that no output lands on one, and the exit code of a
// refused output.

// modelInputs records the model and the external data files it reads.
func modelInputs(files *safeio.Files, path string, m *onnx.Model) {
	files.Input("the input model", path)
	if m != nil {
		for _, p := range m.ExternalFiles() {
			files.Input("an external data file of the input model", p)
		}
	}
}

// scoringInputs records what scoring reads besides the model: the
// tokenizer and its config, the config.json beside the model, and the task
// files.
func (ss *scoreSetup) scoringInputs(files *safeio.Files, model string, tasks []string) {
	files.Input("the tokenizer", ss.tokenizerPath)
	files.Input("the tokenizer's config", filepath.Join(filepath.Dir(ss.tokenizerPath), "tokenizer_config.json"))
	files.Input("the model's config", filepath.Join(filepath.Dir(model), "config.json"))
	for _, t := range tasks {
		files.Input("the task file", t)
	}
}
