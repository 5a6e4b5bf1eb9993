//go:build cgo

package runtime

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/painterc/painterc/onnx"
)

// TestSessionWithExternalData: a model in memory whose weight is external
// runs on the data file in the folder it is given, not on the working
// directory's file of that name (whose bytes differ), and writes nothing.
func TestSessionWithExternalData(t *testing.T) {
	requireORT(t)
	dir := t.TempDir()
	raw := addModel(false).Graph.Initializer[0].RawData // 1, 2, 3, 4
	if err := os.WriteFile(filepath.Join(dir, "w.bin"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	decoy := t.TempDir()
	os.WriteFile(filepath.Join(decoy, "w.bin"), make([]byte, 16), 0o644) // zeros
	t.Chdir(decoy)

	data, err := onnx.Encode(addModel(true))
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSessionWithExternalData(data, "add-ext", dir, SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.Run(map[string]*Tensor{"x": NewFloat32([]int64{4}, []float32{10, 20, 30, 40})})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := out["y"].Float32s(); !slices.Equal(got, []float32{11, 22, 33, 44}) {
		t.Errorf("y = %v, want x + w = [11 22 33 44]", got)
	}
	for _, d := range []string{dir, decoy} {
		if es, _ := os.ReadDir(d); len(es) != 1 {
			t.Errorf("%s holds %d files after loading, want only w.bin", d, len(es))
		}
	}

	// The data file is not in the folder given: ORT's error, not the
	// working directory's file.
	_, err = NewSessionWithExternalData(data, "add-ext", t.TempDir(), SessionOptions{})
	if err == nil || !strings.Contains(err.Error(), "w.bin") {
		t.Errorf("missing data file: err = %v, want ONNX Runtime's error naming w.bin", err)
	}
	_, err = NewSessionWithExternalData(data, "add-ext", filepath.Join(dir, "w.bin"), SessionOptions{})
	if want := `model add-ext: external data folder "` + filepath.Join(dir, "w.bin") + `": not a directory`; err == nil || err.Error() != want {
		t.Errorf("folder that is a file: err = %v\nwant %s", err, want)
	}
}
