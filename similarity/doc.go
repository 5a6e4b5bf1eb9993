// Package similarity measures how much each block of a transformer changes
// its residual stream, the three ways the literature does:
//
//   - The paper's heatmap ("Transformer Layers as Painters", Sun et al.
//     2024, its layer-similarity figure): for every pair of states (x_i,
//     x_j), the cosine of the two flattened over [tokens × hidden] for one
//     document, averaged over documents.
//   - ShortGPT's Block Influence (Men et al. 2024): BI_i = 1 − the mean of
//     the per-token cosine cos(x_i[t], x_(i+1)[t]). It is aggregated over
//     the corpus as one mean over every token of every document (so longer
//     documents weigh more).
//   - Gromov et al.'s angular distance (arXiv 2403.17887):
//     arccos(cos(x_ℓ, x_(ℓ+n)))/π at each document's last token, averaged
//     over documents, for every span length n and start ℓ. Suggest picks
//     the span of n blocks with the smallest distance, the one their method
//     prunes, and prints the painterc command that skips it.
//
// The states are the T+1 residual-stream tensors that block detection
// (rewrite.Blocks.Boundary) finds: x0 is the embedding output, x(i+1) block
// i's output, before the final norm. A fused pair (a, r) is summed by an
// added Add node, since a+r is the stream. WithStates makes a copy of the
// model with these as extra graph outputs; a Probe runs it on ONNX Runtime
// from memory, one document at a time (batch 1, so there is no padding to
// exclude), feeding input_ids, an attention_mask of ones, position_ids
// 0..n-1, token_type_ids of zeros and empty cache inputs
// [1, kv_heads, 0, head_dim], as each model declares them.
//
// Cosines are accumulated in float64. Two zero vectors have cosine 1 and a
// zero vector against a non-zero one has cosine 0; cosines are clamped to
// [-1, 1] before arccos.
//
// Analysis.Write saves similarity.csv, block_influence.csv,
// angular_distance.csv and the heatmap similarity.png/.svg (package plot).
package similarity
