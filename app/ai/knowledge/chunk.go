// Package knowledge turns a knowledge base's documents into the chunks retrieval finds.
package knowledge

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"masteria/app/model"
)

// The default sizes of a chunk, in characters: about Target long, and each chunk after the
// first of a section repeats about Overlap characters of the one before it, so a sentence
// cut between two chunks is whole in one of them.
const (
	Target  = 800
	Overlap = 120
)

// Split cuts a document's text (plain, markdown or HTML-ish) into chunks of the default sizes.
func Split(text string) []model.ChunkText { return SplitSize(text, Target, Overlap) }

// SplitSize cuts text into chunks of at most target characters along its headings and
// paragraphs. A chunk never spans two sections; it holds whole paragraphs when they fit, and
// a longer paragraph is cut at a sentence's or a word's end, never inside a word (a "word"
// longer than a chunk, a pasted blob, is the one exception). Each chunk carries its heading
// path ("Entregas > Taxas"). The text is cleaned first (Clean).
func SplitSize(text string, target, overlap int) []model.ChunkText {
	if target < 1 {
		target = Target
	}
	if overlap < 0 || overlap >= target/2 {
		overlap = target / 4
	}
	var out []model.ChunkText
	for _, sec := range sections(Clean(fromHTML(Clean(text)))) {
		for _, t := range pack(sec.paragraphs, target, overlap) {
			out = append(out, model.ChunkText{Heading: sec.heading, Text: t})
		}
	}
	return out
}

// section is the text under one heading path.
type section struct {
	heading    string
	paragraphs []string
}

var headingLine = regexp.MustCompile(`^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$`)

// sections reads the markdown-ish text: "#" lines open a section (a deeper heading keeps
// its parents in the path), blank lines end a paragraph.
func sections(text string) []section {
	var out []section
	var path []string
	cur := section{}
	var para []string
	endPara := func() {
		if p := strings.TrimSpace(strings.Join(para, "\n")); p != "" {
			cur.paragraphs = append(cur.paragraphs, p)
		}
		para = para[:0]
	}
	endSection := func() {
		endPara()
		if len(cur.paragraphs) > 0 {
			out = append(out, cur)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if m := headingLine.FindStringSubmatch(line); m != nil && m[2] != "" {
			endSection()
			level := len(m[1])
			for len(path) < level-1 {
				path = append(path, "")
			}
			path = append(path[:level-1], m[2])
			cur = section{heading: joinPath(path)}
			continue
		}
		if strings.TrimSpace(line) == "" {
			endPara()
			continue
		}
		para = append(para, strings.TrimSpace(line))
	}
	endSection()
	return out
}

func joinPath(path []string) string {
	var parts []string
	for _, p := range path {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " > ")
}

// pack joins a section's paragraphs into chunks of at most target characters.
func pack(paragraphs []string, target, overlap int) []string {
	var out []string
	cur := ""
	for _, p := range paragraphs {
		pieces := []string{p}
		if runes(p) > target {
			pieces = cut(p, target-overlap)
		}
		for _, piece := range pieces {
			switch {
			case cur == "":
				cur = piece
			case runes(cur)+2+runes(piece) <= target:
				cur += "\n\n" + piece
			default:
				out = append(out, cur)
				cur = piece
				if t := tail(out[len(out)-1], overlap); t != "" && runes(t)+1+runes(piece) <= target {
					cur = t + " " + piece
				}
			}
		}
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}

// cut splits a long paragraph into pieces of at most max characters, each ending at a
// sentence's end when one is in its second half, else at a word's end.
func cut(p string, max int) []string {
	var out []string
	for runes(p) > max {
		limit := byteIndex(p, max) // p[:limit] is max characters
		at := -1
		for _, end := range []string{". ", "! ", "? ", "\n", "; "} {
			if i := strings.LastIndex(p[:limit+1], end); i > at && runes(p[:i]) > max/2 {
				at = i + 1
			}
		}
		if at < 0 {
			at = strings.LastIndexAny(p[:limit+1], " \n")
		}
		if at <= 0 { // one word longer than a chunk: cut it
			at = limit
		}
		out = append(out, strings.TrimSpace(p[:at]))
		p = strings.TrimSpace(p[at:])
	}
	if p != "" {
		out = append(out, p)
	}
	return out
}

// tail is the end of s, about n characters, starting at a word.
func tail(s string, n int) string {
	if runes(s) <= n {
		return ""
	}
	t := s[byteIndex(s, runes(s)-n):]
	if s[len(s)-len(t)-1] == ' ' || s[len(s)-len(t)-1] == '\n' {
		return strings.TrimSpace(t)
	}
	i := strings.IndexAny(t, " \n")
	if i < 0 {
		return ""
	}
	return strings.TrimSpace(t[i:])
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// byteIndex is the byte offset of s's n-th character (len(s) when s is shorter).
func byteIndex(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}
