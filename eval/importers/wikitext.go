package importers

import (
	"regexp"
	"strings"

	"github.com/painterc/painterc/eval"
)

// WikiText-2 raw, as lm-eval's wikitext task: one document per article,
// its text lm-eval's wikitext_detokenizer(page), with page_words and
// page_bytes counted on the page before detokenizing, as lm-eval's
// process_results counts them (the scorer reads them when present).
//
// Two exports are accepted, told apart by the first record's fields:
//   - {"page"}: EleutherAI/wikitext_document_level wikitext-2-raw-v1, the
//     dataset lm-eval reads, one article a record;
//   - {"text"}: the line-level Salesforce/wikitext wikitext-2-raw-v1, one
//     line of wiki.test.raw a record (with its "\n"; a blank line as ""). The
//     lines are put back together (a blank line of the raw files is " ") and
//     cut into articles as wikitext_document_level cuts them: before each
//     top-level heading " = Title = ", dropping pages that are only
//     whitespace.
var wikitext = &Benchmark{
	Name: "wikitext", Dataset: "EleutherAI/wikitext_document_level wikitext-2-raw-v1", Split: "test",
	Fields:  []string{"page (or line-level text)"},
	Header:  Header{Kind: "rolling", Category: "semantic"},
	convert: wikitextDocs,
}

type rollingDoc struct {
	Text      string `json:"text"`
	PageWords int    `json:"page_words"`
	PageBytes int    `json:"page_bytes"`
}

func wikitextDocs(rows []Row) ([]any, error) {
	if !rows[0].has("page") && rows[0].has("text") {
		return wikitextFromLines(rows)
	}
	var docs []any
	for _, r := range rows {
		page, err := r.str("page")
		if err != nil {
			return nil, err
		}
		docs = append(docs, wikitextDoc(page))
	}
	return docs, nil
}

func wikitextDoc(page string) rollingDoc {
	return rollingDoc{Text: wikitextDetokenize(page), PageWords: eval.WordCount(page), PageBytes: len(page)}
}

// wikitextFromLines rebuilds the raw file from line records and cuts it
// into articles.
func wikitextFromLines(rows []Row) ([]any, error) {
	lines := make([]string, 0, len(rows)+1)
	for _, r := range rows {
		t, err := r.str("text")
		if err != nil {
			return nil, err
		}
		if strings.Count(t, "\n") > 1 || (strings.Contains(t, "\n") && !strings.HasSuffix(t, "\n")) {
			return nil, r.errorf("text", "holds more than one line: line-level WikiText has one line a record (for whole articles use the document-level export, field \"page\")")
		}
		t = strings.TrimSuffix(t, "\n")
		if t == "" {
			t = " " // the raw files' blank lines are one space, which the export drops
		}
		lines = append(lines, t)
	}
	lines = append(lines, "") // the raw file ends with a newline: split("\n") ends with ""
	var docs []any
	var page []string
	flush := func() {
		p := strings.Join(page, "\n")
		if pyStrip(p) != "" {
			docs = append(docs, wikitextDoc(p))
		}
		page = page[:0]
	}
	for _, l := range lines {
		h := pyStrip(strings.ReplaceAll(strings.ReplaceAll(l, "= = =", "==="), "= =", "=="))
		if strings.HasPrefix(h, "= ") && strings.HasSuffix(h, " =") {
			flush()
		}
		page = append(page, l)
	}
	flush()
	return docs, nil
}

// The regexes of lm-eval's wikitext_detokenizer, in its order; \s is
// Python's (see pyRegexp). The first is a literal in lm-eval: it replaces
// the text "/' <digit>/" by the text "/'[0-9]/".
var (
	wikiSlashQuote     = pyRegexp(`/' [0-9]/`)
	wikiBracketRegexps = []struct {
		re   *regexp.Regexp
		repl string
	}{
		{pyRegexp(`\(\s*([^\)]*?)\s*\)`), "(${1})"},
		{pyRegexp(`\[\s*([^\]]*?)\s*\]`), "[${1}]"},
		{pyRegexp(`\{\s*([^}]*?)\s*\}`), "{${1}}"},
		{pyRegexp(`"\s*([^"]*?)\s*"`), `"${1}"`},
		{pyRegexp(`'\s*([^']*?)\s*'`), "'${1}'"},
	}
)

// wikitextDetokenize is lm-eval's wikitext_detokenizer.
func wikitextDetokenize(s string) string {
	s = strings.ReplaceAll(s, "s '", "s'")
	s = wikiSlashQuote.ReplaceAllLiteralString(s, "/'[0-9]/")
	for _, r := range [][2]string{
		{" @-@ ", "-"}, {" @,@ ", ","}, {" @.@ ", "."},
		{" : ", ": "}, {" ; ", "; "}, {" . ", ". "}, {" ! ", "! "}, {" ? ", "? "}, {" , ", ", "},
	} {
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	for _, b := range wikiBracketRegexps {
		s = b.re.ReplaceAllString(s, b.repl)
	}
	for _, r := range [][2]string{
		{"= = = =", "===="}, {"= = =", "==="}, {"= =", "=="},
		{" \u00b0 ", "\u00b0"}, {" \n", "\n"}, {"\n ", "\n"}, {" N ", " 1 "}, {" 's", "'s"},
	} {
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	return s
}
