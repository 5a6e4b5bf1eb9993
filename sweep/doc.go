// Package sweep runs the paper's experiment grid: every strategy at every
// N (and random over seeds, looped-parallel over R, the skip-one probes),
// each scored on a set of tasks, one results row per variant and task.
//
// Plan lists the variants. Run scores them through a Scorer (the ORT one in
// ortscorer.go, a fake in tests) and appends each row to DIR/results.jsonl,
// fsynced as soon as it exists, so a killed run resumes where it stopped.
// Every row carries a content key (model, schedule, task file, scorer
// settings), and DIR/sweep.json records the model and settings so that rows
// of different models never mix. A sweep splits into shards (--shard i/n)
// that run anywhere (Slurm array, Kubernetes Indexed Job) and Merge joins
// them. docs/sweep.md describes the files.
package sweep
