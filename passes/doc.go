// Package passes owns painterc's schedule language and its named passes.
//
// A [Schedule] says which transformer blocks run, in what order, which of
// them run in parallel and how often (DESIGN.md §2). [Parse] reads the text
// form, [Schedule.Validate] checks it against a model with T blocks, and
// [Schedule.String] prints the canonical form that is recorded in every
// output model. [Schedule.Stages] and [Schedule.Instances] unroll a schedule
// into what lowering emits: one stage per sequential step and one KV-cache
// slot per executed block instance.
//
// The named passes of "Transformer Layers as Painters" (arXiv 2407.09298)
// are small values in one registry, [All], so that the CLI lists, documents
// and runs them the same way. A pass only computes a schedule; it never
// touches a graph.
//
// Choices where DESIGN.md is silent:
//   - a-bxR repeats the whole range; String prints it as (a-b)xR.
//   - A parallel group is a set: its members unroll, and take KV-cache
//     slots, in ascending order however they were written.
//   - middle-repeat repeats the middle's centre block floor((A+B)/2), which
//     is the paper's floor(T/2) for its symmetric middles.
//   - Block indices and repeat counts are at most 100000, a schedule runs at
//     most 100000 block instances and (…) nests at most 100 deep, so that no
//     input can exhaust memory or stack.
//   - Options a pass does not read produce a note, not an error.
package passes
