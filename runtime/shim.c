//go:build cgo

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnxruntime_c_api.h"
#include "shim.h"

typedef const OrtApiBase *(*pc_get_api_base_fn)(void);

static const OrtApi *g_api;
static OrtMemoryInfo *g_cpu;
static OrtAllocator *g_alloc;

static char *pc_errorf(const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return strdup(buf);
}

// Converts and releases an OrtStatus; NULL stays NULL.
static char *pc_status(OrtStatus *st) {
  if (st == NULL) return NULL;
  const char *msg = g_api->GetErrorMessage(st);
  char *out = strdup(msg ? msg : "unknown ONNX Runtime error");
  g_api->ReleaseStatus(st);
  return out;
}

static char *pc_not_bound(void) {
  return strdup("internal error: ONNX Runtime C API not bound (Init not called)");
}

int pc_api_version(void) { return ORT_API_VERSION; }

char *pc_probe(const char *path, void **handle, const char **version,
               int *kind) {
  *handle = NULL;
  *version = NULL;
  *kind = 0;
  dlerror();
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    const char *e = dlerror();
    *kind = 1;
    return strdup(e ? e : "dlopen failed");
  }
  dlerror();
  pc_get_api_base_fn fn = (pc_get_api_base_fn)dlsym(h, "OrtGetApiBase");
  if (fn == NULL) {
    *kind = 2;
    dlclose(h);
    return strdup("the library does not export OrtGetApiBase");
  }
  const OrtApiBase *base = fn();
  if (base == NULL || base->GetVersionString == NULL) {
    // Deliberately not dlclose'd: it claims to be ONNX Runtime, and unloading
    // C++ runtimes that ran static initializers is not always safe.
    *kind = 2;
    return strdup("OrtGetApiBase returned no API base");
  }
  const char *v = base->GetVersionString();
  *version = v ? v : "";
  *handle = h;
  return NULL;
}

char *pc_bind(void *handle, int *api_ok) {
  *api_ok = 0;
  pc_get_api_base_fn fn = (pc_get_api_base_fn)dlsym(handle, "OrtGetApiBase");
  if (fn == NULL) return strdup("the library does not export OrtGetApiBase");
  const OrtApiBase *base = fn();
  if (base == NULL || base->GetApi == NULL)
    return strdup("OrtGetApiBase returned no API base");
  const OrtApi *api = base->GetApi(ORT_API_VERSION);
  if (api == NULL) return NULL;  // *api_ok stays 0
  OrtMemoryInfo *cpu = NULL;
  OrtStatus *st = api->CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &cpu);
  if (st != NULL) {
    g_api = api;  // for pc_status
    return pc_status(st);
  }
  OrtAllocator *alloc = NULL;
  st = api->GetAllocatorWithDefaultOptions(&alloc);
  if (st != NULL) {
    g_api = api;
    api->ReleaseMemoryInfo(cpu);
    return pc_status(st);
  }
  g_api = api;
  g_cpu = cpu;
  g_alloc = alloc;
  *api_ok = 1;
  return NULL;
}

char *pc_has_provider(const char *name, int *found, char **all) {
  *found = 0;
  *all = NULL;
  if (g_api == NULL) return pc_not_bound();
  char **names = NULL;
  int n = 0;
  char *err = pc_status(g_api->GetAvailableProviders(&names, &n));
  if (err != NULL) return err;
  size_t total = 1;
  for (int i = 0; i < n; i++) total += strlen(names[i]) + 2;
  char *list = calloc(1, total);
  for (int i = 0; i < n; i++) {
    if (strcmp(names[i], name) == 0) *found = 1;
    if (list != NULL) {
      if (i > 0) strcat(list, ", ");
      strcat(list, names[i]);
    }
  }
  *all = list;
  return pc_status(g_api->ReleaseAvailableProviders(names, n));
}

char *pc_io_count(OrtSession *s, size_t *nin, size_t *nout) {
  if (g_api == NULL) return pc_not_bound();
  char *err = pc_status(g_api->SessionGetInputCount(s, nin));
  if (err != NULL) return err;
  return pc_status(g_api->SessionGetOutputCount(s, nout));
}

void pc_ioinfo_free(pc_ioinfo *info) {
  if (info == NULL) return;
  free(info->name);
  free(info->dims);
  if (info->sym != NULL) {
    for (size_t i = 0; i < info->ndims; i++) free(info->sym[i]);
    free(info->sym);
  }
  memset(info, 0, sizeof *info);
}

char *pc_io_info(OrtSession *s, int output, size_t i, pc_ioinfo *dst) {
  memset(dst, 0, sizeof *dst);
  if (g_api == NULL) return pc_not_bound();
  char *name = NULL;
  char *err = pc_status(output ? g_api->SessionGetOutputName(s, i, g_alloc, &name)
                               : g_api->SessionGetInputName(s, i, g_alloc, &name));
  if (err != NULL) return err;
  dst->name = strdup(name);
  free(pc_status(g_api->AllocatorFree(g_alloc, name)));

  OrtTypeInfo *ti = NULL;
  err = pc_status(output ? g_api->SessionGetOutputTypeInfo(s, i, &ti)
                         : g_api->SessionGetInputTypeInfo(s, i, &ti));
  if (err != NULL) return err;
  enum ONNXType ot = ONNX_TYPE_UNKNOWN;
  err = pc_status(g_api->GetOnnxTypeFromTypeInfo(ti, &ot));
  if (err != NULL) goto done;
  dst->onnx_type = (int)ot;
  if (ot != ONNX_TYPE_TENSOR && ot != ONNX_TYPE_SPARSETENSOR) goto done;

  const OrtTensorTypeAndShapeInfo *tsi = NULL;  // owned by ti
  err = pc_status(g_api->CastTypeInfoToTensorInfo(ti, &tsi));
  if (err != NULL || tsi == NULL) goto done;
  ONNXTensorElementDataType et = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
  err = pc_status(g_api->GetTensorElementType(tsi, &et));
  if (err != NULL) goto done;
  dst->elem_type = (int)et;
  size_t nd = 0;
  err = pc_status(g_api->GetDimensionsCount(tsi, &nd));
  if (err != NULL) goto done;
  dst->ndims = nd;
  dst->dims = calloc(nd ? nd : 1, sizeof(int64_t));
  const char **sym = calloc(nd ? nd : 1, sizeof(char *));
  dst->sym = calloc(nd ? nd : 1, sizeof(char *));
  if (dst->dims == NULL || sym == NULL || dst->sym == NULL) {
    free(sym);
    err = strdup("out of memory");
    goto done;
  }
  if (nd > 0) {
    err = pc_status(g_api->GetDimensions(tsi, dst->dims, nd));
    if (err == NULL) err = pc_status(g_api->GetSymbolicDimensions(tsi, sym, nd));
  }
  for (size_t d = 0; d < nd; d++) dst->sym[d] = strdup(sym[d] ? sym[d] : "");
  free(sym);

done:
  g_api->ReleaseTypeInfo(ti);
  return err;
}

void pc_outputs_free(pc_output *outs, size_t n) {
  if (outs == NULL) return;
  for (size_t i = 0; i < n; i++) {
    if (outs[i].value != NULL && g_api != NULL)
      g_api->ReleaseValue((OrtValue *)outs[i].value);
    free(outs[i].dims);
    memset(&outs[i], 0, sizeof outs[i]);
  }
}

static char *pc_describe_output(OrtValue *v, pc_output *o,
                                const size_t *elem_sizes, size_t n_elem_sizes) {
  enum ONNXType ot = ONNX_TYPE_UNKNOWN;
  char *err = pc_status(g_api->GetValueType(v, &ot));
  if (err != NULL) return err;
  o->onnx_type = (int)ot;
  if (ot != ONNX_TYPE_TENSOR) return NULL;  // Go reports unsupported kinds
  OrtTensorTypeAndShapeInfo *info = NULL;
  err = pc_status(g_api->GetTensorTypeAndShape(v, &info));
  if (err != NULL) return err;
  ONNXTensorElementDataType et = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
  size_t nd = 0, count = 0;
  err = pc_status(g_api->GetTensorElementType(info, &et));
  if (err == NULL) err = pc_status(g_api->GetDimensionsCount(info, &nd));
  if (err == NULL) {
    o->ndims = nd;
    o->dims = calloc(nd ? nd : 1, sizeof(int64_t));
    if (o->dims == NULL) err = strdup("out of memory");
  }
  if (err == NULL && nd > 0) err = pc_status(g_api->GetDimensions(info, o->dims, nd));
  if (err == NULL) err = pc_status(g_api->GetTensorShapeElementCount(info, &count));
  g_api->ReleaseTensorTypeAndShapeInfo(info);
  if (err != NULL) return err;
  o->elem_type = (int)et;
  size_t esz = ((size_t)et < n_elem_sizes) ? elem_sizes[et] : 0;
  if (esz == 0 || count == 0) return NULL;  // nothing to copy, or Go rejects the type
  if (count > SIZE_MAX / esz) return strdup("output tensor too large");
  o->nbytes = count * esz;
  return pc_status(g_api->GetTensorMutableData(v, &o->data));
}

// A valid address for zero-byte inputs; ORT never reads it.
static int64_t pc_empty_buffer;

char *pc_run(OrtSession *s, size_t nin, char **in_names, const int *in_types,
             const size_t *in_ranks, const int64_t *in_dims, void **in_data,
             const size_t *in_bytes, size_t nout, char **out_names,
             pc_output *outs, const size_t *elem_sizes, size_t n_elem_sizes) {
  if (g_api == NULL) return pc_not_bound();
  char *err = NULL;
  OrtValue **inputs = calloc(nin ? nin : 1, sizeof(OrtValue *));
  OrtValue **outputs = calloc(nout ? nout : 1, sizeof(OrtValue *));
  if (inputs == NULL || outputs == NULL) {
    err = strdup("out of memory");
    goto done;
  }
  const int64_t *dims = in_dims;
  for (size_t i = 0; i < nin; i++) {
    void *p = in_bytes[i] ? in_data[i] : (void *)&pc_empty_buffer;
    err = pc_status(g_api->CreateTensorWithDataAsOrtValue(
        g_cpu, p, in_bytes[i], dims, in_ranks[i],
        (ONNXTensorElementDataType)in_types[i], &inputs[i]));
    if (err != NULL) {
      char *wrapped = pc_errorf("input \"%s\": %s", in_names[i], err);
      free(err);
      err = wrapped;
      goto done;
    }
    dims += in_ranks[i];
  }
  err = pc_status(g_api->Run(s, NULL, (const char *const *)in_names,
                             (const OrtValue *const *)inputs, nin,
                             (const char *const *)out_names, nout, outputs));
  if (err != NULL) goto done;
  for (size_t i = 0; i < nout; i++) {
    outs[i].value = outputs[i];
    outputs[i] = NULL;
    if (outs[i].value == NULL) continue;
    err = pc_describe_output((OrtValue *)outs[i].value, &outs[i], elem_sizes,
                             n_elem_sizes);
    if (err != NULL) {
      char *wrapped = pc_errorf("output \"%s\": %s", out_names[i], err);
      free(err);
      err = wrapped;
      goto done;
    }
  }

done:
  if (inputs != NULL) {
    for (size_t i = 0; i < nin; i++)
      if (inputs[i] != NULL) g_api->ReleaseValue(inputs[i]);
    free(inputs);
  }
  if (outputs != NULL) {
    for (size_t i = 0; i < nout; i++)
      if (outputs[i] != NULL) g_api->ReleaseValue(outputs[i]);
    free(outputs);
  }
  return err;
}
