package eval

// Tokenizer is what forming requests needs from a tokenizer. The package
// tokenizer (Hugging Face tokenizer.json) implements it.
type Tokenizer interface {
	// Encode returns the ids of text. addSpecial adds the tokenizer's
	// default special tokens (its post-processor's template, such as a
	// leading BOS), as Hugging Face's encode does by default.
	Encode(text string, addSpecial bool) ([]int, error)
	// Decode turns ids back into text, leaving out special tokens.
	Decode(ids []int) string
	// Prefix is lm-eval's prefix token: BOS when the tokenizer has one,
	// else EOS.
	Prefix() int
	// BOS returns the beginning-of-sequence id, if the tokenizer has one.
	BOS() (int, bool)
	// EOS returns the ids that end a sequence (generation stops at any).
	EOS() []int
	// VocabSize counts every id the tokenizer can produce, added tokens
	// included.
	VocabSize() int
}
