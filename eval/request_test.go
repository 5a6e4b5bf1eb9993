package eval

import (
	"regexp"
	"slices"
	"testing"
)

func TestFormRequest(t *testing.T) {
	tok := newTok()
	id := tok.id
	cat := func(xs ...[]int) []int { return slices.Concat(xs...) }
	for _, c := range []struct {
		name          string
		noBOS         bool
		context, cont string
		wantCtx       []int
		wantCont      []int
	}{
		{"plain", false, "ab", "cd", cat([]int{bosID}, tok.ids("ab")), tok.ids("cd")},
		// The context's trailing space moves to the continuation, where it
		// merges with "z" into the token " z" as the joint text does.
		// Without the move the context would be <s> x " " and the
		// continuation "z".
		{"trailing space moves", false, "x ", "z", []int{bosID, id("x")}, []int{id(" z")}},
		{"trailing whitespace runs move", false, "ab \n ", "c", cat([]int{bosID}, tok.ids("ab")), tok.ids(" \n c")},
		{"merge inside the continuation", false, "a", "xyz", []int{bosID, id("a")}, []int{id("xy"), id("z")}},
		// An empty context becomes [prefix]; the continuation is encoded
		// without special tokens.
		{"empty context", false, "", "ab", []int{bosID}, tok.ids("ab")},
		// ...and loses a leading prefix token it brought itself.
		{"empty context, BOS in text", false, "", "<s>ab", []int{bosID}, tok.ids("ab")},
		{"empty context keeps a space", false, "", " ab", []int{bosID}, tok.ids(" ab")},
		// Without BOS the prefix is EOS, and the context gets no specials.
		{"no BOS", true, "ab", "c", tok.ids("ab"), tok.ids("c")},
		{"no BOS, empty context", true, "", "ab", []int{eosID}, tok.ids("ab")},
		{"no BOS, empty context, EOS in text", true, "", "</s>ab", []int{eosID}, tok.ids("ab")},
		// A whitespace-only context is not "empty" to lm-eval: the space
		// moves and the context encodes to just BOS.
		{"whitespace context", false, "  ", "a", []int{bosID}, tok.ids("  a")},
	} {
		t.Run(c.name, func(t *testing.T) {
			tk := newTok()
			tk.noBOS = c.noBOS
			got, err := FormRequest(tk, c.context, c.cont)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Context, c.wantCtx) || !slices.Equal(got.Continuation, c.wantCont) {
				t.Errorf("got %v | %v, want %v | %v", got.Context, got.Continuation, c.wantCtx, c.wantCont)
			}
		})
	}
}

func TestFormRequestErrors(t *testing.T) {
	tok := newTok()
	tok.noBOS = true
	for _, c := range []struct{ context, cont, want string }{
		{"", "", `the context is empty and the continuation "" encodes to no tokens: there is nothing to score`},
		{"  ", "a", `the context "" encodes to no tokens: a causal model needs at least one token before the continuation`},
		{"a", "ü", `encoding "aü": no token for "\xc3"`},
		// The continuation is the joint encoding after the context's
		// length: "x"+"y" encodes as "xy", so the context x leaves nothing
		// for the continuation, and lm-eval 0.4.13 stops on an assertion.
		{"x", "y", `the continuation "y" has no tokens of its own (it is empty, or its text joins the context's last token): lm-eval 0.4.13 stops with an assertion on such a request, so it has no lm-eval score; change the document`},
		{"x", "", `the continuation "" has no tokens of its own (it is empty, or its text joins the context's last token): lm-eval 0.4.13 stops with an assertion on such a request, so it has no lm-eval score; change the document`},
		{"", "</s>", `the context is empty and the continuation "</s>" is only the prefix token: lm-eval 0.4.13 stops with an assertion on a request with nothing to score; change the document`},
	} {
		_, err := FormRequest(tok, c.context, c.cont)
		if err == nil || err.Error() != c.want {
			t.Errorf("FormRequest(%q, %q) = %v, want %s", c.context, c.cont, err, c.want)
		}
	}
}

// The windows below are worked out by hand from get_rolling_token_windows
// (context_len 1) and make_disjoint_window, and agree with running them.
func TestRollingWindows(t *testing.T) {
	type w = LLRequest
	toks := []int{10, 11, 12, 13, 14, 15, 16}
	for _, c := range []struct {
		name   string
		toks   []int
		L      int
		prefix int
		want   []w
	}{
		// L=3, 7 tokens. First window: [P]+t[:2] predicting t[:3], made
		// disjoint to [P] | 10 11 12. Then 3 predicted; the next window
		// ends at 6, predicting t[3:6] = 13 14 15 from t[2:5] = 12 13 14,
		// trimmed by 2 to 12. Then 6 predicted; the last predicts t[6:7] =
		// 16 from t[3:6] = 13 14 15, trimmed by 0. Each input ctx+cont is
		// at most L+1 = 4 tokens, and 10..16 are each predicted once.
		{"L=3", toks, 3, 1, []w{
			{[]int{1}, []int{10, 11, 12}},
			{[]int{12}, []int{13, 14, 15}},
			{[]int{13, 14, 15}, []int{16}},
		}},
		// L=1: every token predicted from the one before it.
		{"L=1", toks[:3], 1, 2, []w{
			{[]int{2}, []int{10}},
			{[]int{10}, []int{11}},
			{[]int{11}, []int{12}},
		}},
		// Shorter than L: one window.
		{"short", toks[:2], 5, 1, []w{{[]int{1}, []int{10, 11}}}},
		// Exactly L: one window.
		{"exact", toks[:3], 3, 1, []w{{[]int{1}, []int{10, 11, 12}}}},
		// L+1 tokens: the last one predicted from the L before it.
		{"L+1", toks[:4], 3, 1, []w{{[]int{1}, []int{10, 11, 12}}, {[]int{10, 11, 12}, []int{13}}}},
		{"none", nil, 3, 1, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := RollingWindows(c.toks, c.prefix, c.L)
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for i := range got {
				if !slices.Equal(got[i].Context, c.want[i].Context) || !slices.Equal(got[i].Continuation, c.want[i].Continuation) {
					t.Errorf("window %d = %v, want %v", i, got[i], c.want[i])
				}
				if n := len(got[i].Context) + len(got[i].Continuation); n > c.L+1 {
					t.Errorf("window %d has %d tokens, more than L+1", i, n)
				}
			}
		})
	}
}

// WordCount is len(re.split(r"\s+", s)); the counts are Python's.
func TestWordCount(t *testing.T) {
	for _, c := range []struct {
		s    string
		want int
	}{
		{"", 1}, {" ", 2}, {"a", 1}, {" a ", 3}, {"a  b\tc\n", 4},
		{"a\x1cb", 2},         // Python's \s includes the separators U+001C..U+001F
		{"a\u00a0b", 2},       // and no-break space
		{"a\vb", 2},           // and vertical tab, which Go's \s lacks
		{"\u3000x\u200by", 2}, // ideographic space yes, zero-width space no
	} {
		if got := WordCount(c.s); got != c.want {
			t.Errorf("WordCount(%q) = %d, want %d", c.s, got, c.want)
		}
	}
}

func TestFindAll(t *testing.T) {
	flex := regexp.MustCompile(defaultFlexibleRegex)
	strict := regexp.MustCompile(defaultAnswerRegex)
	for _, c := range []struct {
		re   *regexp.Regexp
		s    string
		sel  int
		want string
	}{
		{strict, "so #### 42 and #### 43", 0, "42"},        // first match, group 1
		{strict, "no answer", 0, "[invalid]"},              // no match
		{flex, "The answer is 42.\n#### 42\n\n", -1, "42"}, // matches 42. and 42
		{flex, "The answer is 42.\n#### 42\n\n", 0, "42."},
		{flex, "I have 3 apples and $1,000.", -1, "$1,000."}, // group 1 of the last
		{flex, "I have 3 apples and $1,000.", 0, "3"},        // group 2 when group 1 is empty
		{flex, "none here", -1, "[invalid]"},
		{regexp.MustCompile(`\s*a+\s*`), " x  aa  ", 0, "aa"},  // no groups: the whole match, stripped
		{regexp.MustCompile(`(a)?(b)?c`), "c", 0, "[invalid]"}, // every group empty
	} {
		if got := findAll(c.re, c.s, c.sel); got != c.want {
			t.Errorf("findAll(%s, %q, %d) = %q, want %q", c.re, c.s, c.sel, got, c.want)
		}
	}
}

func TestExactMatch(t *testing.T) {
	task := readTask(t, "g.jsonl", `{"context": "Q", "answer": "#### 1"}`)
	c := task.gen
	for _, x := range []struct {
		pred, ref string
		want      bool
	}{
		{"42", "Some reasoning\n#### 42", true},
		{"1,000", "#### 1000", true}, // "," removed
		{"$18.", "#### 18", true},    // "$" and the final "." removed
		{"18.5", "#### 18.5", true},  // only a final "."
		{"18.5", "#### 185", false},
		{"ABC", "#### abc", true}, // case ignored
		{"[invalid]", "#### 3", false},
	} {
		if got := c.exactMatch(x.pred, x.ref); got != x.want {
			t.Errorf("exactMatch(%q, %q) = %v, want %v", x.pred, x.ref, got, x.want)
		}
	}
	c.ignoreCase = false
	if c.exactMatch("ABC", "#### abc") {
		t.Error("ignore_case false still ignores case")
	}
}

func TestCutAtUntil(t *testing.T) {
	for _, c := range []struct {
		s    string
		want string
	}{
		{"ab Question: cd </s>", "ab "},
		{"ab </s> Question:", "ab "}, // the earliest stop string wins, whatever its order
		{"ab", "ab"},
	} {
		if got := cutAtUntil(c.s, defaultUntil); got != c.want {
			t.Errorf("cutAtUntil(%q) = %q, want %q", c.s, got, c.want)
		}
	}
}
