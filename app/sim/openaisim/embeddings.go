package openaisim

import (
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"strings"
	"unicode"
)

// maxEmbeddingInputs is OpenAI's limit of items in one embeddings request.
const maxEmbeddingInputs = 2048

// Embedding returns the sim's vector for text, of size dims: a hashed bag of words. The text
// is normalized (lower case, accents removed, split on anything but letters and digits),
// common Portuguese and English stop words are dropped (unless nothing else is left), and
// each remaining word adds 1+ln(count) to one signed coordinate chosen by its FNV-1a hash;
// words longer than 5 letters also add half as much for their first 5 letters, so "entrega"
// and "entregas" meet. The vector is L2-normalized, so texts sharing words have a cosine
// similarity well above unrelated ones (near 0). A text with no word gets a vector of its
// own from its raw bytes, never a zero vector. It is deterministic.
func Embedding(text string, dims int) []float32 {
	if dims <= 0 {
		return nil
	}
	counts := map[string]float64{}
	words := Words(text)
	content := words[:0:0]
	for _, w := range words {
		if !stopWords[w] {
			content = append(content, w)
		}
	}
	if len(content) > 0 {
		words = content
	}
	for _, w := range words {
		counts["w:"+w]++
		if r := []rune(w); len(r) > 5 {
			counts["p:"+string(r[:5])] += 0.5
		}
	}
	if len(counts) == 0 {
		counts["raw:"+text] = 1
	}
	v := make([]float64, dims)
	for feature, n := range counts {
		h := fnv.New64a()
		h.Write([]byte(feature))
		sum := h.Sum64()
		weight := n
		if n >= 1 {
			weight = 1 + math.Log(n)
		}
		if sum>>63 == 1 {
			weight = -weight
		}
		v[int(sum%uint64(dims))] += weight
	}
	var norm float64
	for _, x := range v {
		norm += x * x
	}
	norm = math.Sqrt(norm)
	out := make([]float32, dims)
	for i, x := range v {
		if norm > 0 {
			out[i] = float32(x / norm)
		}
	}
	if norm == 0 { // every feature cancelled out in one coordinate
		out[0] = 1
	}
	return out
}

// Words splits text into normalized words: lower case, accents removed, runs of letters and
// digits.
func Words(text string) []string {
	return strings.FieldsFunc(Normalize(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// Normalize lower-cases text and removes the accents of Latin letters ("Pão" → "pao").
func Normalize(text string) string {
	return strings.Map(func(r rune) rune {
		r = unicode.ToLower(r)
		if f, ok := accents[r]; ok {
			return f
		}
		return r
	}, text)
}

var accents = func() map[rune]rune {
	m := map[rune]rune{}
	for base, marked := range map[rune]string{
		'a': "áàâãäå", 'e': "éèêë", 'i': "íìîï", 'o': "óòôõö", 'u': "úùûü", 'c': "ç", 'n': "ñ", 'y': "ýÿ",
	} {
		for _, r := range marked {
			m[r] = base
		}
	}
	return m
}()

var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a o as os um uma uns umas de da do das dos em na no nas nos ao aos
		e ou que se por para pra com sem sobre entre como mais menos muito ja ate eu voce voces ele ela eles
		elas nos me te lhe meu minha seu sua isso isto esse essa este esta ser estar ter tem sao foi era
		qual quais quando onde porque nao sim tambem so the an and or of to in on at for with is are was
		be it this that as by from i you we they do does`) {
		m[w] = true
	}
	return m
}()

// handleEmbeddings answers POST /v1/embeddings.
func (s *Server) handleEmbeddings(w http.ResponseWriter, _ *http.Request, rec *Request) {
	if rec.Model == "" {
		writeError(w, invalidRequest("model", "you must provide a model parameter"))
		return
	}
	m, ok := s.model(rec.Model)
	if !ok {
		writeError(w, modelNotFound(rec.Model))
		return
	}
	if m.Dimensions == 0 {
		writeError(w, invalidRequest("model", "This model does not support embeddings: "+m.ID+"."))
		return
	}
	dims := m.Dimensions
	if rec.Dimensions != 0 {
		switch {
		case !m.Shortenable:
			writeError(w, invalidRequest("dimensions", "This model does not support specifying dimensions."))
			return
		case rec.Dimensions < 1 || rec.Dimensions > m.Dimensions:
			writeError(w, invalidRequest("dimensions", fmt.Sprintf(
				"Invalid value for 'dimensions' = %d. Must be between 1 and %d.", rec.Dimensions, m.Dimensions)))
			return
		}
		dims = rec.Dimensions
	}
	if len(rec.Input) == 0 || len(rec.Input) > maxEmbeddingInputs {
		writeError(w, invalidRequest("input", "'$.input' is invalid. Please check the API reference: "+
			"https://platform.openai.com/docs/api-reference."))
		return
	}
	data := make([]map[string]any, len(rec.Input))
	tokens := 0
	for i, text := range rec.Input {
		if text == "" {
			writeError(w, invalidRequest("input", "'$.input' is invalid. Please check the API reference: "+
				"https://platform.openai.com/docs/api-reference."))
			return
		}
		tokens += countTokens(text)
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": Embedding(text, dims)}
	}
	w.Header().Set("openai-model", m.ID)
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "list", "data": data, "model": m.ID,
		"usage": map[string]int{"prompt_tokens": tokens, "total_tokens": tokens},
	})
}
