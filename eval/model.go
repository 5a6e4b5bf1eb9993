package eval

import "context"

// LLRequest is one lm-eval loglikelihood request, already in tokens.
// Context is never empty: an empty text context becomes [prefix token]
// before the request is made. The model scores every token of Continuation
// given everything before it.
type LLRequest struct {
	Context      []int
	Continuation []int
}

// LLResult is what lm-eval's loglikelihood returns for one request: the
// summed log-probability of the continuation's tokens and whether each of
// them was the argmax at its position.
type LLResult struct {
	LogLikelihood float64
	IsGreedy      bool
}

// GenRequest asks for greedy decoding after Context.
type GenRequest struct {
	Context   []int
	MaxTokens int
	// EOS lists the token ids that end generation (the EOS token is kept
	// in the result).
	EOS []int
	// Stop reports whether generation should end after these generated
	// tokens (eval decodes them and looks for the task's `until` strings).
	// Nil means never.
	Stop func(generated []int) bool
}

// GenResult holds the generated tokens: the new ones only, with a final EOS
// included when one was generated.
type GenResult struct {
	Tokens []int
}

// ClassRequest is one sequence for a classifier (an encoder with a
// classification head): token ids with the tokenizer's special tokens, and
// token type ids (nil when the model has none or the input has one segment).
type ClassRequest struct {
	IDs     []int
	TypeIDs []int
}

// Progress is called with the number of requests finished so far.
// It may be nil.
type Progress func(done int)

// Model is what a task kind runs on. Implementations batch and order the
// requests as they like (lm-eval sorts longest first) but return results in
// request order. A causal model truncates as lm-eval does: it sees
// (Context+Continuation)[-(L+1):][:-1] for L = MaxLength() and scores the
// last len(Continuation) positions.
type Model interface {
	// MaxLength is the longest input the model takes, in tokens.
	MaxLength() int
	// VocabSize is the size of the model's output vocabulary.
	VocabSize() int
	LogLikelihood(ctx context.Context, reqs []LLRequest, progress Progress) ([]LLResult, error)
	Generate(ctx context.Context, reqs []GenRequest, progress Progress) ([]GenResult, error)
	Classify(ctx context.Context, reqs []ClassRequest, progress Progress) ([][]float32, error)
}
