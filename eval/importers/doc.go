// Package importers owns turning the original files of public benchmarks
// into painterc task files (docs/tasks.md) that carry exactly the prompts of
// lm-evaluation-harness (lm-eval) 0.4.x, so that a user with the datasets, and
// not our converted copies, gets the same documents.
//
// The input is what the Hugging Face `datasets` library exports
// (Dataset.to_json): one JSON object per line with the dataset's own fields,
// or a JSON array of those objects. Each benchmark is one file holding its
// converter and one entry in the table in benchmarks.go; its test converts a
// small hand-written sample in testdata and compares it with the expected
// task file, whose documents scripts/check_importers.py derives with the
// pinned lm-eval's own task definitions.
//
// Bad rows (a missing field, a field of the wrong type, a label out of
// range) are *RowError values naming the file, the line and the field.
package importers
