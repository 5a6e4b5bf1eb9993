package sweep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/painterc/painterc/internal/clip"
	"github.com/painterc/painterc/internal/safeio"
	"github.com/painterc/painterc/onnx"
)

// The files of a results directory.
const (
	ResultsFile  = "results.jsonl"
	CSVFile      = "results.csv"
	ManifestFile = "sweep.json"
)

// manifestVersion is the version of sweep.json's format.
const manifestVersion = 1

// Manifest is DIR/sweep.json: what the rows in DIR were scored with, so
// that a run of another model or other settings into DIR is refused instead
// of mixing results.
type Manifest struct {
	Version   int    `json:"version"`
	Model     string `json:"model"`      // the model's path when it was first scored, for people
	ModelHash string `json:"model_hash"` // HashModel
	Blocks    int    `json:"blocks"`
	// Settings are the scorer settings that change scores (Config.Settings).
	Settings map[string]string `json:"settings"`
	// Tasks maps each task's name to the SHA-256 of its file.
	Tasks map[string]string `json:"tasks"`
	// PlanHash identifies the whole plan (every variant, not only this
	// shard's), so that merge refuses shards planned differently.
	PlanHash string `json:"plan_hash"`
	Variants int    `json:"variants"` // in the whole plan
	// Shard is set in a shard's directory.
	Shard *Shard `json:"shard,omitempty"`
	// RowsPlanned counts the rows this directory holds when its run is
	// complete.
	RowsPlanned int `json:"rows_planned"`
	// MergedShards is set by Merge: how many shards the rows came from.
	MergedShards int `json:"merged_shards,omitempty"`
}

func readManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestFile)
	b, err := safeio.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseManifest(path, b)
}

// parseManifest reads and checks the bytes of the sweep.json at path.
func parseManifest(path string, b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: not a sweep manifest: %s", path, clip.String(err.Error()))
	}
	if m.Version != manifestVersion {
		return nil, fmt.Errorf("%s: manifest version %d, but this painterc reads version %d", path, m.Version, manifestVersion)
	}
	if err := m.check(path); err != nil {
		return nil, err
	}
	return &m, nil
}

func writeManifest(dir string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return onnx.WriteFileAtomic(filepath.Join(dir, ManifestFile), append(b, '\n'), true)
}

// sameScoring says why rows made under have cannot go with rows made under
// want, or nil when they can: the same model, settings, and the same file
// for every task both name.
func sameScoring(dir string, have, want *Manifest) error {
	if have.ModelHash != want.ModelHash {
		return fmt.Errorf("%s holds results of another model (%s, hash %.12s) than %s (hash %.12s): use another --out directory", dir, have.Model, have.ModelHash, want.Model, want.ModelHash)
	}
	if settingsText(have.Settings) != settingsText(want.Settings) {
		return fmt.Errorf("%s holds results scored with other settings (%s) than this run's (%s): use another --out directory", dir, settingsText(have.Settings), settingsText(want.Settings))
	}
	for name, h := range want.Tasks {
		if old, ok := have.Tasks[name]; ok && old != h {
			return fmt.Errorf("%s holds results of a different task file named %s (hash %.12s, now %.12s): the task file changed since; use another --out directory or rename the task", dir, name, old, h)
		}
	}
	return nil
}

// store is an open results.jsonl: its rows, and an exclusive lock so that
// two runs never append to one file.
type store struct {
	path  string
	f     *os.File
	rows  []*Row
	ids   map[string]*Row // by Row.id
	byKey map[string]*Row // the first row with each key
	notes []string
}

// openStore opens (creating) path for appending, after reading its rows.
// A last line without its newline is what a run killed mid-write leaves:
// it is dropped (the file is truncated to the last whole line). Any other
// line that is not a row is an error.
func openStore(path string) (*store, error) {
	// Appending goes through a link: refuse one (and a directory) first.
	var files safeio.Files
	if err := files.Output("", path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = &safeio.NotRegularError{Path: path, Mode: fi.Mode()}
		}
		return nil, err
	}
	if held, err := lockExclusive(f); err != nil || held {
		f.Close()
		if held {
			return nil, fmt.Errorf("%s is being written by another painterc sweep: wait for it, or give this run another --out or --shard", path)
		}
		return nil, fmt.Errorf("locking %s: %v", path, err)
	}
	s := &store{path: path, f: f, ids: map[string]*Row{}, byKey: map[string]*Row{}}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	rows, good, err := parseRows(path, data)
	if err != nil {
		f.Close()
		return nil, err
	}
	if good < len(data) {
		if err := f.Truncate(int64(good)); err != nil {
			f.Close()
			return nil, fmt.Errorf("dropping the half-written last line of %s: %v", path, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, err
		}
		s.notes = append(s.notes, fmt.Sprintf("%s: dropped a half-written last line (%d bytes), left by a run that was stopped while writing it", path, len(data)-good))
	}
	for _, r := range rows {
		s.add(r)
	}
	return s, nil
}

// parseRows reads the rows of a results file. good is the length of the
// whole lines; a torn last line (no newline) is left out.
func parseRows(path string, data []byte) (rows []*Row, good int, err error) {
	line := 0
	for off := 0; off < len(data); {
		nl := bytes.IndexByte(data[off:], '\n')
		if nl < 0 {
			break // torn: the caller drops it
		}
		line++
		b := data[off : off+nl]
		off += nl + 1
		good = off
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		r := new(Row)
		if err := json.Unmarshal(b, r); err != nil {
			return nil, 0, fmt.Errorf("%s:%d: not a results row: %s", path, line, clip.String(err.Error()))
		}
		rows = append(rows, r)
	}
	return rows, good, nil
}

// readRows reads a results file without opening it for writing.
func readRows(path string) ([]*Row, error) {
	data, err := safeio.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rows, _, err := parseRows(path, data)
	return rows, err
}

func (s *store) add(r *Row) {
	s.rows = append(s.rows, r)
	if _, ok := s.ids[r.id()]; !ok {
		s.ids[r.id()] = r
	}
	if _, ok := s.byKey[r.Key]; !ok {
		s.byKey[r.Key] = r
	}
}

// append writes rows (one variant's, which exist together) in one write
// and fsyncs them, so that a row is on disk as soon as it exists and a
// crash can tear only the last line.
func (s *store) append(rows ...*Row) error {
	var b []byte
	for _, r := range rows {
		b = append(b, encodeRow(r)...)
	}
	if _, err := s.f.Write(b); err != nil {
		return fmt.Errorf("appending to %s: %v", s.path, err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %v", s.path, err)
	}
	for _, r := range rows {
		s.add(r)
	}
	return nil
}

func (s *store) close() error { return s.f.Close() }

// busy reports whether a run holds path's lock.
func busy(path string) bool {
	f, err := safeio.Open(path) // a FIFO must not block: readRows refuses it
	if err != nil {
		return false
	}
	defer f.Close()
	return lockedByOther(f)
}
