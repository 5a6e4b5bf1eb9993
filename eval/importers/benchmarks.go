package importers

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
)

// LMEvalVersion is the lm-eval release whose task definitions the
// converters reproduce (the one `make pyenv` pins).
const LMEvalVersion = "0.4.13"

// Benchmark is one converter: the original rows of a benchmark's split in,
// painterc documents out.
type Benchmark struct {
	// Name is what --benchmark takes and the task's name: lm-eval's task name.
	Name string
	// Dataset is the Hugging Face dataset (and configuration) lm-eval reads,
	// and Split the split it scores.
	Dataset, Split string
	// Fields are the record fields the converter reads, for help and errors.
	Fields []string
	// Header is the task file's header less what Convert's documents give
	// (the baseline of a multiple-choice task, the description).
	Header Header
	// convert turns the records into documents, in order.
	convert func(rows []Row) ([]any, error)
}

// Header is a task file's header (docs/tasks.md), in the order and with the
// keys of the converted files in ../shared/data/tasks.
type Header struct {
	Name        string   `json:"name"`
	Kind        string   `json:"kind"`
	Baseline    *float64 `json:"baseline,omitempty"`
	Category    string   `json:"category,omitempty"`
	Description string   `json:"description,omitempty"`
	Until       []string `json:"until,omitempty"`
	MaxGenToks  int      `json:"max_gen_toks,omitempty"`
}

// benchmarks is the table of converters, one file each.
var benchmarks = []*Benchmark{
	arcEasy, arcChallenge, hellaswag, piqa, winogrande, lambadaOpenAI, wikitext, gsm8k, copa,
}

// Benchmarks lists the converters by name.
func Benchmarks() []*Benchmark {
	out := slices.Clone(benchmarks)
	slices.SortFunc(out, func(a, b *Benchmark) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Lookup finds a converter by name.
func Lookup(name string) (*Benchmark, error) {
	for _, b := range benchmarks {
		if b.Name == name {
			return b, nil
		}
	}
	var names []string
	for _, b := range Benchmarks() {
		names = append(names, b.Name)
	}
	return nil, fmt.Errorf("unknown benchmark %q: want one of %s", name, strings.Join(names, ", "))
}

// TaskFile is a converted task: its header and documents.
type TaskFile struct {
	Header Header
	Docs   []any
}

// choiceCounter is a multiple-choice document, whose number of options
// gives the random-guess baseline.
type choiceCounter interface{ options() int }

// Convert turns rows (read from the file source, whose base name the
// description gives) into a task file.
func (b *Benchmark) Convert(rows []Row, source string) (*TaskFile, error) {
	docs, err := b.convert(rows)
	if err != nil {
		return nil, err
	}
	h := b.Header
	h.Name = b.Name
	h.Description = fmt.Sprintf("%s (%s split), converted from %s by painterc tasks import with lm-eval %s's prompts.",
		b.Dataset, b.Split, filepath.Base(source), LMEvalVersion)
	if h.Kind == "multiple_choice" && len(docs) > 0 {
		var sum float64
		for _, d := range docs {
			sum += 1 / float64(d.(choiceCounter).options())
		}
		base := math.Round(sum/float64(len(docs))*1e6) / 1e6
		h.Baseline = &base
	}
	return &TaskFile{Header: h, Docs: docs}, nil
}

// Write writes the task file as JSON Lines: the header, then a document a
// line, with non-ASCII text as is (as Python's json.dumps(...,
// ensure_ascii=False) writes it).
func (t *TaskFile) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]Header{"task": t.Header}); err != nil {
		return err
	}
	for _, d := range t.Docs {
		if err := enc.Encode(d); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// perRow makes a Convert from a function of one record.
func perRow[D any](f func(Row) (D, error)) func([]Row) ([]any, error) {
	return func(rows []Row) ([]any, error) {
		docs := make([]any, 0, len(rows))
		for _, r := range rows {
			d, err := f(r)
			if err != nil {
				return nil, err
			}
			docs = append(docs, d)
		}
		return docs, nil
	}
}

// ptr returns a pointer to v, for optional header values.
func ptr[T any](v T) *T { return &v }

// multipleChoice is the document of most converters.
type multipleChoice struct {
	Context string   `json:"context"`
	Choices []string `json:"choices"`
	Gold    int      `json:"gold"`
	ID      string   `json:"id,omitempty"`
}

func (d multipleChoice) options() int { return len(d.Choices) }
