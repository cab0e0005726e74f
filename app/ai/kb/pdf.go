package kb

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ledongthuc/pdf"
)

// Limits of reading a PDF. A file is at most MaxFileBytes; these bound what it can make the
// reader do: pages, time, and how much its compressed streams may unpack to.
const (
	MaxPDFPages    = 500
	maxPageContent = 4 << 20  // decoded bytes of one page's content streams (forms included)
	maxPDFContent  = 64 << 20 // decoded bytes of all pages' content streams
	maxFontMap     = 2 << 20  // decoded bytes of one font's ToUnicode map
	maxFormDepth   = 4        // forms drawn inside forms
	maxTreeDepth   = 64       // levels of the page tree and of inherited resources
	maxStateDepth  = 256      // nested q … Q
)

// pdfTimeLimit bounds the reading of one file (a variable for tests).
var pdfTimeLimit = 30 * time.Second

// Errors of PDF files; each has a message in the user's language (ErrorKey).
var (
	ErrBrokenPDF    = errors.New("kb: the PDF file is damaged")
	ErrEncryptedPDF = errors.New("kb: the PDF file is protected by a password")
	ErrNoTextPDF    = errors.New("kb: the PDF file has no text (a scan?)")
	ErrPDFPages     = errors.New("kb: the PDF file has more than 500 pages")
	ErrPDFComplex   = errors.New("kb: the PDF file is too large or complex to read")
)

// looksLikePDF tells whether data starts as a PDF file does (some writers put a few bytes
// before the header).
func looksLikePDF(data []byte) bool {
	return bytes.Contains(data[:min(len(data), 1024)], []byte("%PDF-"))
}

// ExtractPDF returns the text of a PDF file: its pages in order, each page's lines joined
// into paragraphs (a line broken at the margin continues its paragraph; a gap, an indent,
// a change of size or a list item starts another), larger or bold short lines as markdown
// headings, page numbers dropped. A damaged file gives ErrBrokenPDF, one that needs a
// password ErrEncryptedPDF, one without text (a scan) ErrNoTextPDF; one with more than
// MaxPDFPages pages ErrPDFPages, and one that takes longer than 30 seconds or unpacks to
// too much ErrPDFComplex.
func ExtractPDF(ctx context.Context, data []byte) (string, error) {
	if len(data) > MaxFileBytes {
		return "", ErrTooLarge
	}
	if !looksLikePDF(data) {
		return "", ErrBrokenPDF
	}
	rctx, cancel := context.WithTimeout(ctx, pdfTimeLimit)
	defer cancel()
	type result struct {
		text string
		err  error
	}
	done := make(chan result, 1)
	// The reader checks the deadline between the operators it draws; the wait below is for
	// a file that keeps the parser busy elsewhere (a loop in its object streams).
	go func() {
		text, err := readPDF(rctx, data)
		done <- result{text, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-rctx.Done():
	}
	switch {
	case ctx.Err() != nil:
		return "", ctx.Err() // the caller gave up (a job stopping), not the file's fault
	case rctx.Err() != nil:
		return "", ErrPDFComplex
	}
	return r.text, r.err
}

// pdfStop is a panic the reader raises itself to stop (a limit, the deadline).
type pdfStop struct{ err error }

func readPDF(ctx context.Context, data []byte) (text string, err error) {
	defer func() {
		if x := recover(); x != nil {
			text = ""
			if s, ok := x.(pdfStop); ok {
				err = s.err
				return
			}
			err = ErrBrokenPDF
		}
	}()
	data = pdfHeader(data)
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		if errors.Is(err, pdf.ErrInvalidPassword) || strings.Contains(err.Error(), "encrypt") {
			return "", ErrEncryptedPDF
		}
		return "", ErrBrokenPDF
	}
	pages, err := pdfPages(r)
	if err != nil {
		return "", err
	}
	x := &pdfReader{ctx: ctx}
	var all [][]pdfLine
	failed := 0
	for _, p := range pages {
		lines, err := x.page(p)
		if err != nil {
			var stop pdfStop
			if errors.As(err, &stop) {
				return "", stop.err
			}
			failed++
			continue
		}
		all = append(all, lines)
		if x.runes > MaxTextRunes {
			break // checkText says the text is too long
		}
	}
	out := paragraphs(all)
	if strings.TrimSpace(out) == "" {
		switch {
		case failed > 0 && r.Trailer().Key("Encrypt").Kind() != pdf.Null:
			return "", ErrEncryptedPDF // opened without a password, yet its streams do not decrypt
		case failed > 0:
			return "", ErrBrokenPDF
		}
		return "", ErrNoTextPDF
	}
	if failed > 0 {
		slog.Warn("kb: PDF pages that could not be read were left out", "pages", len(pages), "failed", failed)
	}
	return out, nil
}

func (s pdfStop) Error() string { return s.err.Error() }

// pdfHeader lets the reader open files it would refuse for their first or last line only:
// a header of version 2.0 or not followed by a line end, bytes after the last %%EOF. Both
// are changed in a copy, in place, so that the offsets the file gives stay right.
func pdfHeader(data []byte) []byte {
	if i := bytes.LastIndex(data, []byte("%%EOF")); i > 0 {
		data = data[:i+5]
	}
	if len(data) >= 9 && bytes.HasPrefix(data, []byte("%PDF-")) &&
		!(data[5] == '1' && data[6] == '.' && data[7] >= '0' && data[7] <= '7' && (data[8] == '\n' || data[8] == '\r')) {
		fixed := slices.Clone(data)
		copy(fixed, "%PDF-1.7\n")
		return fixed
	}
	return data
}

// pdfPages walks the page tree in order, bounded in depth and size (a tree that loops
// back on itself is damaged).
func pdfPages(r *pdf.Reader) ([]pdf.Value, error) {
	var pages []pdf.Value
	nodes := 0
	var walk func(v pdf.Value, depth int) error
	walk = func(v pdf.Value, depth int) error {
		nodes++
		if depth > maxTreeDepth || nodes > 4*MaxPDFPages+256 {
			return ErrBrokenPDF
		}
		if kids := v.Key("Kids"); kids.Kind() == pdf.Array && v.Key("Type").Name() != "Page" {
			for i := range kids.Len() {
				if err := walk(kids.Index(i), depth+1); err != nil {
					return err
				}
			}
			return nil
		}
		if v.Kind() != pdf.Dict {
			return nil
		}
		if pages = append(pages, v); len(pages) > MaxPDFPages {
			return ErrPDFPages
		}
		return nil
	}
	root := r.Trailer().Key("Root").Key("Pages")
	if root.Kind() != pdf.Dict {
		return nil, ErrBrokenPDF
	}
	if err := walk(root, 0); err != nil {
		if errors.Is(err, ErrPDFPages) || len(pages) > MaxPDFPages {
			return nil, ErrPDFPages
		}
		return nil, err
	}
	return pages, nil
}

// inherited is a page's own key or the nearest ancestor's.
func inherited(v pdf.Value, key string) pdf.Value {
	for range maxTreeDepth {
		if v.Kind() != pdf.Dict {
			break
		}
		if r := v.Key(key); r.Kind() != pdf.Null {
			return r
		}
		v = v.Key("Parent")
	}
	return pdf.Value{}
}

// pdfReader draws the text of pages, within the limits.
type pdfReader struct {
	ctx     context.Context
	ops     int
	decoded int64
	runes   int
}

// A span is text drawn at one place: its start and end on the baseline, its size.
type span struct {
	x, end, y, size float64
	bold            bool
	text            string
}

// A pdfLine is the spans of one baseline, left to right.
type pdfLine struct {
	text            string
	x, end, y, size float64
	bold            bool
}

type matrix [6]float64 // a b c d e f, as PDF writes them

var identity = matrix{1, 0, 0, 1, 0, 0}

// mul is m × n (PDF's row-vector convention: m applies first).
func (m matrix) mul(n matrix) matrix {
	return matrix{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

type font struct {
	enc     pdf.TextEncoding
	twoByte bool
	first   int
	widths  []float64
	cid     map[int]float64
	dw      float64
	bold    bool
}

// width is a code's advance in thousandths of the size (half of it when the file does not say).
func (f *font) width(code int) float64 {
	if f.twoByte {
		if w, ok := f.cid[code]; ok {
			return w
		}
		return f.dw
	}
	if i := code - f.first; i >= 0 && i < len(f.widths) && f.widths[i] > 0 {
		return f.widths[i]
	}
	return 500
}

type textState struct {
	ctm, tm, tlm             matrix
	tfs, th, tl, tc, tw, tsr float64
	font                     *font
}

// page reads one page's text lines; a page that cannot be read gives an error (a pdfStop
// when a limit of the whole file was reached).
func (x *pdfReader) page(p pdf.Value) (lines []pdfLine, err error) {
	defer func() {
		if r := recover(); r != nil {
			if s, ok := r.(pdfStop); ok {
				err = s
				return
			}
			err = ErrBrokenPDF
		}
	}()
	contents := p.Key("Contents")
	if contents.Kind() == pdf.Null {
		return nil, nil
	}
	b := &lineBuilder{}
	budget := int64(maxPageContent)
	x.run(contents, inherited(p, "Resources"), identity, 0, &budget, b)
	b.flush()
	for _, l := range b.lines {
		x.runes += utf8.RuneCountInString(l.text)
	}
	return b.lines, nil
}

// size checks how much a stream (or an array of them) unpacks to, within limit.
func (x *pdfReader) size(v pdf.Value, limit int64) int64 {
	var n int64
	read := func(s pdf.Value) {
		rc := s.Reader()
		defer rc.Close()
		m, _ := io.Copy(io.Discard, io.LimitReader(rc, limit-n+1))
		n += m
	}
	if v.Kind() == pdf.Array {
		for i := range v.Len() {
			if n > limit {
				break
			}
			read(v.Index(i))
		}
	} else {
		read(v)
	}
	return n
}

// run draws a content stream with its resources: every text operator, forms (XObjects)
// inside it to maxFormDepth.
func (x *pdfReader) run(contents, res pdf.Value, ctm matrix, depth int, budget *int64, b *lineBuilder) {
	n := x.size(contents, *budget)
	if *budget -= n; *budget < 0 {
		panic(ErrBrokenPDF) // this page only
	}
	if x.decoded += n; x.decoded > maxPDFContent {
		panic(pdfStop{ErrPDFComplex})
	}
	fonts := map[string]*font{}
	g := textState{ctm: ctm, tm: identity, tlm: identity, th: 1}
	var saved []textState
	var args []pdf.Value
	show := func(raw string) {
		f := g.font
		if f == nil {
			f = &font{first: 0, dw: 500}
		}
		var text string
		if f.enc != nil {
			text = f.enc.Decode(raw)
		} else {
			text = raw
		}
		trm := matrix{g.tfs * g.th, 0, 0, g.tfs, 0, g.tsr}.mul(g.tm).mul(g.ctm)
		step := 1
		if f.twoByte {
			step = 2
		}
		for i := 0; i+step <= len(raw); i += step {
			code := int(raw[i])
			if step == 2 {
				code = code<<8 | int(raw[i+1])
			}
			tx := f.width(code)/1000*g.tfs + g.tc
			if step == 1 && code == 32 {
				tx += g.tw
			}
			g.tm = matrix{1, 0, 0, 1, tx * g.th, 0}.mul(g.tm)
		}
		end := matrix{g.tfs * g.th, 0, 0, g.tfs, 0, g.tsr}.mul(g.tm).mul(g.ctm)
		b.add(span{x: trm[4], end: end[4], y: trm[5], size: math.Hypot(trm[2], trm[3]), bold: f.bold, text: text})
	}
	pdf.Interpret(contents, func(stk *pdf.Stack, op string) {
		args = args[:0]
		for range stk.Len() {
			args = append(args, stk.Pop())
		}
		slices.Reverse(args)
		if x.ops++; x.ops&1023 == 0 {
			if err := x.ctx.Err(); err != nil {
				panic(pdfStop{err})
			}
		}
		num := func(i int) float64 { return args[i].Float64() }
		switch op {
		case "q":
			if len(saved) < maxStateDepth {
				saved = append(saved, g)
			}
		case "Q":
			if n := len(saved); n > 0 {
				g, saved = saved[n-1], saved[:n-1]
			}
		case "cm":
			if len(args) == 6 {
				g.ctm = matrix{num(0), num(1), num(2), num(3), num(4), num(5)}.mul(g.ctm)
			}
		case "BT":
			g.tm, g.tlm = identity, identity
		case "Tc":
			if len(args) == 1 {
				g.tc = num(0)
			}
		case "Tw":
			if len(args) == 1 {
				g.tw = num(0)
			}
		case "Tz":
			if len(args) == 1 {
				g.th = num(0) / 100
			}
		case "TL":
			if len(args) == 1 {
				g.tl = num(0)
			}
		case "Ts":
			if len(args) == 1 {
				g.tsr = num(0)
			}
		case "Tf":
			if len(args) == 2 {
				name := args[0].Name()
				f, ok := fonts[name]
				if !ok {
					f = x.font(res.Key("Font").Key(name))
					fonts[name] = f
				}
				g.font, g.tfs = f, num(1)
			}
		case "TD", "Td":
			if len(args) == 2 {
				if op == "TD" {
					g.tl = -num(1)
				}
				g.tlm = matrix{1, 0, 0, 1, num(0), num(1)}.mul(g.tlm)
				g.tm = g.tlm
			}
		case "Tm":
			if len(args) == 6 {
				g.tlm = matrix{num(0), num(1), num(2), num(3), num(4), num(5)}
				g.tm = g.tlm
			}
		case "T*":
			g.tlm = matrix{1, 0, 0, 1, 0, -g.tl}.mul(g.tlm)
			g.tm = g.tlm
		case "Tj":
			if len(args) == 1 {
				show(args[0].RawString())
			}
		case "'", "\"":
			if op == "\"" && len(args) == 3 {
				g.tw, g.tc = num(0), num(1)
				args = args[2:]
			}
			if len(args) == 1 {
				g.tlm = matrix{1, 0, 0, 1, 0, -g.tl}.mul(g.tlm)
				g.tm = g.tlm
				show(args[0].RawString())
			}
		case "TJ":
			if len(args) == 1 {
				v := args[0]
				for i := range v.Len() {
					e := v.Index(i)
					if e.Kind() == pdf.String {
						show(e.RawString())
					} else {
						g.tm = matrix{1, 0, 0, 1, -e.Float64() / 1000 * g.tfs * g.th, 0}.mul(g.tm)
					}
				}
			}
		case "Do":
			if len(args) == 1 && depth < maxFormDepth {
				form := res.Key("XObject").Key(args[0].Name())
				if form.Kind() == pdf.Stream && form.Key("Subtype").Name() == "Form" {
					m := identity
					if fm := form.Key("Matrix"); fm.Kind() == pdf.Array && fm.Len() == 6 {
						m = matrix{fm.Index(0).Float64(), fm.Index(1).Float64(), fm.Index(2).Float64(),
							fm.Index(3).Float64(), fm.Index(4).Float64(), fm.Index(5).Float64()}
					}
					fres := form.Key("Resources")
					if fres.Kind() != pdf.Dict {
						fres = res
					}
					x.run(form, fres, m.mul(g.ctm), depth+1, budget, b)
				}
			}
		}
	})
}

// font reads what the text needs of a font: its encoding to Unicode, glyph widths, whether
// it is bold. A ToUnicode map that unpacks to too much is not read.
func (x *pdfReader) font(v pdf.Value) *font {
	f := &font{dw: 1000}
	name := strings.ToLower(v.Key("BaseFont").Name())
	f.bold = strings.Contains(name, "bold") || strings.Contains(name, "black") || strings.Contains(name, "heavy")
	if tu := v.Key("ToUnicode"); tu.Kind() == pdf.Stream && x.size(tu, maxFontMap) > maxFontMap {
		f.enc = nil
	} else {
		pf := pdf.Font{V: v}
		f.enc = pf.Encoder()
	}
	if v.Key("Subtype").Name() == "Type0" {
		f.twoByte = true
		d := v.Key("DescendantFonts").Index(0)
		if dw := d.Key("DW"); dw.Kind() == pdf.Integer || dw.Kind() == pdf.Real {
			f.dw = dw.Float64()
		}
		f.cid = map[int]float64{}
		w := d.Key("W")
		for i := 0; i < w.Len() && len(f.cid) < 1<<16; {
			c := int(w.Index(i).Int64())
			if next := w.Index(i + 1); next.Kind() == pdf.Array {
				for j := range min(next.Len(), 1<<16) {
					f.cid[c+j] = next.Index(j).Float64()
				}
				i += 2
			} else {
				last := int(next.Int64())
				wd := w.Index(i + 2).Float64()
				for c2 := c; c2 <= last && c2-c < 1<<16; c2++ {
					f.cid[c2] = wd
				}
				i += 3
			}
		}
		return f
	}
	f.first = int(v.Key("FirstChar").Int64())
	ws := v.Key("Widths")
	for i := range min(ws.Len(), 256) {
		f.widths = append(f.widths, ws.Index(i).Float64())
	}
	return f
}

// lineBuilder groups spans into lines: a span on the baseline of the line being built joins
// it, any other starts a new one.
type lineBuilder struct {
	cur   []span
	lines []pdfLine
}

func (b *lineBuilder) add(s span) {
	if s.size <= 0 || math.IsNaN(s.size) || math.IsInf(s.size, 0) {
		s.size = 1
	}
	if s.text == "" {
		return
	}
	if n := len(b.cur); n > 0 {
		last := b.cur[n-1]
		if math.Abs(s.y-last.y) > 0.5*max(s.size, last.size) {
			b.flush()
		}
	}
	b.cur = append(b.cur, s)
}

func (b *lineBuilder) flush() {
	if len(b.cur) == 0 {
		return
	}
	spans := b.cur
	b.cur = nil
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].x < spans[j].x })
	var t strings.Builder
	l := pdfLine{x: spans[0].x, y: spans[0].y, bold: true}
	prevEnd := math.Inf(-1)
	for _, s := range spans {
		blank := strings.TrimSpace(s.text) == ""
		if !blank {
			if t.Len() > 0 && s.x-prevEnd > 0.15*s.size && !strings.HasSuffix(t.String(), " ") && !strings.HasPrefix(s.text, " ") {
				t.WriteByte(' ')
			}
			l.size = max(l.size, s.size)
			l.bold = l.bold && s.bold
		}
		t.WriteString(s.text)
		prevEnd = max(prevEnd, s.end)
		l.end = max(l.end, s.end)
	}
	l.text = strings.Join(strings.Fields(t.String()), " ")
	if l.text != "" {
		b.lines = append(b.lines, l)
	}
}

var (
	pageNumber = regexp.MustCompile(`(?i)^(p[aá]g(ina)?\.?|page|p\.)?\s*\d{1,4}(\s*(de|of|/)\s*\d{1,4})?$`)
	listItem   = regexp.MustCompile(`^([•●▪◦∙·‣*–—-]|\(?\d{1,3}[.)]|\(?[a-zA-Z][.)])\s`)
)

// A para is a paragraph being joined from lines.
type para struct {
	text  string
	size  float64
	lines int
	bold  bool
}

// heading tells whether a paragraph is a heading, and its level: one or two short lines
// not ending a sentence, larger than the body text or all bold.
func (p para) heading(body float64) int {
	if p.lines > 2 || utf8.RuneCountInString(p.text) > 120 || strings.HasSuffix(p.text, ".") {
		return 0
	}
	switch {
	case p.size >= 1.6*body:
		return 1
	case p.size >= 1.15*body:
		return 2
	case p.bold && p.lines == 1 && utf8.RuneCountInString(p.text) <= 80:
		return 3
	}
	return 0
}

// paragraphs joins the lines of the pages into markdown-ish text: paragraphs separated by a
// blank line, headings marked with #.
func paragraphs(pages [][]pdfLine) string {
	body := bodySize(pages)
	var out []para
	for _, lines := range pages {
		// Page numbers, first or last on a page, are not text.
		if n := len(lines); n > 0 && pageNumber.MatchString(lines[n-1].text) {
			lines = lines[:n-1]
		}
		if len(lines) > 0 && pageNumber.MatchString(lines[0].text) {
			lines = lines[1:]
		}
		if len(lines) == 0 {
			continue
		}
		leading, left, right := pageMetrics(lines, body)
		for i, l := range lines {
			if i > 0 {
				prev := lines[i-1]
				gap := prev.y - l.y
				ends := strings.ContainsAny(lastRune(prev.text), ".!?:;")
				short := prev.end < right-3*prev.size
				indented := l.x > left+1.5*l.size && l.x > prev.x+l.size
				newPara := !similar(prev.size, l.size) ||
					gap > 1.35*leading || gap < 0.3*l.size ||
					listItem.MatchString(l.text) ||
					(ends && (short || indented)) ||
					prev.bold != l.bold && (isHeadingLine(prev, body) || isHeadingLine(l, body))
				if !newPara {
					cur := &out[len(out)-1]
					cur.text = joinLines(cur.text, l.text)
					cur.lines++
					cur.bold = cur.bold && l.bold
					continue
				}
			} else if n := len(out); n > 0 {
				// A paragraph that goes on from the page before: no full stop there, a
				// lower-case word here.
				last := &out[n-1]
				if last.heading(body) == 0 && similar(last.size, l.size) && !strings.ContainsAny(lastRune(last.text), ".!?:;") &&
					startsLower(l.text) && !listItem.MatchString(l.text) {
					last.text = joinLines(last.text, l.text)
					last.lines++
					continue
				}
			}
			out = append(out, para{text: l.text, size: l.size, lines: 1, bold: l.bold})
		}
	}
	var b strings.Builder
	for _, p := range out {
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		if h := p.heading(body); h > 0 {
			b.WriteString(strings.Repeat("#", h) + " ")
		}
		b.WriteString(p.text)
	}
	return b.String()
}

func isHeadingLine(l pdfLine, body float64) bool {
	return utf8.RuneCountInString(l.text) <= 80 && !strings.HasSuffix(l.text, ".") && l.bold
}

// bodySize is the size most of the text is written in.
func bodySize(pages [][]pdfLine) float64 {
	count := map[float64]int{}
	for _, lines := range pages {
		for _, l := range lines {
			count[math.Round(l.size*2)/2] += utf8.RuneCountInString(l.text)
		}
	}
	best, n := 10.0, -1
	for s, c := range count {
		if c > n || c == n && s < best {
			best, n = s, c
		}
	}
	return best
}

// pageMetrics: the usual distance between the baselines of body lines, and the left and
// right edges of the body text.
func pageMetrics(lines []pdfLine, body float64) (leading, left, right float64) {
	var gaps []float64
	left, right = math.Inf(1), math.Inf(-1)
	for i, l := range lines {
		if !similar(l.size, body) {
			continue
		}
		left, right = min(left, l.x), max(right, l.end)
		if i > 0 && similar(lines[i-1].size, l.size) {
			if g := lines[i-1].y - l.y; g > 0 && g < 3*l.size {
				gaps = append(gaps, g)
			}
		}
	}
	if math.IsInf(left, 1) {
		for _, l := range lines {
			left, right = min(left, l.x), max(right, l.end)
		}
	}
	leading = 1.2 * body
	if len(gaps) > 0 {
		slices.Sort(gaps)
		leading = gaps[len(gaps)/2]
	}
	return leading, left, right
}

func similar(a, b float64) bool { return math.Abs(a-b) <= 0.1*max(a, b) }

func lastRune(s string) string {
	r, _ := utf8.DecodeLastRuneInString(s)
	return string(r)
}

func startsLower(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLower(r)
}

// joinLines joins a line broken at the margin to the next: a word hyphenated across them
// becomes whole again.
func joinLines(a, b string) string {
	if strings.HasSuffix(a, "\u00ad") {
		return strings.TrimSuffix(a, "\u00ad") + b
	}
	if strings.HasSuffix(a, "-") && startsLower(b) {
		if r, _ := utf8.DecodeLastRuneInString(strings.TrimSuffix(a, "-")); unicode.IsLetter(r) {
			return strings.TrimSuffix(a, "-") + b
		}
	}
	return a + " " + b
}
