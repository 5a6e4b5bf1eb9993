package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/painterc/painterc/onnx"
	"github.com/painterc/painterc/testmodels"
)

// TestNoFsync: --no-fsync changes durability, never the bytes written.
func TestNoFsync(t *testing.T) {
	spec := testmodels.Spec{Family: testmodels.GPT2}
	m, err := testmodels.Default(spec)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "model.onnx")
	if err := onnx.Save(in, m, onnx.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	var outs [][]byte
	for _, extra := range [][]string{nil, {"--no-fsync"}} {
		out := filepath.Join(dir, "out.onnx")
		var stdout, stderr bytes.Buffer
		args := append([]string{"--pass=skip", in, "-o", out}, extra...)
		if code := run(args, &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, data)
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Error("--no-fsync wrote different bytes")
	}
}
