package importers

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Each rule of lm-eval's wikitext_detokenizer, worked out by hand.
func TestWikitextDetokenize(t *testing.T) {
	for in, want := range map[string]string{
		"the Smiths ' house":        "the Smiths' house",
		"a /' 5/ b":                 "a /'[0-9]/ b", // lm-eval's literal replacement
		"1 @,@ 200 and 3 @.@ 5":     "1,200 and 3.5",
		"well @-@ known":            "well-known",
		"a : b ; c . d ! e ? f , g": "a: b; c. d! e? f, g",
		"( a b )":                   "(a b)",
		"[ \u00a0x ]":               "[x]", // Python's \s takes the no-break space
		"{ x }":                     "{x}",
		"\" quoted  \"":             "\"quoted\"",
		"' single '":                "'single'",
		"= = = = Deep = = = =":      "==== Deep ====",
		"= = Sub = =":               "== Sub ==",
		"40 ° N":                    "40°N",
		"end \n next":               "end\nnext",
		"the N years":               "the 1 years",
		"John 's":                   "John's",
	} {
		if got := wikitextDetokenize(in); got != want {
			t.Errorf("detokenize(%q) = %q, want %q", in, got, want)
		}
	}
}

// The line-level export, put back together and cut into articles, gives
// the documents of the document-level export.
func TestWikitextLineLevel(t *testing.T) {
	pages := convertFile(t, "wikitext", "input.jsonl")
	lines := convertFile(t, "wikitext", "lines.jsonl")
	if len(pages.Docs) != 2 {
		t.Fatalf("%d articles, want 2", len(pages.Docs))
	}
	if d := cmp.Diff(pages.Docs, lines.Docs); d != "" {
		t.Errorf("line-level documents differ from the page-level ones (-pages +lines):\n%s", d)
	}
}
