package eval

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/painterc/painterc/internal/clip"
)

// FormRequest turns a (context, continuation) pair of texts into a
// loglikelihood request exactly as lm-eval's TemplateLM does for a causal
// model:
//
//   - An empty context becomes [Prefix()], and the continuation is encoded
//     alone without special tokens; when that encoding starts with the
//     prefix token, that token serves as the context instead (lm-eval
//     compares with the prefix token, which is BOS when there is one).
//   - Otherwise the context's trailing whitespace (Python's str.isspace)
//     moves to the front of the continuation; context+continuation and the
//     context alone are encoded with the tokenizer's default special
//     tokens, and the continuation's tokens are the joint encoding after
//     the context encoding's length (lm-eval's _encode_pair). The context
//     tokens are the context's own encoding.
//
// A context that encodes to no tokens (whitespace only, with a tokenizer
// that adds no special tokens) is an error: lm-eval would score its first
// token with nothing before it. So is a continuation left with no tokens
// of its own (empty, or its text merged into the context's last token):
// lm-eval 0.4.13 stops on it with an assertion in _loglikelihood_tokens,
// so no score of it could be lm-eval's.
func FormRequest(tok Tokenizer, context, continuation string) (LLRequest, error) {
	if context == "" {
		cont, err := tok.Encode(continuation, false)
		if err != nil {
			return LLRequest{}, fmt.Errorf("encoding the continuation %s: %v", quoteShort(continuation), err)
		}
		if len(cont) == 0 {
			return LLRequest{}, fmt.Errorf("the context is empty and the continuation %s encodes to no tokens: there is nothing to score", quoteShort(continuation))
		}
		p := tok.Prefix()
		if cont[0] == p {
			cont = cont[1:]
		}
		if len(cont) == 0 {
			return LLRequest{}, fmt.Errorf("the context is empty and the continuation %s is only the prefix token: lm-eval 0.4.13 stops with an assertion on a request with nothing to score; change the document", clip.Quote(continuation))
		}
		return LLRequest{Context: []int{p}, Continuation: cont}, nil
	}
	if n := trailingSpace(context); n > 0 {
		continuation = context[len(context)-n:] + continuation
		context = context[:len(context)-n]
	}
	whole, err := tok.Encode(context+continuation, true)
	if err != nil {
		return LLRequest{}, fmt.Errorf("encoding %s: %v", quoteShort(context+continuation), err)
	}
	ctx, err := tok.Encode(context, true)
	if err != nil {
		return LLRequest{}, fmt.Errorf("encoding the context %s: %v", quoteShort(context), err)
	}
	if len(ctx) == 0 {
		return LLRequest{}, fmt.Errorf("the context %s encodes to no tokens: a causal model needs at least one token before the continuation", quoteShort(context))
	}
	cont := whole[min(len(ctx), len(whole)):]
	if len(cont) == 0 {
		return LLRequest{}, fmt.Errorf("the continuation %s has no tokens of its own (it is empty, or its text joins the context's last token): lm-eval 0.4.13 stops with an assertion on such a request, so it has no lm-eval score; change the document", clip.Quote(continuation))
	}
	return LLRequest{Context: ctx, Continuation: cont}, nil
}

// RollingWindows splits the tokens of a whole text into lm-eval's disjoint
// rolling windows for a model of maximum length maxLen: utils.py's
// get_rolling_token_windows with context_len 1, then make_disjoint_window.
// The first window is [prefix] + tokens[:maxLen-1] predicting
// tokens[:maxLen]; each later window predicts the next min(rest, maxLen)
// tokens, its context the tokens before them that make the window's input
// exactly maxLen+1 tokens long. Every token is predicted exactly once.
// No tokens give no windows.
func RollingWindows(tokens []int, prefix, maxLen int) []LLRequest {
	if len(tokens) == 0 || maxLen < 1 {
		return nil
	}
	var out []LLRequest
	first := min(maxLen, len(tokens))
	ctx := append([]int{prefix}, tokens[:first-1]...)
	out = append(out, disjoint(ctx, tokens[:first]))
	predicted := first
	for predicted < len(tokens) {
		n := min(len(tokens)-predicted, maxLen)
		end := predicted + n
		out = append(out, disjoint(tokens[end-maxLen-1:end-1], tokens[end-n:end]))
		predicted += n
	}
	return out
}

// disjoint is make_disjoint_window: the context loses its last
// len(pred)-1 tokens, which pred scores.
func disjoint(ctx, pred []int) LLRequest {
	c := ctx[:len(ctx)-(len(pred)-1)]
	return LLRequest{Context: append([]int(nil), c...), Continuation: append([]int(nil), pred...)}
}

// pyIsSpace is Python's str.isspace for one character, which is what
// Python's \s, str.strip and str.rstrip use: Unicode White_Space plus the
// separators U+001C..U+001F.
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// trailingSpace returns the byte length of s's trailing whitespace.
func trailingSpace(s string) int {
	return len(s) - len(strings.TrimRightFunc(s, pyIsSpace))
}

// pyStrip is Python's str.strip().
func pyStrip(s string) string { return strings.TrimFunc(s, pyIsSpace) }

// WordCount is len(re.split(r"\s+", text)) in Python: one more than the
// number of maximal whitespace runs, so that whitespace at either end
// counts an empty word ("" is 1 word, " a " is 3).
func WordCount(text string) int {
	n := 1
	in := false
	for _, r := range text {
		sp := pyIsSpace(r)
		if sp && !in {
			n++
		}
		in = sp
	}
	return n
}

// pyLen is Python's len of a str: code points.
func pyLen(s string) int { return utf8.RuneCountInString(s) }

// clip quotes s for an error message, shortened when long.
func quoteShort(s string) string {
	if r := []rune(s); len(r) > 40 {
		return fmt.Sprintf("%q…", string(r[:40]))
	}
	return fmt.Sprintf("%q", s)
}
