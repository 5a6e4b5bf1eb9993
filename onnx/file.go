package onnx

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"unsafe"

	"github.com/painterc/painterc/internal/safeio"
)

// mapping is a file's bytes: a read-only memory mapping where the file could
// be mapped, else one heap copy. f stays open so that Save can copy ranges of
// the file inside the kernel.
type mapping struct {
	data   []byte
	f      *os.File
	mapped bool
}

// openMapping maps the file at path read-only, or reads it when it cannot be
// mapped (an empty file, a platform without mmap). Only a regular file is
// opened: a named pipe would block forever waiting for a writer, and a
// device or a directory is never a model.
func openMapping(path string) (*mapping, error) {
	f, err := safeio.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if b, err := mmapFile(f, fi.Size()); err == nil {
		return &mapping{data: b, f: f, mapped: true}, nil
	}
	b, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &mapping{data: b, f: f}, nil
}

func (mp *mapping) close() error {
	if mp == nil {
		return nil
	}
	var err error
	if mp.mapped {
		err = munmap(mp.data)
		mp.mapped = false
	}
	mp.data = nil
	if mp.f != nil {
		if e := mp.f.Close(); err == nil {
			err = e
		}
		mp.f = nil
	}
	return err
}

// offsetOf reports whether b lies inside the mapping, and where.
func (mp *mapping) offsetOf(b []byte) (int64, bool) {
	if mp == nil || len(b) == 0 || len(mp.data) == 0 {
		return 0, false
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(mp.data)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if p < base || p-base > uintptr(len(mp.data)) || uintptr(len(mp.data))-(p-base) < uintptr(len(b)) {
		return 0, false
	}
	return int64(p - base), true
}

// pathErr drops the operation and path that an *fs.PathError repeats, for
// messages that already start with the path.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Load reads the model at path. The file is mapped read-only and the model's
// large payloads (raw_data) point into the mapping, so loading a multi-GB
// model costs little memory; Close releases the mapping. m.Dir is set to the
// file's directory, which external data locations are relative to, and every
// external data reference is checked up front (stat only): it must stay
// inside that directory and its file must hold the bytes it names.
//
// Errors start with the path: `model.onnx: not an ONNX model: ...`.
func Load(path string) (*Model, error) {
	mp, err := openMapping(path)
	if safeio.IsNotRegular(err) {
		return nil, err // names the path
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, pathErr(err))
	}
	m, err := Decode(mp.data)
	if err != nil {
		mp.close()
		var de *DecodeError
		if errors.As(err, &de) {
			de.File = path
			return nil, de
		}
		return nil, fmt.Errorf("%s: not an ONNX model: %w", path, err)
	}
	if m.Graph == nil {
		mp.close()
		return nil, fmt.Errorf("%s: not an ONNX model (no graph)", path)
	}
	m.Dir = filepath.Dir(path)
	m.srcPath = path
	m.src = mp
	m.closer = mp.close
	if err := m.checkExternal(); err != nil {
		m.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// SaveOptions controls Save.
type SaveOptions struct {
	// ExternalData moves tensors of Threshold bytes or more out of the model
	// file into a data file beside it.
	ExternalData bool
	// Location is the data file's name, relative to the output's directory.
	// Default: the output file's base name + ".data". It must not name a data
	// file the input model reads.
	Location string
	// Threshold is the smallest raw_data payload, in bytes, that goes to the
	// data file. Default (0 or less): 1024.
	Threshold int64
	// NoSync skips the fsyncs before the renames. The output still appears
	// whole or not at all to other processes, but an operating-system crash
	// soon after may leave it empty or truncated. For throwaway variants
	// (sweeps into a scratch directory) it saves most of Save's time on
	// large models.
	NoSync bool
	// Notes, when non-nil, receives what Save decided on its own, such as
	// switching to external data because the model would exceed protobuf's
	// 2 GiB limit, or choosing another data file name.
	Notes *[]string
}

// maxInFile is the largest model protobuf reads (INT_MAX bytes); a variable
// so tests can lower it.
var maxInFile int64 = math.MaxInt32

// saveHook lets tests inject failures between Save's steps.
var saveHook func(stage string) error

func hook(stage string) error {
	if saveHook != nil {
		return saveHook(stage)
	}
	return nil
}

// Save writes m to path atomically: into a temporary file in path's
// directory, fsynced, then renamed over path. On any error the temporary
// files are removed and path is left as it was. Save refuses to write over
// the file m was loaded from (its payloads are read from that file while
// saving).
//
// External data (see SaveOptions and the package comment in external.go):
//   - a tensor that is external in the input, and whose data file the output
//     reaches under the same relative location (the output is in the input's
//     directory), keeps its reference: no bytes are copied;
//   - other external tensors, and with ExternalData in-file tensors of at
//     least Threshold bytes, are written to a new data file next to the
//     output (offsets aligned to 4096 bytes for payloads of 4 KiB or more,
//     else 64), itself written atomically and never over a data file the
//     input reads;
//   - when the model would exceed protobuf's 2 GiB limit, Save switches to
//     external data on its own and says so in Notes.
//
// Payloads are streamed, never gathered in memory: bytes that come from a
// mapped input file are copied file to file inside the kernel.
func Save(path string, m *Model, o SaveOptions) (err error) {
	if m == nil {
		return fmt.Errorf("%s: cannot save a nil model", path)
	}
	if m.srcPath != "" && m.src == nil {
		return fmt.Errorf("%s: the model was closed; its tensors are no longer readable", path)
	}
	if fi, e := os.Stat(path); e == nil {
		if fi.IsDir() {
			return fmt.Errorf("%s: is a directory", path)
		}
		if m.src != nil && m.src.f != nil {
			if si, e := m.src.f.Stat(); e == nil && os.SameFile(fi, si) {
				return fmt.Errorf("%s: refusing to overwrite the file this model was loaded from (%s): its tensors are read from that file while saving; save to another path", path, m.srcPath)
			}
		}
	}
	plan, err := planSave(path, m, o, false)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	note := func(s string) {
		if o.Notes != nil {
			*o.Notes = append(*o.Notes, s)
		}
	}
	for _, s := range plan.notes {
		note(s)
	}

	dir := filepath.Dir(path)
	var tmps []string
	var renamedData string
	defer func() {
		if err != nil {
			for _, t := range tmps {
				os.Remove(t)
			}
			if renamedData != "" {
				os.Remove(renamedData)
			}
		}
	}()

	if plan.dataPath != "" {
		tmp, err := createTemp(plan.dataPath, !o.NoSync, func(f *os.File) error { return writeData(f, m, plan) })
		if tmp != "" {
			tmps = append(tmps, tmp)
		}
		if err == nil {
			err = hook("data-written")
		}
		if err != nil {
			return fmt.Errorf("%s: writing external data %s: %w", path, plan.dataPath, err)
		}
	}

	tmp, err := createTemp(path, !o.NoSync, func(f *os.File) error {
		_, err := writeModel(f, m, plan.override)
		return err
	})
	if tmp != "" {
		tmps = append(tmps, tmp)
	}
	if err == nil {
		err = hook("model-written")
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}

	if plan.dataPath != "" {
		if err = os.Rename(tmps[0], plan.dataPath); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		renamedData = plan.dataPath
		tmps = tmps[1:]
		if err = hook("data-renamed"); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	if err = os.Rename(tmps[0], path); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if !o.NoSync {
		syncDir(dir)
		if plan.dataPath != "" && filepath.Dir(plan.dataPath) != dir {
			syncDir(filepath.Dir(plan.dataPath))
		}
	}
	return nil
}

// createTemp writes a temporary file beside path through write, fsyncs it
// unless sync is false, and makes it readable by everyone (0644, like any
// file a user writes, rather than CreateTemp's 0600). It returns the
// temporary file's name whenever one was created, so the caller can rename
// it into place or remove it.
func createTemp(path string, sync bool, write func(*os.File) error) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", err
	}
	err = write(f)
	if err == nil && sync {
		err = f.Sync()
	}
	if e := f.Close(); err == nil {
		err = e
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	return f.Name(), err
}

// WriteFileAtomic writes data to path the way Save writes a model: to a
// temporary file in the same directory, fsynced unless sync is false, then
// renamed into place, so path is never seen half-written. The file is 0644.
func WriteFileAtomic(path string, data []byte, sync bool) error {
	tmp, err := createTemp(path, sync, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		if tmp != "" {
			os.Remove(tmp)
		}
		return err
	}
	if sync {
		syncDir(filepath.Dir(path))
	}
	return nil
}

// syncDir makes renames in dir durable. It is best effort: some file
// systems cannot fsync a directory.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// payloadSink returns how writeModel hands large payloads to w: when w is a
// file and the payload is a view of m's mapped source file, the bytes are
// copied file to file inside the kernel.
func payloadSink(w io.Writer, m *Model) func([]byte) error {
	f, ok := w.(*os.File)
	if !ok || m == nil || m.src == nil || m.src.f == nil {
		return nil
	}
	src := m.src
	return func(b []byte) error {
		if off, ok := src.offsetOf(b); ok {
			done, _ := kernelCopy(f, src.f, off, int64(len(b)))
			b = b[done:]
			if len(b) == 0 {
				return nil
			}
		}
		_, err := f.Write(b)
		return err
	}
}
