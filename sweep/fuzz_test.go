package sweep

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The readers of a sweep directory, fuzzed: results.jsonl, sweep.json and
// the merge of shards. Bad bytes must give an error that names the file and
// stays short (it quotes at most a little of the input), never a panic, an
// allocation sized by the file, or partial output.

// maxMessage bounds a message: a path, a line number and a quote of at
// most clip.Max characters, with room to spare.
const maxMessage = 2000

const fuzzHash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

var fuzzRow = `{"pass":"skip","params":"n=2","schedule":"0-2,6-7","affected":3,"seed":null,"task":"mc","metrics":{"acc,none":0.5,"acc_stderr,none":0.1,"perplexity,none":"Infinity","perplexity_stderr,none":null},"normalized":{"acc,none":0.3},"main":"acc,none","baseline":0.25,"key":"` + fuzzHash + `"}`

func fuzzManifest(index, count, rows int) string {
	return `{"version": 1, "model": "m.onnx", "model_hash": "` + fuzzHash + `", "blocks": 8, "settings": {"scorer": "fake"}, "tasks": {"mc": "` + fuzzHash + `"}, "plan_hash": "` + fuzzHash + `", "variants": 2, "shard": {"index": ` + string(rune('0'+index)) + `, "count": ` + string(rune('0'+count)) + `}, "rows_planned": ` + string(rune('0'+rows)) + `}`
}

// FuzzParseRows: any bytes read as results.jsonl give an error naming the
// file and line, or rows that write and read back as the same bytes.
func FuzzParseRows(f *testing.F) {
	identity := strings.Replace(strings.Replace(fuzzRow, `"pass":"skip","params":"n=2"`, `"pass":"identity","params":""`, 1), `"affected":3`, `"affected":0`, 1)
	f.Add([]byte(fuzzRow + "\n" + identity + "\n"))
	f.Add([]byte(fuzzRow + "\n" + fuzzRow[:40]))
	f.Add([]byte("\n\n" + strings.Replace(fuzzRow, "0.5", "\"N/A\"", 1) + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		rows, good, err := parseRows("results.jsonl", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "results.jsonl:") || len(err.Error()) > maxMessage {
				t.Fatalf("message %.300q... (%d bytes): want results.jsonl:LINE and at most %d bytes", err.Error(), len(err.Error()), maxMessage)
			}
			return
		}
		if good < 0 || good > len(data) {
			t.Fatalf("good = %d of %d bytes", good, len(data))
		}
		for _, r := range rows {
			line := encodeRow(r)
			again, _, err := parseRows("again", line)
			if err != nil || len(again) != 1 {
				t.Fatalf("row written as %s does not read back: %v", line, err)
			}
			if b := encodeRow(again[0]); !bytes.Equal(b, line) {
				t.Fatalf("row written as\n%s\nreads back as\n%s", line, b)
			}
		}
	})
}

// FuzzReadManifest: any bytes read as sweep.json give an error naming the
// file, or a manifest whose numbers are in range.
func FuzzReadManifest(f *testing.F) {
	f.Add([]byte(fuzzManifest(0, 2, 2)))
	f.Add([]byte(strings.Replace(fuzzManifest(0, 2, 2), `"count": 2`, `"count": 2000000000`, 1)))
	f.Add([]byte(`{"version": 1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		m, err := parseManifest(ManifestFile, data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), ManifestFile+":") || len(err.Error()) > maxMessage {
				t.Fatalf("message %.300q... (%d bytes)", err.Error(), len(err.Error()))
			}
			return
		}
		if m.Shard != nil && (m.Shard.Count > MaxShards || m.Shard.Index >= m.Shard.Count) || m.RowsPlanned > m.Variants*len(m.Tasks) {
			t.Fatalf("accepted %+v", m)
		}
	})
}

// FuzzMerge merges two shards, the first with fuzzed sweep.json and
// results.jsonl: Merge must refuse with a message, or write its three
// files; a refusal leaves the directory as it was (no results, no staging
// folder).
func FuzzMerge(f *testing.F) {
	identity := strings.Replace(strings.Replace(fuzzRow, `"pass":"skip","params":"n=2"`, `"pass":"identity","params":""`, 1), `"affected":3`, `"affected":0`, 1)
	f.Add([]byte(fuzzManifest(0, 2, 1)), []byte(identity+"\n"))
	f.Add([]byte(fuzzManifest(0, 2, 2)), []byte(identity+"\n"+fuzzRow+"\n"))
	f.Add([]byte(fuzzManifest(1, 2, 1)), []byte(fuzzRow+"\n"))
	f.Fuzz(func(t *testing.T, manifest, rows []byte) {
		if len(manifest) > 1<<14 || len(rows) > 1<<16 {
			return
		}
		dir := t.TempDir()
		write := func(name string, b []byte) {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write("shard-0-of-2/"+ManifestFile, manifest)
		write("shard-0-of-2/"+ResultsFile, rows)
		write("shard-1-of-2/"+ManifestFile, []byte(fuzzManifest(1, 2, 1)))
		write("shard-1-of-2/"+ResultsFile, []byte(identity+"\n"))
		_, err := Merge(dir)
		entries, rerr := os.ReadDir(dir)
		if rerr != nil {
			t.Fatal(rerr)
		}
		if err != nil {
			if len(err.Error()) > maxMessage {
				t.Fatalf("message of %d bytes: %.300q...", len(err.Error()), err.Error())
			}
			if len(entries) != 2 {
				t.Fatalf("a refused merge left %d entries in the directory", len(entries))
			}
			return
		}
		for _, name := range []string{ResultsFile, CSVFile, ManifestFile} {
			if _, err := os.Stat(filepath.Join(dir, name)); errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("merged without %s", name)
			}
		}
		if _, err := readRows(filepath.Join(dir, ResultsFile)); err != nil {
			t.Fatalf("the merged results do not read back: %v", err)
		}
	})
}
