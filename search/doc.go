// Package search finds, for a budget F (a fraction of the full model's
// block compute, counted from the graph: Cost), the schedule that keeps
// most of the model, and computes what the peer methods would run at the
// same budget (ShortGPT, Gromov et al.'s angular distance, SLEB and a
// seeded random choice).
//
// The search is a beam search over schedules (docs/search.md says why
// this one): from the full model it takes away a block at a time, keeping
// the Beam candidates that pay the least KL divergence from the full model
// per unit of compute saved. Then each budget's best are polished with
// moves that fit it: adjacent blocks swapped or run as a parallel pair, a
// parallel group widened, a block put back or repeated, and where the
// layout allows, a block cut to one half or put back as one.
// Every candidate is screened without labels (a Screener: KL, top-1
// agreement and NLL on calibration text); each screen is stored once in
// DIR/screen.jsonl, keyed by content, so a killed search resumes.
//
// Confirm scores the finalists on the choosing tasks, picks the best, and
// scores it and the baselines on the reporting tasks, through two sweeps
// (package sweep) that resume and shard like any sweep. Mergekit and
// PruneLayers export a chosen schedule for mergekit and llama.cpp;
// Summary renders search.md and the Pareto figure.
package search
