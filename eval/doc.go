// Package eval owns scoring a language model the way lm-evaluation-harness
// does: task files (JSONL), the task kinds (one file each, in one registry
// shaped like the pass registry), forming requests from a tokenizer exactly
// as lm-eval forms them, metrics with their standard errors, and results in
// lm-eval's JSON shape. docs/tasks.md describes the task files, the
// kinds and every rule taken from lm-eval.
//
// eval knows nothing about ONNX. It talks to a model through the Model
// interface (model.go), which speaks token ids; the ONNX Runtime
// implementation lives in eval/ortmodel. Nothing in rewrite/ or the codec
// imports eval.
package eval
