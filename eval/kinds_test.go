package eval

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"
)

// q and r (fake_test.go) are the fake model's two log-probabilities:
// q = −ln 2 for a token that is its predecessor's successor (a→b, b→c...),
// r = −ln 198 for any other. They are far apart (−0.69 and −5.29), so an
// error in which token is scored shows in the numbers.

func run(t *testing.T, m Model, tok Tokenizer, opts Options, tasks ...*Task) *Results {
	t.Helper()
	res, err := Run(context.Background(), m, tok, tasks, opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

func checkMetric(t *testing.T, tr *TaskResult, key string, value, stderr float64, hasStderr bool) {
	t.Helper()
	m, ok := tr.Metric(key)
	if !ok {
		t.Errorf("%s: no metric %s in %+v", tr.Name, key, tr.Metrics)
		return
	}
	if !near(m.Value, value) {
		t.Errorf("%s %s = %.15g, want %.15g", tr.Name, key, m.Value, value)
	}
	if m.HasStderr != hasStderr || (hasStderr && !near(m.Stderr, stderr)) {
		t.Errorf("%s %s stderr = %v (%v), want %v (%v)", tr.Name, key, m.Stderr, m.HasStderr, stderr, hasStderr)
	}
}

func TestMultipleChoiceBigram(t *testing.T) {
	tok := newTok()
	m := newModel(16)
	task := readTask(t, "mc.jsonl", `{"task": {"kind": "multiple_choice", "target_delimiter": ""}}
{"context": "a", "choices": ["b", "bcd", "x"], "gold": 1}
{"context": "ab", "choices": ["x", "c"], "gold": 1}
`)
	res := run(t, m, tok, Options{}, task)
	tr := res.Tasks[0]
	// doc 0: lls b = q, bcd = 3q, x = r; acc picks b (wrong). Per
	// character q, q, r: a tie that argmax gives to the first, b (wrong).
	// doc 1: x = r, c = q; both metrics pick c (right).
	// acc = acc_norm = mean(0, 1) = 0.5; stderr = sqrt(0.5)/sqrt(2) = 0.5.
	checkMetric(t, tr, "acc,none", 0.5, 0.5, true)
	checkMetric(t, tr, "acc_norm,none", 0.5, 0.5, true)
	if got := tr.Samples[0].Get("loglikelihoods").([]float64); !near(got[0], q) || !near(got[1], 3*q) || !near(got[2], r) {
		t.Errorf("doc 0 lls = %v, want %v %v %v", got, q, 3*q, r)
	}
	if got := tr.Samples[0].Get("is_greedy").([]bool); !slices.Equal(got, []bool{true, true, false}) {
		t.Errorf("doc 0 is_greedy = %v", got)
	}
	// One call, each document's choices adjacent and in order.
	if len(m.llCalls) != 1 || len(m.llCalls[0]) != 5 {
		t.Fatalf("model calls %v", m.llCalls)
	}
	want := [][]int{tok.ids("b"), tok.ids("bcd"), tok.ids("x"), tok.ids("x"), tok.ids("c")}
	for i, q := range m.llCalls[0] {
		if !slices.Equal(q.Continuation, want[i]) {
			t.Errorf("request %d continuation %v, want %v", i, q.Continuation, want[i])
		}
	}
	// Baseline: mean of 1/3 and 1/2.
	if !tr.HasBaseline || !near(tr.Baseline, (1.0/3+1.0/2)/2) {
		t.Errorf("baseline %v %v", tr.Baseline, tr.HasBaseline)
	}
}

// acc_norm divides by the choice's length in code points, without the
// delimiter: "éé" is 2 characters (4 bytes).
func TestMultipleChoiceNorm(t *testing.T) {
	tok := newTok()
	m := newModel(16)
	m.llOverride = map[string]float64{" a": -1.0, " éé": -1.9, " bbb": -2.7}
	task := readTask(t, "mc.jsonl", `{"task": {"kind": "multiple_choice", "baseline": 0.3}}
{"context": "Q", "choices": ["a", "éé", "bbb"], "gold": 2}
{"context": "Q", "choices": ["a", "b"], "gold": 0}
`)
	res := run(t, m, tok, Options{}, task)
	tr := res.Tasks[0]
	// doc 0: lls −1, −1.9, −2.7: acc picks "a" (wrong). Per character −1,
	// −0.95, −0.9: acc_norm picks "bbb" (right); per byte it would pick
	// "éé" (−0.475).
	// doc 1: " a" = −1 and " b" = r + r (Q→space, space→b): both pick "a".
	// acc = mean(0, 1) = 0.5 ± 0.5; acc_norm = mean(1, 1) = 1 ± 0.
	checkMetric(t, tr, "acc,none", 0.5, 0.5, true)
	checkMetric(t, tr, "acc_norm,none", 1, 0, true)
	// Each document's outcome, for a paired comparison.
	for key, want := range map[string][]float64{"acc,none": {0, 1}, "acc_norm,none": {1, 1}} {
		if got, ok := tr.DocValues(key); !ok || !slices.Equal(got, want) {
			t.Errorf("DocValues(%s) = %v %v, want %v", key, got, ok, want)
		}
	}
	if got := tr.Samples[1].Get("loglikelihoods").([]float64); !near(got[1], 2*r) {
		t.Errorf("doc 1 lls = %v, want [-1 %v]", got, 2*r)
	}
	// The default delimiter is a space, in front of each choice.
	if got := m.llCalls[0][1].Continuation; !slices.Equal(got, tok.ids(" éé")) {
		t.Errorf("continuation %v, want %v", got, tok.ids(" éé"))
	}
	// The header's baseline wins over the default.
	if !tr.HasBaseline || tr.Baseline != 0.3 {
		t.Errorf("baseline %v", tr.Baseline)
	}
}

func TestLoglikelihood(t *testing.T) {
	tok := newTok()
	m := newModel(16)
	task := readTask(t, "lambada.jsonl", `{"context": "ab", "target": "cd"}
{"context": "ab", "target": "cx"}
{"context": "", "target": "ab"}
`)
	res := run(t, m, tok, Options{}, task)
	tr := res.Tasks[0]
	// doc 0: c, d both successors: 2q, greedy. doc 1: q + r, not greedy.
	// doc 2: empty context, so [BOS] then a, b: BOS→a is r, a→b q; not
	// greedy. acc = 1/3; the sample variance of (1, 0, 0) is 1/3, so the
	// stderr is sqrt(1/3)/sqrt(3) = 1/3. perplexity = exp(−(4q+2r)/3).
	checkMetric(t, tr, "acc,none", 1.0/3, 1.0/3, true)
	if got, ok := tr.DocValues("acc,none"); !ok || !slices.Equal(got, []float64{1, 0, 0}) {
		t.Errorf("DocValues(acc) = %v %v, want [1 0 0]", got, ok)
	}
	if got, ok := tr.DocValues("perplexity,none"); ok {
		t.Errorf("a perplexity has no per-document mean, got %v", got)
	}
	m0, _ := tr.Metric("perplexity,none")
	if !near(m0.Value, math.Exp(-(4*q+2*r)/3)) || !m0.HasStderr || !(m0.Stderr > 0) {
		t.Errorf("perplexity %+v, want %v with a bootstrap stderr", m0, math.Exp(-(4*q+2*r)/3))
	}
	if c := m.llCalls[0][2].Context; !slices.Equal(c, []int{bosID}) {
		t.Errorf("empty context became %v, want [BOS]", c)
	}
	if ll := tr.Samples[1].Get("loglikelihood").(float64); !near(ll, q+r) || tr.Samples[1].Get("is_greedy").(bool) {
		t.Errorf("doc 1 sample %v", tr.Samples[1])
	}
	// --limit 2 scores the first two documents.
	res = run(t, newModel(16), tok, Options{Limit: 2}, task)
	tr = res.Tasks[0]
	checkMetric(t, tr, "acc,none", 0.5, 0.5, true)
	if tr.Original != 3 || tr.Effective != 2 || len(tr.Samples) != 2 {
		t.Errorf("limit: original %d effective %d samples %d", tr.Original, tr.Effective, len(tr.Samples))
	}
}

// A continuation with no tokens of its own (its text merged into the
// context's last token) is refused at its line, as lm-eval 0.4.13 stops
// on it; so is one longer than the model's maximum length.
func TestEmptyContinuation(t *testing.T) {
	task := readTask(t, "t.jsonl", `{"context": "x", "target": "y"}
{"context": "ab", "target": "c"}`)
	_, err := Run(context.Background(), newModel(16), newTok(), []*Task{task}, Options{})
	want := `task t: t.jsonl:1: the continuation "y" has no tokens of its own (it is empty, or its text joins the context's last token): lm-eval 0.4.13 stops with an assertion on such a request, so it has no lm-eval score; change the document`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	task = readTask(t, "t.jsonl", `{"context": "a", "choices": ["b", "bcdef"], "gold": 0}`)
	_, err = Run(context.Background(), newModel(4), newTok(), []*Task{task}, Options{})
	want = `task t: t.jsonl:1: the continuation has 6 tokens, more than the model's maximum length 4: lm-eval 0.4.13 stops with an assertion on such a request (truncation would cut into the scored tokens); shorten it or raise --max-length`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

func TestPerplexityBootstrap(t *testing.T) {
	if m := perplexityMetric([]float64{-2, -2, -2}); m.Value != math.Exp(2) || !m.HasStderr || m.Stderr > 1e-12 {
		t.Errorf("constant lls: %+v, want exp(2) ± 0", m)
	}
	if m := perplexityMetric([]float64{-2}); m.HasStderr {
		t.Errorf("one document: %+v, want no stderr", m)
	}
	xs := []float64{-1, -3, -2, -0.5, -4}
	a, b := perplexityMetric(xs), perplexityMetric(xs)
	if a.Stderr != b.Stderr || !(a.Stderr > 0) {
		t.Errorf("bootstrap not deterministic or zero: %v %v", a.Stderr, b.Stderr)
	}
	// The bootstrap spread of exp(−mean) is near the delta method's
	// exp(−mean)·sd/√n ≈ 3.0 here; resampling noise is a few percent.
	if d := a.Value * math.Sqrt(float64(len(xs)-1)/float64(len(xs))) * sampleStddev(xs) / math.Sqrt(float64(len(xs))); a.Stderr < 0.7*d || a.Stderr > 1.5*d {
		t.Errorf("bootstrap stderr %v far from the delta method's %v", a.Stderr, d)
	}
}

func TestRolling(t *testing.T) {
	tok := newTok()
	m := newModel(2)
	task := readTask(t, "wiki.jsonl", `{"text": "abcde"}
{"text": "ab cd"}
`)
	tr := run(t, m, tok, Options{}, task).Tasks[0]
	// L = 2. The text is encoded with the default special tokens, as
	// lm-eval 0.4.13 does, so BOS comes first and is itself predicted
	// from the prefix (BOS).
	// "abcde" = <s> a b c d e: windows [BOS]|<s> a, [a]|b c, [c]|d e.
	// "ab cd" = <s> a b ␠ c d: windows [BOS]|<s> a, [a]|b ␠, [␠]|c d.
	id := tok.id
	want := []LLRequest{
		{[]int{bosID}, []int{bosID, id("a")}}, {[]int{id("a")}, tok.ids("bc")}, {[]int{id("c")}, tok.ids("de")},
		{[]int{bosID}, []int{bosID, id("a")}}, {[]int{id("a")}, tok.ids("b ")}, {tok.ids(" "), tok.ids("cd")},
	}
	if len(m.llCalls) != 1 || len(m.llCalls[0]) != len(want) {
		t.Fatalf("model calls %v, want one call of %d windows", m.llCalls, len(want))
	}
	for i, w := range want {
		got := m.llCalls[0][i]
		if !slices.Equal(got.Context, w.Context) || !slices.Equal(got.Continuation, w.Continuation) {
			t.Errorf("window %d = %v, want %v", i, got, w)
		}
	}
	// Every token is scored once on its predecessor: BOS→<s> and <s>→a
	// are r (a is not BOS's successor, </s> is); ll0 = 2r + 4q;
	// ll1 = 2r + q (a→b) + r (b→␠) + r (␠→c) + q (c→d) = 4r + 2q.
	// Words 1 and 2, bytes 5 and 5, tokens 6 and 6 (BOS included).
	ll0, ll1 := 2*r+4*q, 4*r+2*q
	if got := tr.Samples[0].Get("loglikelihood").(float64); !near(got, ll0) {
		t.Errorf("doc 0 ll %v, want %v", got, ll0)
	}
	if got := tr.Samples[1]; !near(got.Get("loglikelihood").(float64), ll1) || got.Get("words") != 2 || got.Get("bytes") != 5 || got.Get("tokens") != 6 {
		t.Errorf("doc 1 sample %v", got)
	}
	checkMetric(t, tr, "word_perplexity,none", math.Exp(-(ll0+ll1)/3), 0, false)
	checkMetric(t, tr, "byte_perplexity,none", math.Exp(-(ll0+ll1)/10), 0, false)
	checkMetric(t, tr, "bits_per_byte,none", -(ll0+ll1)/10/math.Ln2, 0, false)
	if tr.HasBaseline || len(tr.Notes) != 0 {
		t.Errorf("rolling: baseline %v notes %v", tr.HasBaseline, tr.Notes)
	}
}

// Words count the empty strings at the ends, bytes are UTF-8: " é " is 3
// words and 4 bytes, and its ll is 3r (EOS→␠, ␠→é, é→␠), so the word
// perplexity is exactly e^{−r} = 198.
func TestRollingWordsBytes(t *testing.T) {
	// A tokenizer without BOS adds nothing, and the prefix is EOS.
	tok := newTok()
	tok.noBOS = true
	task := readTask(t, "t.jsonl", `{"text": " é "}`)
	tr := run(t, newModel(8), tok, Options{}, task).Tasks[0]
	checkMetric(t, tr, "word_perplexity,none", 198, 0, false)
	checkMetric(t, tr, "byte_perplexity,none", math.Exp(-3*r/4), 0, false)
	checkMetric(t, tr, "bits_per_byte,none", -3*r/4/math.Ln2, 0, false)

	task = readTask(t, "t.jsonl", `{"text": ""}`)
	_, err := Run(context.Background(), newModel(8), newTok(), []*Task{task}, Options{})
	if want := "task t: every text is empty (or every page_bytes is 0): byte perplexity divides by the number of bytes"; err == nil || err.Error() != want {
		t.Errorf("empty text: %v, want %s", err, want)
	}

	// page_words and page_bytes (WikiText's raw page, counted before
	// lm-eval's detokenizer) replace the counts of the text; a document
	// without them still counts its text.
	task = readTask(t, "t.jsonl", `{"text": " é ", "page_words": 6, "page_bytes": 12}
{"text": " é "}`)
	tr = run(t, newModel(8), tok, Options{}, task).Tasks[0]
	checkMetric(t, tr, "word_perplexity,none", math.Exp(-6*r/9), 0, false)
	checkMetric(t, tr, "byte_perplexity,none", math.Exp(-6*r/16), 0, false)
	if s := tr.Samples[0]; s.Get("words") != 6 || s.Get("bytes") != 12 {
		t.Errorf("sample %v, want words 6, bytes 12", s)
	}
}

// A request longer than MaxLength()+1 gets one note per task; the model
// sees the last L tokens, and the bigram scores are unchanged.
func TestTruncationNote(t *testing.T) {
	m := newModel(3)
	task := readTask(t, "t.jsonl", `{"context": "abcd", "target": "e"}
{"context": "ab", "target": "c"}
{"context": "abcdef", "target": "g"}`)
	tr := run(t, m, newTok(), Options{}, task).Tasks[0]
	want := []string{"2 of 3 requests were left-truncated to 3 tokens, as lm-eval does"}
	if !slices.Equal(tr.Notes, want) {
		t.Errorf("notes %q, want %q", tr.Notes, want)
	}
	if got := m.seen[0]; !slices.Equal(got, newTok().ids("bcd")) {
		t.Errorf("the model saw %v", got)
	}
	checkMetric(t, tr, "acc,none", 1, 0, true)
}

func TestGenerate(t *testing.T) {
	tok := newTok()
	m := newModel(300)
	m.scripts = map[string]string{
		"Question: one\nAnswer:":   " The answer is 42.\n#### 42\n\nQuestion: next one",
		"Question: two\nAnswer:":   " #### 1,000</s> Question:",
		"Question: three\nAnswer:": " The total is $18. So",
	}
	task := readTask(t, "gsm8k.jsonl", `{"context": "Question: one\nAnswer:", "answer": "Some reasoning\n#### 42"}
{"context": "Question: two\nAnswer:", "answer": "#### 1000"}
{"context": "Question: three\nAnswer:", "answer": "#### 18"}
`)
	tr := run(t, m, tok, Options{}, task).Tasks[0]
	for i, c := range []struct {
		gen, strict, flex string
		ids               string // the generated tokens' text, EOS as </s>
		em                [2]float64
	}{
		// Stopped by "Question:", which the text is then cut before.
		{" The answer is 42.\n#### 42\n\n", "42", "42", " The answer is 42.\n#### 42\n\nQuestion:", [2]float64{1, 1}},
		// Stopped by EOS, which is kept in the ids; "," is ignored.
		{" #### 1,000", "1,000", "1,000", " #### 1,000</s>", [2]float64{1, 1}},
		// No "####": strict is invalid; flexible takes "$18.", whose "$"
		// and final "." are ignored.
		{" The total is $18. So", "[invalid]", "$18.", " The total is $18. So", [2]float64{0, 1}},
	} {
		s := tr.Samples[i]
		wantIDs, _ := tok.Encode(c.ids, false)
		if s.Get("generation") != c.gen || !slices.Equal(s.Get("generated_ids").([]int), wantIDs) {
			t.Errorf("doc %d: generation %q ids %v, want %q %v", i, s.Get("generation"), s.Get("generated_ids"), c.gen, wantIDs)
		}
		ex := s.Get("extracted").(object)
		em := s.Get("exact_match").(object)
		if ex[0].Value != c.strict || ex[1].Value != c.flex || em[0].Value != c.em[0] || em[1].Value != c.em[1] {
			t.Errorf("doc %d: extracted %v exact_match %v, want %q %q %v", i, ex, em, c.strict, c.flex, c.em)
		}
	}
	// strict: (1, 1, 0) = 2/3 ± 1/3; flexible: (1, 1, 1) = 1 ± 0.
	checkMetric(t, tr, "exact_match,strict-match", 2.0/3, 1.0/3, true)
	checkMetric(t, tr, "exact_match,flexible-extract", 1, 0, true)
	for key, want := range map[string][]float64{"exact_match,strict-match": {1, 1, 0}, "exact_match,flexible-extract": {1, 1, 1}} {
		if got, ok := tr.DocValues(key); !ok || !slices.Equal(got, want) {
			t.Errorf("DocValues(%s) = %v %v, want %v", key, got, ok, want)
		}
	}
	req := m.genCalls[0][0]
	wantCtx, _ := tok.Encode("Question: one\nAnswer:", true)
	if !slices.Equal(req.Context, wantCtx) || req.MaxTokens != 256 || !slices.Equal(req.EOS, []int{eosID}) || req.Stop == nil {
		t.Errorf("request %+v", req)
	}
	if tr.Main != "exact_match,strict-match" || !tr.HasBaseline || tr.Baseline != 0 {
		t.Errorf("main %s baseline %v %v", tr.Main, tr.Baseline, tr.HasBaseline)
	}
}

func TestGenerateOptions(t *testing.T) {
	tok := newTok()
	m := newModel(10)
	m.scripts = map[string]string{
		"":  "#### 12345",
		"Q": "#### 5\nmore",
	}
	task := readTask(t, "g.jsonl", `{"task": {"kind": "generate", "max_gen_toks": 8, "until": ["\n"]}}
{"context": "", "answer": "#### 12345"}
{"context": "Q", "answer": "#### 5"}
`)
	tr := run(t, m, tok, Options{}, task).Tasks[0]
	// doc 0: an empty context is [BOS]; generation stops at 8 tokens,
	// "#### 123", which matches neither answer.
	if c := m.genCalls[0][0].Context; !slices.Equal(c, []int{bosID}) || m.genCalls[0][0].MaxTokens != 8 {
		t.Errorf("request %+v", m.genCalls[0][0])
	}
	if g := tr.Samples[0].Get("generation"); g != "#### 123" {
		t.Errorf("doc 0 generation %q", g)
	}
	// doc 1: stopped by the custom "\n" and cut there.
	if g := tr.Samples[1].Get("generation"); g != "#### 5" {
		t.Errorf("doc 1 generation %q", g)
	}
	checkMetric(t, tr, "exact_match,strict-match", 0.5, 0.5, true)
	checkMetric(t, tr, "exact_match,flexible-extract", 0.5, 0.5, true)
	// L = 10 less max_gen_toks 8 leaves 2 context tokens: "Q" is <s> Q,
	// which fits; [BOS] fits.
	if len(tr.Notes) != 0 {
		t.Errorf("notes %q", tr.Notes)
	}
	m = newModel(9)
	m.scripts = map[string]string{"": "1", "Q": "2"}
	tr = run(t, m, tok, Options{}, task).Tasks[0]
	if want := []string{"1 of 2 requests were left-truncated to 1 tokens (the maximum length 9 less max_gen_toks 8), as lm-eval does"}; !slices.Equal(tr.Notes, want) {
		t.Errorf("notes %q, want %q", tr.Notes, want)
	}
}

func TestClassification(t *testing.T) {
	tok := pairTok{newTok()}
	m := newModel(16)
	task := readTask(t, "cls.jsonl", `{"text": "aab", "label": 0}
{"text": "bc", "label": 2}
{"text": "a", "text_pair": "c", "label": 2}
`)
	tr := run(t, m, tok, Options{}, task).Tasks[0]
	// Logits count a, b, c; each type-1 id adds 0.5 to class 2.
	// doc 0: [2 1 0] → 0, right. doc 1: [0 1 1] → 1 (the first maximum),
	// wrong. doc 2: <s> a </s> c </s>, types 0 0 0 1 1: [1 0 2] → 2, right.
	// acc = 2/3 ± 1/3; baseline 1/3 classes.
	checkMetric(t, tr, "acc,none", 2.0/3, 1.0/3, true)
	if got, ok := tr.DocValues("acc,none"); !ok || !slices.Equal(got, []float64{1, 0, 1}) {
		t.Errorf("DocValues(acc) = %v %v, want [1 0 1]", got, ok)
	}
	for i, want := range []int{0, 1, 2} {
		if got := tr.Samples[i].Get("pred"); got != want {
			t.Errorf("doc %d pred %v, want %d", i, got, want)
		}
	}
	if !slices.Equal(tr.Samples[2].Get("logits").([]float32), []float32{1, 0, 2}) {
		t.Errorf("doc 2 logits %v", tr.Samples[2].Get("logits"))
	}
	r0 := m.clsCalls[0][0]
	if !slices.Equal(r0.IDs, append([]int{bosID}, newTok().ids("aab")...)) || r0.TypeIDs != nil {
		t.Errorf("single text request %+v", r0)
	}
	if !near(tr.Baseline, 1.0/3) {
		t.Errorf("baseline %v", tr.Baseline)
	}

	// Without a PairEncoder a pair is an error naming the document.
	_, err := Run(context.Background(), newModel(16), newTok(), []*Task{task}, Options{})
	if want := `task cls: cls.jsonl:3: the document has a "text_pair" but the tokenizer cannot encode pairs (it has no EncodePair method)`; err == nil || err.Error() != want {
		t.Errorf("no PairEncoder: %v, want %s", err, want)
	}
	// A label the model has no class for.
	task = readTask(t, "cls.jsonl", `{"text": "a", "label": 3}`)
	_, err = Run(context.Background(), newModel(16), tok, []*Task{task}, Options{})
	if want := `task cls: cls.jsonl:1: field "label" is 3 but the model has 3 classes: it must be 0 to 2`; err == nil || err.Error() != want {
		t.Errorf("label out of range: %v, want %s", err, want)
	}
}

func TestProgress(t *testing.T) {
	task := readTask(t, "p.jsonl", `{"context": "ab", "target": "cd"}
{"context": "ab", "target": "ce"}`)
	var calls []string
	opts := Options{Progress: func(name string, done, total int) {
		calls = append(calls, name+":"+strings.Repeat("x", done)+"/"+strings.Repeat("x", total))
	}}
	run(t, newModel(8), newTok(), opts, task)
	if want := []string{"p:x/xx", "p:xx/xx"}; !slices.Equal(calls, want) {
		t.Errorf("progress %q, want %q", calls, want)
	}
}

// Partial evaluation (lm-eval's multiple-input tasks, WinoGrande): option
// i is (contexts[i], delimiter + continuation). acc is the argmax of the
// log-likelihoods; acc_norm divides each by its context's length, since
// lm-eval's doc_to_choice gives the contexts there.
func TestPartialEvaluation(t *testing.T) {
	tok := newTok()
	m := newModel(16)
	task := readTask(t, "wino.jsonl", `{"task": {"kind": "multiple_choice", "target_delimiter": ""}}
{"contexts": ["a", "b"], "continuation": "c", "gold": 1}
{"contexts": ["b", "aaaaaaaa"], "continuation": "c", "gold": 1}
`)
	tr := run(t, m, tok, Options{}, task).Tasks[0]
	want := []LLRequest{
		{[]int{bosID, tok.id("a")}, tok.ids("c")}, {[]int{bosID, tok.id("b")}, tok.ids("c")},
		{[]int{bosID, tok.id("b")}, tok.ids("c")}, {append([]int{bosID}, tok.ids("aaaaaaaa")...), tok.ids("c")},
	}
	if len(m.llCalls) != 1 || len(m.llCalls[0]) != len(want) {
		t.Fatalf("model calls %v, want one call of %d requests", m.llCalls, len(want))
	}
	for i, w := range want {
		if got := m.llCalls[0][i]; !slices.Equal(got.Context, w.Context) || !slices.Equal(got.Continuation, w.Continuation) {
			t.Errorf("request %d = %v, want %v", i, got, w)
		}
	}
	// Doc 0: a→c is r, b→c is q: acc and acc_norm pick 1 = gold.
	// Doc 1: lls [q, r]: acc picks 0; acc_norm compares q/1 = −0.693 with
	// r/8 = −0.661 and picks 1 = gold.
	if lls := tr.Samples[1].Get("loglikelihoods").([]float64); !near(lls[0], q) || !near(lls[1], r) {
		t.Errorf("doc 1 lls %v, want [%v %v]", lls, q, r)
	}
	checkMetric(t, tr, "acc,none", 0.5, 0.5, true)
	checkMetric(t, tr, "acc_norm,none", 1, 0, true)
	if tr.Baseline != 0.5 {
		t.Errorf("baseline %v, want 0.5", tr.Baseline)
	}

	// Without a header the shape alone says multiple_choice, and the
	// default delimiter " " goes before the continuation.
	m = newModel(16)
	task = readTask(t, "wino.jsonl", `{"contexts": ["ab", "x"], "continuation": "c", "gold": 0}`)
	if task.Kind != multipleChoiceKind {
		t.Fatalf("inferred kind %s, want multiple_choice", task.Kind.Name)
	}
	run(t, m, tok, Options{}, task)
	if got := m.llCalls[0][1]; !slices.Equal(got.Context, []int{bosID, tok.id("x")}) || !slices.Equal(got.Continuation, tok.ids(" c")) {
		t.Errorf("request 1 = %v, want <s> x | ␠ c", got)
	}
}

// max_gen_toks at or above the maximum length leaves no room for the
// context: lm-eval 0.4.13 refuses it, and so does eval, before any work.
func TestGenerateNoRoom(t *testing.T) {
	task := readTask(t, "gen.jsonl", `{"task": {"kind": "generate", "max_gen_toks": 16}}
{"context": "a", "answer": "1"}`)
	m := newModel(16)
	_, err := Run(context.Background(), m, newTok(), []*Task{task}, Options{})
	want := `task gen: gen.jsonl: max_gen_toks 16 is not less than the model's maximum length 16, which leaves no room for the context: lm-eval 0.4.13 refuses this configuration; lower the header's "max_gen_toks" or raise --max-length`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	if len(m.genCalls) != 0 {
		t.Errorf("the model was asked to generate")
	}
}
