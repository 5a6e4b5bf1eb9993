// Package schedule owns painterc's schedule language: which transformer
// blocks run, in what order, which of them run in parallel and how often
// (docs/design.md, "The schedule language").
//
// [Parse] reads the text form, [Schedule.Validate] checks it against a model
// with T blocks, and [Schedule.String] prints the canonical form that is
// recorded in every output model. [Schedule.Stages] and
// [Schedule.Instances] unroll a schedule into what lowering emits: one stage
// per sequential step and one KV-cache slot per executed block instance.
//
// The language knows nothing about strategies (package passes) or graphs
// (package rewrite); both import it.
//
// Choices the grammar leaves open:
//   - a-bxR repeats the whole range; String prints it as (a-b)xR.
//   - i.attn runs only block i's attention sublayer and i.mlp only its MLP
//     sublayer ([Part]); a part applies to one block (not a range), may be
//     repeated and grouped with (…), but is not allowed inside [...].
//     String never merges a part into a range.
//   - An attention half owns a KV-cache slot, as a whole block does; an MLP
//     half owns none, so [Schedule.Instances] leaves it out.
//   - A parallel group is a set: its members unroll, and take KV-cache
//     slots, in ascending order however they were written.
//   - Block indices and repeat counts are at most 100000, a schedule runs at
//     most 100000 block instances and (…) nests at most 100 deep, so that no
//     input can exhaust memory or stack. Parse checks all three; Validate
//     checks the instances again, for schedules that passes build in code.
package schedule
