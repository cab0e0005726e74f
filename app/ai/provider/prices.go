package provider

import "strings"

// Price is what a model costs per million tokens, in US dollars.
type Price struct {
	Input  float64 // per 1M prompt tokens
	Output float64 // per 1M completion tokens (0 for embeddings)
}

// Prices are estimates from the providers' public price lists; edit them when prices change.
// A model not listed costs 0, and the settings page says its spend is not counted. A name
// with a vendor prefix ("openai/gpt-4o-mini", as OpenRouter names them) is looked up by the
// part after the last slash.
var Prices = map[string]Price{
	"gpt-4o-mini":            {Input: 0.15, Output: 0.60},
	"gpt-4o":                 {Input: 2.50, Output: 10.00},
	"gpt-4.1":                {Input: 2.00, Output: 8.00},
	"gpt-4.1-mini":           {Input: 0.40, Output: 1.60},
	"gpt-4.1-nano":           {Input: 0.10, Output: 0.40},
	"gpt-3.5-turbo":          {Input: 0.50, Output: 1.50},
	"text-embedding-3-small": {Input: 0.02},
	"text-embedding-3-large": {Input: 0.13},
	"text-embedding-ada-002": {Input: 0.10},
}

// PriceOf returns a model's price and whether it is known.
func PriceOf(model string) (Price, bool) {
	if p, ok := Prices[model]; ok {
		return p, true
	}
	if i := strings.LastIndexByte(model, '/'); i >= 0 {
		p, ok := Prices[model[i+1:]]
		return p, ok
	}
	return Price{}, false
}

// Cost estimates a call's cost in US dollars; an unknown model costs 0 (known is false).
func Cost(model string, promptTokens, completionTokens int) (usd float64, known bool) {
	p, ok := PriceOf(model)
	if !ok {
		return 0, false
	}
	return (float64(promptTokens)*p.Input + float64(completionTokens)*p.Output) / 1e6, true
}
