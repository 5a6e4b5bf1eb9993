package eval

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/painterc/painterc/internal/clip"
)

// Kind is one task kind: how its documents look, which header options it
// reads, which requests it makes and which metrics it reports. Each kind
// lives in its own file; All lists them, as passes.All lists the passes.
type Kind struct {
	Name string
	Doc  string // one line, for a listing of the kinds
	// Fields are the document fields the kind requires. A task file without
	// a header gets the kind whose Fields its first document has (the one
	// with the most of them when several fit).
	Fields []string
	// AltFields, when set, is a second shape of document: one with all of
	// these fields (and not all of Fields) is the kind's too. Multiple
	// choice's partial evaluation (contexts, continuation, gold) is one.
	AltFields []string
	// Optional are document fields the kind reads when present.
	Optional []string
	// Options are the header options the kind reads besides the common
	// name, kind, baseline and metric.
	Options []string
	// Metrics are the metric keys ("name,filter") the kind reports, in the
	// order they are reported.
	Metrics []string
	// Main is the default main metric: the one a baseline refers to.
	Main string

	// configure reads the kind's header options into the task.
	configure func(t *Task, opts map[string]json.RawMessage) error
	// parse fills a document's kind-specific fields and checks them; the
	// loader has already checked that every field in Fields is present.
	parse func(t *Task, d *Doc, f docFields) error
	// run scores the task's documents.
	run func(ctx context.Context, r *runner, t *Task, docs []Doc) (*TaskResult, error)
}

// All lists every task kind.
var All = []*Kind{
	multipleChoiceKind,
	loglikelihoodKind,
	rollingKind,
	generateKind,
	classificationKind,
}

// LookupKind returns the kind with the given name.
func LookupKind(name string) (*Kind, error) {
	for _, k := range All {
		if k.Name == name {
			return k, nil
		}
	}
	return nil, fmt.Errorf("unknown task kind %s: the kinds are %s", clip.Quote(name), kindNames())
}

func kindNames() string {
	names := make([]string, len(All))
	for i, k := range All {
		names[i] = k.Name
	}
	return strings.Join(names, ", ")
}

// inferKind picks the kind whose required fields all appear in the first
// document, preferring the one that requires the most of them.
func inferKind(f docFields) (*Kind, error) {
	var best []*Kind
	bestN := 0
	for _, k := range All {
		n := 0
		for _, fields := range [][]string{k.Fields, k.AltFields} {
			if len(fields) > 0 && f.hasAll(fields) {
				n = max(n, len(fields))
			}
		}
		if n == 0 {
			continue
		}
		switch {
		case n > bestN:
			best, bestN = []*Kind{k}, n
		case n == bestN:
			best = append(best, k)
		}
	}
	switch len(best) {
	case 1:
		return best[0], nil
	case 0:
		var want []string
		for _, k := range All {
			want = append(want, fmt.Sprintf("%s {%s}", k.Name, strings.Join(quoteAll(k.Fields), ", ")))
			if k.AltFields != nil {
				want = append(want, fmt.Sprintf("%s {%s}", k.Name, strings.Join(quoteAll(k.AltFields), ", ")))
			}
		}
		return nil, fmt.Errorf("cannot tell the task kind from the first document's fields: add a header line {\"task\": {\"kind\": ...}} or give the fields of one kind: %s", strings.Join(want, "; "))
	default:
		names := make([]string, len(best))
		for i, k := range best {
			names[i] = k.Name
		}
		return nil, fmt.Errorf("the first document fits the kinds %s equally well: add a header line {\"task\": {\"kind\": ...}}", strings.Join(names, " and "))
	}
}

func quoteAll(s []string) []string {
	q := make([]string, len(s))
	for i, x := range s {
		q[i] = fmt.Sprintf("%q", x)
	}
	return q
}
