// Package passes owns the named strategies of "Transformer Layers as
// Painters" (arXiv 2407.09298). Each pass is one small file: a value in one
// registry, [All], that computes a [schedule.Schedule] and never touches a
// graph, so the CLI lists, documents and runs them the same way.
//
// [Pass.Run] is the driver: it calls the pass, notes every option the pass
// does not read, and checks the postcondition (the schedule validates
// against the model's T). The options themselves are one table, [Params],
// from which the CLI makes its flags.
//
// Choices the paper leaves open:
//   - middle-repeat repeats the middle's centre block floor((A+B)/2), which
//     is the paper's floor(T/2) for its symmetric middles.
//   - Options a pass does not read produce a note, not an error.
package passes
