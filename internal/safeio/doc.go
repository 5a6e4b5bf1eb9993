// Package safeio owns the file-safety rules every painterc command follows
// (docs/errors.md, "Files"):
//
//   - inputs are read only when they are regular files (Open, ReadFile), so
//     a named pipe, a device, a socket or a directory gets an error naming
//     the path instead of a read that blocks forever or never ends;
//   - outputs never land on an input or on another output of the same run,
//     compared by file identity (device and inode, after resolving links),
//     not by spelling, and never go through a symbolic link (Files);
//   - a command that writes several files into a folder builds them in a
//     staging folder and moves them into place only when all were written
//     (Stage), so a failure leaves the folder as it was.
//
// The commands keep their own messages' context (which flag, which
// command); the errors here name the path and say what to do.
package safeio
