package eval

import (
	"context"
	"fmt"
	"time"

	"github.com/painterc/painterc/internal/fault"
)

// Options are the parameters of Run.
type Options struct {
	// Limit scores only each task's first Limit documents, as lm-eval's
	// --limit N does; 0 scores them all.
	Limit int
	// Progress, when not nil, is called as the model finishes requests:
	// done of total for the named task.
	Progress func(task string, done, total int)
	// Config is copied to the results' "config".
	Config map[string]any
	// ModelName is the results file's "model_name" (lm-eval's
	// `pretrained=` path); GitHash its "git_hash" (empty: null).
	ModelName, GitHash string
}

// runner carries what every kind's run needs.
type runner struct {
	model Model
	tok   Tokenizer
	opts  Options
}

// Run scores every task on the model, in order. Each task's requests go to
// the model in one call, so that it can sort and batch them; a document's
// requests are adjacent (its choices share a context).
//
// Its errors carry a [fault.Kind]: fault.Input when the tasks, the
// tokenizer or the options are at fault (a document that cannot be
// scored, a tokenizer that does not belong to the model), fault.Runtime
// when the model fails or answers wrongly; context errors pass through.
func Run(ctx context.Context, model Model, tok Tokenizer, tasks []*Task, opts Options) (*Results, error) {
	start := time.Now()
	if opts.Limit < 0 {
		return nil, inputErrorf("limit %d: the limit must be at least 0 (0 means every document)", opts.Limit)
	}
	// A language model scores token ids, so every id the tokenizer makes
	// needs a logit. A classifier's outputs are its classes, not tokens,
	// so the check is only for the kinds that score tokens.
	scoresTokens := false
	for _, t := range tasks {
		scoresTokens = scoresTokens || t.Kind != classificationKind
	}
	// A tokenizer with more ids than the model has logits is refused at
	// the first request holding such an id (vocab.go says why not before).
	scoringTok := tok
	if mv, tv := model.VocabSize(), tok.VocabSize(); scoresTokens && mv > 0 && tv > mv {
		scoringTok = vocabGuard{Tokenizer: tok, modelVocab: mv}
	}
	if model.MaxLength() < 1 {
		return nil, inputErrorf("the model's maximum length is %d: it must be at least 1", model.MaxLength())
	}
	// lm-eval 0.4.13 refuses max_gen_toks ≥ max_length (no room is left
	// for the context); refuse it before any task is scored.
	for _, t := range tasks {
		if L := model.MaxLength(); t.Kind == generateKind && t.gen.maxGenToks >= L {
			return nil, fmt.Errorf("task %s: %s: max_gen_toks %d is not less than the model's maximum length %d, which leaves no room for the context: lm-eval 0.4.13 refuses this configuration; lower the header's \"max_gen_toks\" or raise --max-length", t.Name, t.Path, t.gen.maxGenToks, L)
		}
	}
	paths := map[string]string{}
	for _, t := range tasks {
		if p, ok := paths[t.Name]; ok {
			return nil, inputErrorf("two tasks are named %s (%s and %s): results are keyed by name, so give one a header \"name\"", t.Name, p, t.Path)
		}
		paths[t.Name] = t.Path
	}
	r := &runner{model: model, tok: scoringTok, opts: opts}
	classify := &runner{model: model, tok: tok, opts: opts}
	res := &Results{Config: opts.Config, Start: start, ModelName: opts.ModelName, GitHash: opts.GitHash, MaxLength: model.MaxLength()}
	for _, t := range tasks {
		docs := t.Docs
		if opts.Limit > 0 && opts.Limit < len(docs) {
			docs = docs[:opts.Limit]
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(docs) == 0 {
			return nil, inputErrorf("task %s: %s has no documents", t.Name, t.Path)
		}
		kr := r
		if t.Kind == classificationKind {
			kr = classify
		}
		tr, err := t.Kind.run(ctx, kr, t, docs)
		if err != nil {
			return nil, fmt.Errorf("task %s: %w", t.Name, err)
		}
		tr.Name, tr.Kind, tr.Path = t.Name, t.Kind.Name, t.Path
		tr.Original, tr.Effective = len(t.Docs), len(docs)
		tr.Main = t.Metric
		tr.Version, tr.config = t.Version, t.lmevalConfig()
		if t.HasBaseline {
			tr.Baseline, tr.HasBaseline = t.Baseline, true
		}
		res.Tasks = append(res.Tasks, tr)
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// progress adapts Options.Progress to the Model's callback for one call.
func (r *runner) progress(t *Task, total int) Progress {
	if r.opts.Progress == nil {
		return nil
	}
	return func(done int) { r.opts.Progress(t.Name, done, total) }
}

// docErr places an error at a document's line: the document cannot be
// scored as written, an input error.
func docErr(t *Task, d Doc, err error) error {
	return inputErrorf("%s:%d: %v", t.Path, d.Line, err)
}

// inputErrorf is an error in what Run was given: the tasks, the tokenizer
// or the options.
func inputErrorf(format string, args ...any) error {
	return fault.Errorf(fault.Input, format, args...)
}

// modelError is an error from the model: it failed, or answered
// something other than what was asked.
func modelError(err error) error { return fault.New(fault.Runtime, err) }

// modelErrorf is a wrong answer from the model.
func modelErrorf(format string, args ...any) error {
	return fault.Errorf(fault.Runtime, format, args...)
}

// checkContinuation refuses a request whose continuation is longer than
// the model's maximum length: lm-eval 0.4.13 asserts
// len(continuation) <= max_length, since left-truncation would cut into
// the tokens it scores.
func (r *runner) checkContinuation(t *Task, d Doc, q LLRequest) error {
	if L := r.model.MaxLength(); len(q.Continuation) > L {
		return docErr(t, d, fmt.Errorf("the continuation has %d tokens, more than the model's maximum length %d: lm-eval 0.4.13 stops with an assertion on such a request (truncation would cut into the scored tokens); shorten it or raise --max-length", len(q.Continuation), L))
	}
	return nil
}

// sample starts a document's log.
func sample(t *Task, id int) Sample {
	return Sample{{"task", t.Name}, {"doc_id", id}}
}

// loglikelihood sends one task's requests to the model in one call and
// returns a note when some will be left-truncated. FormRequest refuses a
// continuation with no tokens, as lm-eval stops on one; a request that
// still has none (a Model's caller forming its own) scores (0, true)
// without the model, as the sums give.
func (r *runner) loglikelihood(ctx context.Context, t *Task, reqs []LLRequest) ([]LLResult, []string, error) {
	L := r.model.MaxLength()
	long := 0
	var send []LLRequest
	var idx []int
	for i, q := range reqs {
		if len(q.Context)+len(q.Continuation) > L+1 {
			long++
		}
		if len(q.Continuation) > 0 {
			send = append(send, q)
			idx = append(idx, i)
		}
	}
	var notes []string
	if long > 0 {
		notes = append(notes, fmt.Sprintf("%d of %d requests were left-truncated to %d tokens, as lm-eval does", long, len(reqs), L))
	}
	out := make([]LLResult, len(reqs))
	for i := range out {
		out[i] = LLResult{LogLikelihood: 0, IsGreedy: true}
	}
	if len(send) == 0 {
		return out, notes, nil
	}
	got, err := r.model.LogLikelihood(ctx, send, r.progress(t, len(send)))
	if err != nil {
		return nil, nil, modelError(err)
	}
	if len(got) != len(send) {
		return nil, nil, modelErrorf("the model returned %d loglikelihoods for %d requests", len(got), len(send))
	}
	for j, i := range idx {
		out[i] = got[j]
	}
	return out, notes, nil
}
