package eval

import (
	"context"
	"errors"
	"fmt"
)

// PairEncoder is an optional Tokenizer method: encoding a text pair with
// the tokenizer's pair template (BERT's [CLS] a [SEP] b [SEP]) and the
// token type ids that go with it.
type PairEncoder interface {
	EncodePair(a, b string) (ids, typeIDs []int, err error)
}

var classificationKind = &Kind{
	Name:     "classification",
	Doc:      "argmax of a classifier's logits against a label (GLUE with a fine-tuned encoder)",
	Fields:   []string{"text", "label"},
	Optional: []string{"text_pair"},
	Metrics:  []string{"acc,none"},
	Main:     "acc,none",
	parse: func(t *Task, d *Doc, f docFields) error {
		var err error
		if d.Text, err = f.str("text"); err != nil {
			return err
		}
		if d.Label, err = f.int("label"); err != nil {
			return err
		}
		if d.Label < 0 {
			return fmt.Errorf("field \"label\" is %d: a label is a class index, at least 0", d.Label)
		}
		if _, ok := f["text_pair"]; ok {
			if d.Pair, err = f.str("text_pair"); err != nil {
				return err
			}
			d.HasPair = true
		}
		return nil
	},
	run: runClassification,
}

// runClassification encodes each text (and pair) with the tokenizer's
// special tokens and scores acc = (argmax of the logits == label). Its
// default baseline is 1/number of classes.
func runClassification(ctx context.Context, r *runner, t *Task, docs []Doc) (*TaskResult, error) {
	L := r.model.MaxLength()
	reqs := make([]ClassRequest, len(docs))
	long := 0
	for i, d := range docs {
		var q ClassRequest
		var err error
		if d.HasPair {
			pe, ok := r.tok.(PairEncoder)
			if !ok {
				return nil, docErr(t, d, errors.New("the document has a \"text_pair\" but the tokenizer cannot encode pairs (it has no EncodePair method)"))
			}
			q.IDs, q.TypeIDs, err = pe.EncodePair(d.Text, d.Pair)
		} else {
			q.IDs, err = r.tok.Encode(d.Text, true)
		}
		if err != nil {
			return nil, docErr(t, d, fmt.Errorf("encoding the text: %v", err))
		}
		if len(q.IDs) > L {
			long++
		}
		reqs[i] = q
	}
	tr := &TaskResult{}
	if long > 0 {
		tr.Notes = append(tr.Notes, fmt.Sprintf("%d of %d requests are longer than the model's %d tokens", long, len(reqs), L))
	}
	got, err := r.model.Classify(ctx, reqs, r.progress(t, len(reqs)))
	if err != nil {
		return nil, modelError(err)
	}
	if len(got) != len(reqs) {
		return nil, modelErrorf("the model returned %d sets of logits for %d requests", len(got), len(reqs))
	}
	acc := make([]float64, len(docs))
	classes := len(got[0])
	for i, d := range docs {
		if len(got[i]) != classes {
			return nil, modelErrorf("the model returned %d logits for document %d but %d for document 0", len(got[i]), i, classes)
		}
		if classes == 0 {
			return nil, modelErrorf("the model returned no logits")
		}
		if d.Label >= classes {
			return nil, docErr(t, d, fmt.Errorf("field \"label\" is %d but the model has %d classes: it must be 0 to %d", d.Label, classes, classes-1))
		}
		xs := make([]float64, classes)
		for j, x := range got[i] {
			xs[j] = float64(x)
		}
		pred := argmax(xs)
		acc[i] = b2f(pred == d.Label)
		s := sample(t, i)
		s = append(s, Field{"target", d.Label}, Field{"logits", got[i]}, Field{"pred", pred}, Field{"acc", acc[i]})
		tr.Samples = append(tr.Samples, s)
	}
	tr.Metrics = []Metric{meanMetric("acc", "none", acc)}
	tr.Baseline, tr.HasBaseline = 1/float64(classes), true
	return tr, nil
}
