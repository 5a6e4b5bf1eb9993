// Package runtime owns loading ONNX Runtime and running models.
//
// painterc pins one ONNX Runtime: 1.24.x, C API version 24, the version that
// github.com/yalue/onnxruntime_go v1.27.0 is written against. "make ort"
// (scripts/fetch-ort.sh) puts the CPU build at build/ort/libonnxruntime.so.1.
//
// Init loads the library once per process. FindLibrary decides which file:
// an explicit path (the CLI's --ort-lib), else $ONNXRUNTIME_SHARED_LIBRARY_PATH,
// else build/ort/libonnxruntime.so.1 in the current directory or one of its
// parents, or in the executable's directory or one of its parents. Before
// anything process-wide happens, Init opens the file itself and reads its
// version, so a missing file, a file that is not a library and a library of
// the wrong version each give an error that names the file, what was found,
// what is needed and what to do (ErrLibraryNotFound, *LoadError,
// *VersionError). Once Init has succeeded, later calls with the same or no
// library path are no-ops.
//
// NewSession opens a model; Session.Run takes and returns Tensors: raw
// little-endian bytes with an ONNX element type and a shape, so any model and
// any element type with a fixed byte size works, float16 and bfloat16
// included. Run uses the names the caller gives, so a run may ask for a
// subset of the outputs; ONNX Runtime allocates the outputs and Run copies
// them out.
//
// Sessions are created through onnxruntime_go; the data path (metadata, Run)
// goes through a small C shim (shim.c) that calls the same loaded library's C
// API directly, because onnxruntime_go v1.27.0 cannot return ORT-allocated
// float16/bfloat16 outputs (it sizes their copy in elements, not bytes), nor
// rank-0 outputs, and loads a model a second time to read its metadata.
//
// Without cgo the package still builds: tensors, data types and FindLibrary
// work, and Init returns ErrNoCgo.
package runtime
