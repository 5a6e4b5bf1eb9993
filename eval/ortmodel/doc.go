// Package ortmodel implements eval.Model on ONNX Runtime.
//
// New takes an in-memory ONNX model (as the compile pipeline hands it over,
// possibly rewritten by painterc with renumbered KV slots) and finds its
// inputs by name and role as optimum and onnxruntime-genai name them:
//
//   - input_ids [batch, seq], int64 or int32;
//   - attention_mask: [batch, past+seq] for a decoder (genai's total
//     length), [batch, seq] for an encoder;
//   - position_ids: HF's cumulative sum of the mask minus 1, and 1 at
//     padding;
//   - token_type_ids: zeros, or a ClassRequest's TypeIDs;
//   - past_key_values.{i}.key/.value [batch, kv_heads, past, head_dim] with
//     static kv_heads and head_dim: empty when scoring without the cache,
//     the previous run's present.{i}.key/.value with it. Every slot found is
//     fed, so a rewrite's renumbered slots need nothing special;
//   - use_cache_branch (optimum's decoder_model_merged.onnx): true exactly
//     when a past is fed.
//
// A model with any other input, or without input_ids or logits, is refused
// with one error naming each input it cannot fill and what it expected.
//
// For a causal LM (logits [batch, seq, vocab]) New appends a scoring
// epilogue to the graph (epilogue.go): ONNX Runtime returns, for the
// positions asked for, the target's log-probability and the argmax, and
// when the logits come from an lm_head MatMul only those positions are
// projected onto the vocabulary, so [batch, seq, vocab] never exists. A
// classifier (logits [batch, labels]) runs as it is. One session serves
// every call; Close releases it.
//
// Scoring follows lm-evaluation-harness (package eval says how): the model
// sees (Context+Continuation)[-(L+1):][:-1], the last len(Continuation)
// positions are scored, requests run longest first in right-padded
// batches, and results come back in request order. Where lm-eval's batches
// have a fixed size, ortmodel (unless Options.BatchSize fixes it) cuts the
// sorted requests where padding would cost more than another run
// (splitRuns). When the model has KV
// cache inputs and outputs, adjacent requests with the same Context (a
// multiple-choice document's choices) prefill the context once, and every
// continuation is scored from its copy of the shared cache.
//
// # Performance
//
// The bare loop of the benchmarks only runs the session and receives the
// logits; ortmodel is faster because it never projects or copies the
// unscored positions. The shared cache saves the context's transformer
// blocks, not the lm_head of the scored positions, so its gain shrinks as
// the vocabulary's share of the compute grows. scripts/bench-score.sh
// measures both (BenchmarkRatios) and the memory the epilogue saves
// (BenchmarkPeakRSS); the README's Performance section has the numbers.
package ortmodel
