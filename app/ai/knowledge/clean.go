package knowledge

import (
	"html"
	"regexp"
	"strings"
	"unicode"
)

// Clean makes text safe to store and search: invalid UTF-8 and NUL bytes (PostgreSQL text
// cannot hold them) and other control characters are dropped, line ends become \n, and
// runs of spaces and tabs become one space.
func Clean(text string) string {
	text = strings.ToValidUTF8(text, "")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	var b strings.Builder
	b.Grow(len(text))
	space := false
	for _, r := range text {
		switch {
		case r == '\n':
			b.WriteRune(r)
			space = false
			continue
		case r == '\t' || r == '\u00a0' || (unicode.IsSpace(r)):
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		case unicode.IsControl(r) || r == '\ufeff':
			continue
		}
		b.WriteRune(r)
		space = false
	}
	return b.String()
}

var (
	htmlDrop    = regexp.MustCompile(`(?is)<(script|style|head|noscript)\b.*?</(script|style|head|noscript)\s*>|<!--.*?-->`)
	htmlHeading = regexp.MustCompile(`(?is)<h([1-6])\b[^>]*>(.*?)</h[1-6]\s*>`)
	htmlBreak   = regexp.MustCompile(`(?i)<br\s*/?>`)
	htmlBlock   = regexp.MustCompile(`(?i)</?(p|div|section|article|table|tr|ul|ol|blockquote|pre|header|footer|main|nav)\b[^>]*>`)
	htmlItem    = regexp.MustCompile(`(?i)<li\b[^>]*>`)
	htmlTag     = regexp.MustCompile(`(?s)<[^>]*>`)
	looksHTML   = regexp.MustCompile(`(?i)<(html|body|p|div|h[1-6]|br|li|table)\b`)
)

// fromHTML turns HTML-ish text into the markdown-ish text the splitter reads: headings
// become "#" lines, blocks become paragraphs, list items lines, other tags go, entities are
// decoded. Text that does not look like HTML is returned as it is.
func fromHTML(text string) string {
	if !looksHTML.MatchString(text) {
		return text
	}
	text = htmlDrop.ReplaceAllString(text, "")
	text = htmlHeading.ReplaceAllStringFunc(text, func(m string) string {
		sub := htmlHeading.FindStringSubmatch(m)
		level := int(sub[1][0] - '0')
		title := strings.Join(strings.Fields(htmlTag.ReplaceAllString(sub[2], " ")), " ")
		return "\n\n" + strings.Repeat("#", level) + " " + title + "\n\n"
	})
	text = htmlBreak.ReplaceAllString(text, "\n")
	text = htmlItem.ReplaceAllString(text, "\n- ")
	text = htmlBlock.ReplaceAllString(text, "\n\n")
	text = htmlTag.ReplaceAllString(text, "")
	return html.UnescapeString(text)
}
