package eval

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/painterc/painterc/internal/clip"
)

// The GSM8K defaults of lm-eval's gsm8k.yaml.
var (
	defaultUntil           = []string{"Question:", "</s>", "<|im_end|>"}
	defaultMaxGenToks      = 256
	defaultAnswerRegex     = `#### (\-?[0-9\.\,]+)`
	defaultFlexibleRegex   = `(-?[$0-9.,]{2,})|(-?[0-9]+)`
	defaultRegexesToIgnore = []string{",", `\$`, "(?s).*#### ", `\.$`}
)

// invalidAnswer is what lm-eval's regex filter gives when nothing matches.
const invalidAnswer = "[invalid]"

type genConfig struct {
	until      []string
	maxGenToks int
	strict     *regexp.Regexp
	flexible   *regexp.Regexp
	ignore     []*regexp.Regexp
	ignoreCase bool
}

var generateKind = &Kind{
	Name:      "generate",
	Doc:       "greedy generation after the context, answer extracted by regex and compared exactly (GSM8K)",
	Fields:    []string{"context", "answer"},
	Options:   []string{"until", "max_gen_toks", "answer_regex", "flexible_regex", "regexes_to_ignore", "ignore_case"},
	Metrics:   []string{"exact_match,strict-match", "exact_match,flexible-extract"},
	Main:      "exact_match,strict-match",
	configure: configureGenerate,
	parse: func(t *Task, d *Doc, f docFields) error {
		var err error
		if d.Context, err = f.str("context"); err != nil {
			return err
		}
		d.Answer, err = f.str("answer")
		return err
	},
	run: runGenerate,
}

func configureGenerate(t *Task, opts map[string]json.RawMessage) error {
	f := docFields(opts)
	c := genConfig{until: defaultUntil, maxGenToks: defaultMaxGenToks, ignoreCase: true}
	has := func(name string) bool { _, ok := opts[name]; return ok }
	var err error
	if has("until") {
		if isType(opts["until"], '"') {
			s, _ := f.str("until")
			c.until = []string{s}
		} else if c.until, err = f.strs("until"); err != nil {
			return fmt.Errorf("option %s", strings.TrimPrefix(err.Error(), "field "))
		}
	}
	if has("max_gen_toks") {
		if c.maxGenToks, err = f.int("max_gen_toks"); err != nil {
			return fmt.Errorf("option %s", strings.TrimPrefix(err.Error(), "field "))
		}
		if c.maxGenToks < 1 {
			return fmt.Errorf("option \"max_gen_toks\" is %d: it must be at least 1", c.maxGenToks)
		}
	}
	if has("ignore_case") {
		if c.ignoreCase, err = f.bool("ignore_case"); err != nil {
			return fmt.Errorf("option %s", strings.TrimPrefix(err.Error(), "field "))
		}
	}
	pattern := func(name, def string) (*regexp.Regexp, error) {
		p := def
		if has(name) {
			if p, err = f.str(name); err != nil {
				return nil, fmt.Errorf("option %s", strings.TrimPrefix(err.Error(), "field "))
			}
		}
		return compileRE(fmt.Sprintf("option %q", name), p)
	}
	if c.strict, err = pattern("answer_regex", defaultAnswerRegex); err != nil {
		return err
	}
	if c.flexible, err = pattern("flexible_regex", defaultFlexibleRegex); err != nil {
		return err
	}
	ignore := defaultRegexesToIgnore
	if has("regexes_to_ignore") {
		if ignore, err = f.strs("regexes_to_ignore"); err != nil {
			return fmt.Errorf("option %s", strings.TrimPrefix(err.Error(), "field "))
		}
	}
	for i, p := range ignore {
		re, err := compileRE(fmt.Sprintf("option \"regexes_to_ignore\" item %d", i), p)
		if err != nil {
			return err
		}
		c.ignore = append(c.ignore, re)
	}
	t.gen = c
	return nil
}

// compileRE compiles a pattern with Go's RE2, which has no lookaround and
// no backreferences; such a pattern is refused with the reason.
func compileRE(what, p string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %s is not a regular expression Go's RE2 can take (it has no lookaround or backreferences): %s", what, clip.Quote(p), clip.String(err.Error()))
	}
	return re, nil
}

// runGenerate encodes each context with the default special tokens (an
// empty one as [prefix]), decodes greedily until an `until` string
// appears, EOS, or max_gen_toks tokens, cuts the text at the first `until`
// string, and scores exact_match under both filters.
func runGenerate(ctx context.Context, r *runner, t *Task, docs []Doc) (*TaskResult, error) {
	c := t.gen
	L := r.model.MaxLength()
	var stop func([]int) bool
	var until []string
	for _, u := range c.until {
		if u != "" {
			until = append(until, u)
		}
	}
	if len(until) > 0 {
		stop = func(gen []int) bool {
			s := r.tok.Decode(gen)
			for _, u := range until {
				if strings.Contains(s, u) {
					return true
				}
			}
			return false
		}
	}
	reqs := make([]GenRequest, len(docs))
	long := 0
	for i, d := range docs {
		var ids []int
		if d.Context == "" {
			ids = []int{r.tok.Prefix()}
		} else {
			var err error
			if ids, err = r.tok.Encode(d.Context, true); err != nil {
				return nil, docErr(t, d, fmt.Errorf("encoding the context: %v", err))
			}
			if len(ids) == 0 {
				return nil, docErr(t, d, fmt.Errorf("the context %s encodes to no tokens", quoteShort(d.Context)))
			}
		}
		if len(ids) > L-c.maxGenToks {
			long++
		}
		reqs[i] = GenRequest{Context: ids, MaxTokens: c.maxGenToks, EOS: r.tok.EOS(), Stop: stop}
	}
	tr := &TaskResult{}
	if long > 0 {
		tr.Notes = append(tr.Notes, fmt.Sprintf("%d of %d requests were left-truncated to %d tokens (the maximum length %d less max_gen_toks %d), as lm-eval does", long, len(reqs), L-c.maxGenToks, L, c.maxGenToks))
	}
	got, err := r.model.Generate(ctx, reqs, r.progress(t, len(reqs)))
	if err != nil {
		return nil, modelError(err)
	}
	if len(got) != len(reqs) {
		return nil, modelErrorf("the model returned %d generations for %d requests", len(got), len(reqs))
	}
	strict := make([]float64, len(docs))
	flex := make([]float64, len(docs))
	// The request's generation arguments as lm-eval logs them (a task
	// YAML's generation_kwargs, greedy).
	genKwargs := object{{"until", toAny(c.until)}, {"do_sample", false}, {"temperature", 0.0}, {"max_gen_toks", c.maxGenToks}}
	for i, d := range docs {
		text := cutAtUntil(r.tok.Decode(got[i].Tokens), until)
		s1 := findAll(c.strict, text, 0)
		s2 := findAll(c.flexible, text, -1)
		strict[i] = b2f(c.exactMatch(s1, d.Answer))
		flex[i] = b2f(c.exactMatch(s2, d.Answer))
		ids := got[i].Tokens
		if ids == nil {
			ids = []int{}
		}
		tr.lm = append(tr.lm, lmDoc{doc: pyDoc(d.Raw), target: d.Answer, args: [][]any{{d.Context, genKwargs}}, resps: []any{[]any{text}},
			filters: []lmFilter{
				{"strict-match", []any{s1}, object{{"exact_match", strict[i]}}},
				{"flexible-extract", []any{s2}, object{{"exact_match", flex[i]}}},
			}})
		s := sample(t, i)
		s = append(s, Field{"target", d.Answer}, Field{"generation", text}, Field{"generated_ids", ids},
			Field{"extracted", object{{"strict-match", s1}, {"flexible-extract", s2}}},
			Field{"exact_match", object{{"strict-match", strict[i]}, {"flexible-extract", flex[i]}}})
		tr.Samples = append(tr.Samples, s)
	}
	tr.Metrics = []Metric{meanMetric("exact_match", "strict-match", strict), meanMetric("exact_match", "flexible-extract", flex)}
	tr.Baseline, tr.HasBaseline = 0, true
	return tr, nil
}

// cutAtUntil keeps the text before the first occurrence of any stop
// string, as lm-eval's successive s.split(term)[0] does.
func cutAtUntil(s string, until []string) string {
	for _, u := range until {
		if i := strings.Index(s, u); i >= 0 {
			s = s[:i]
		}
	}
	return s
}

// findAll is lm-eval's regex filter: Python's re.findall, the match at
// index sel (0 the first, -1 the last), whose value is the whole match
// when the pattern has no groups, group 1 when it has one, and the first
// non-empty group when it has more; stripped of surrounding whitespace.
// No match, or a match whose groups are all empty, gives "[invalid]".
func findAll(re *regexp.Regexp, s string, sel int) string {
	ms := re.FindAllStringSubmatch(s, -1)
	if len(ms) == 0 {
		return invalidAnswer
	}
	if sel < 0 {
		sel += len(ms)
	}
	m := ms[sel]
	var v string
	switch re.NumSubexp() {
	case 0:
		v = m[0]
	case 1:
		v = m[1]
	default:
		v = invalidAnswer
		for _, g := range m[1:] {
			if g != "" {
				v = g
				break
			}
		}
	}
	return pyStrip(v)
}

// exactMatch is lm-eval's exact_match: each regex to ignore is removed
// from both sides (re.sub with ""), then case is folded when asked.
func (c genConfig) exactMatch(pred, ref string) bool {
	for _, re := range c.ignore {
		pred = re.ReplaceAllLiteralString(pred, "")
		ref = re.ReplaceAllLiteralString(ref, "")
	}
	if c.ignoreCase {
		pred, ref = strings.ToLower(pred), strings.ToLower(ref)
	}
	return pred == ref
}
