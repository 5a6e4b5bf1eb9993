package eval

import "fmt"

// vocabGuard is the tokenizer Run scores with when the tokenizer counts
// more ids than the model has logits. Real tokenizers do that: Gemma 3
// 270M's tokenizer.json has 262145 ids, its model 262144 logits, the last
// id being <image_soft_token>, an added token that text only produces by
// spelling it out. lm-eval 0.4.13 (torch) scores such a model and fails
// only on a request that holds an id past the embedding, so painterc
// refuses the request, not the tokenizer: Encode fails on the first id
// the model has no logit for, naming it. A tokenizer of another, larger
// model still stops on the first document it encodes.
type vocabGuard struct {
	Tokenizer
	modelVocab int
}

func (g vocabGuard) Encode(text string, addSpecial bool) ([]int, error) {
	ids, err := g.Tokenizer.Encode(text, addSpecial)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if id >= g.modelVocab {
			return nil, fmt.Errorf("token id %d (%s) is past the model's vocabulary of %d (the tokenizer has %d ids): the model has no logit for it, so the tokenizer does not belong to this model or the text spells out a token the model lacks",
				id, quoteShort(g.Tokenizer.Decode([]int{id})), g.modelVocab, g.Tokenizer.VocabSize())
		}
	}
	return ids, nil
}
