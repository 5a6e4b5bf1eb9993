// C side of package runtime: a thin layer over the ONNX Runtime C API.
//
// onnxruntime_go loads the library and creates sessions; this shim reaches the
// same loaded library through its own dlopen handle and does what
// onnxruntime_go v1.27.0 cannot: probe a library's version before committing
// to it, read session metadata without loading the model twice, and run a
// session on raw byte buffers of any element type and rank (including float16,
// bfloat16, rank-0 and zero-sized tensors) with ORT-allocated outputs.
//
// Every function that can fail returns NULL on success or a malloc'd error
// message that the caller frees.
#ifndef PAINTERC_RUNTIME_SHIM_H
#define PAINTERC_RUNTIME_SHIM_H

#include <stddef.h>
#include <stdint.h>

typedef struct OrtSession OrtSession;

// pc_probe dlopens path and reads its ONNX Runtime version string without
// touching any process-wide ORT state. On success *handle is the library
// handle (kept open) and *version its GetVersionString(). kind: 1 = dlopen
// failed, 2 = not an ONNX Runtime library (no OrtGetApiBase).
char *pc_probe(const char *path, void **handle, const char **version,
               int *kind);

// pc_bind binds the shim to the API version ORT_API_VERSION of an already
// probed library. *api_ok is 0 when the library does not offer that version.
char *pc_bind(void *handle, int *api_ok);

// pc_api_version is ORT_API_VERSION of the vendored headers.
int pc_api_version(void);

// pc_has_provider sets *found to 1 when the loaded library lists the named
// execution provider (e.g. "CUDAExecutionProvider") as available, and fills
// *all with a malloc'd, comma-separated list of every available provider.
char *pc_has_provider(const char *name, int *found, char **all);

typedef struct {
  char *name;      // malloc'd
  int onnx_type;   // enum ONNXType
  int elem_type;   // ONNXTensorElementDataType, tensors only
  size_t ndims;    // tensors only
  int64_t *dims;   // malloc'd, ndims entries, -1 for symbolic/unknown dims
  char **sym;      // malloc'd, ndims malloc'd strings ("" when none)
} pc_ioinfo;

char *pc_io_count(OrtSession *s, size_t *nin, size_t *nout);
char *pc_io_info(OrtSession *s, int output, size_t i, pc_ioinfo *dst);
void pc_ioinfo_free(pc_ioinfo *info);

typedef struct {
  int onnx_type;   // enum ONNXType of the value ORT produced
  int elem_type;
  size_t ndims;
  int64_t *dims;   // malloc'd
  void *data;      // owned by value; valid until pc_outputs_free
  size_t nbytes;   // element count * element size (0 when unknown)
  void *value;     // OrtValue*
} pc_output;

// pc_run runs s on nin tensors: in_types[i] element type, in_ranks[i] rank,
// dims of all inputs concatenated in in_dims, in_data[i]/in_bytes[i] the raw
// little-endian contents (read-only; ORT does not keep them after the call).
// elem_sizes[t] is the byte size of element type t (0 = unsupported), indexed
// by ONNXTensorElementDataType, n_elem_sizes entries. outs must have nout
// zeroed entries; free them with pc_outputs_free even on error.
char *pc_run(OrtSession *s, size_t nin, char **in_names, const int *in_types,
             const size_t *in_ranks, const int64_t *in_dims, void **in_data,
             const size_t *in_bytes, size_t nout, char **out_names,
             pc_output *outs, const size_t *elem_sizes, size_t n_elem_sizes);
void pc_outputs_free(pc_output *outs, size_t n);

#endif
