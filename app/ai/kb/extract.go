package kb

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"path"
	"strings"
	"unicode/utf8"

	"masteria/app/model"
)

// Extract returns the text of a file by its name's extension: txt and md as they are,
// html with its tags turned into headings and paragraphs (the chunker reads them), docx
// from its document XML, pdf by ExtractPDF (AddFile leaves a PDF to the index job). Other
// types are refused (ErrUnsupported).
func Extract(fileName string, data []byte) (string, error) {
	if len(data) > MaxFileBytes {
		return "", ErrTooLarge
	}
	switch strings.ToLower(path.Ext(fileName)) {
	case ".txt", ".md", ".markdown", ".text", "":
		return textOf(data)
	case ".html", ".htm":
		t, err := textOf(data)
		if err != nil {
			return "", err
		}
		return htmlText(t), nil
	case ".docx":
		return docxText(data)
	case ".pdf":
		return ExtractPDF(context.Background(), data)
	default:
		return "", ErrUnsupported
	}
}

func isPDF(fileName string) bool { return strings.EqualFold(path.Ext(fileName), ".pdf") }

// ErrorKey names the message (in app/i18n) of an error the person who added a document can
// act on: a file too large, of a type not read, damaged, protected, without text; "" for
// any other error. A document that failed for such a reason keeps the key as its error,
// so each reader sees it in their own language.
func ErrorKey(err error) string {
	var v *model.ValidationError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &v):
		for _, f := range []string{"text", "title", "url", "file"} {
			if k := v.Fields[f]; k != "" {
				return k
			}
		}
		for _, k := range v.Fields {
			return k
		}
	}
	for _, e := range []struct {
		err error
		key string
	}{
		{ErrTooLarge, "kb.error.too_large"},
		{ErrUnsupported, "kb.error.unsupported"},
		{ErrBinary, "kb.error.binary"},
		{ErrBrokenDocx, "kb.error.broken"},
		{ErrBrokenPDF, "kb.error.pdf_broken"},
		{ErrEncryptedPDF, "kb.error.pdf_encrypted"},
		{ErrNoTextPDF, "kb.error.pdf_no_text"},
		{ErrPDFPages, "kb.error.pdf_pages"},
		{ErrPDFComplex, "kb.error.pdf_complex"},
		{ErrPrivateURL, "kb.error.private_url"},
	} {
		if errors.Is(err, e.err) {
			return e.key
		}
	}
	return ""
}

// failureText is what a failed document keeps as its error: the message key of a reason
// the person can act on, else the error itself.
func failureText(err error) string {
	if k := ErrorKey(err); k != "" {
		return k
	}
	return err.Error()
}

// ErrBinary is a text file that is not text.
var ErrBinary = errors.New("kb: the file is not text")

func textOf(data []byte) (string, error) {
	if bytes.IndexByte(data, 0) >= 0 && !utf8.Valid(data) {
		return "", ErrBinary
	}
	return string(data), nil
}

// htmlText marks a page as HTML for the chunker even when its first tags are unusual.
func htmlText(t string) string {
	if !strings.Contains(strings.ToLower(t), "<body") && !strings.Contains(strings.ToLower(t), "<p") {
		return "<div>" + t + "</div>"
	}
	return t
}

// ErrBrokenDocx is a .docx file that cannot be read.
var ErrBrokenDocx = errors.New("kb: the docx file is damaged")

// docxText reads word/document.xml: each paragraph (w:p) a line, its runs' text (w:t)
// joined, headings (a "Heading" style) as markdown headings, tabs and breaks as spaces.
func docxText(data []byte) (string, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", ErrBrokenDocx
	}
	var f *zip.File
	for _, zf := range zr.File {
		if zf.Name == "word/document.xml" {
			f = zf
		}
	}
	if f == nil || f.UncompressedSize64 > 50<<20 {
		return "", ErrBrokenDocx
	}
	rc, err := f.Open()
	if err != nil {
		return "", ErrBrokenDocx
	}
	defer rc.Close()
	dec := xml.NewDecoder(io.LimitReader(rc, 50<<20))
	var out, para strings.Builder
	level := 0
	inText := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", ErrBrokenDocx
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "p":
				para.Reset()
				level = 0
			case "pStyle":
				for _, a := range t.Attr {
					if a.Name.Local == "val" && strings.HasPrefix(strings.ToLower(a.Value), "heading") {
						level = 2
						if n := strings.TrimPrefix(strings.ToLower(a.Value), "heading"); len(n) == 1 && n[0] >= '1' && n[0] <= '6' {
							level = int(n[0] - '0')
						}
					}
				}
			case "t":
				inText = true
			case "tab", "br":
				para.WriteByte(' ')
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "t":
				inText = false
			case "p":
				if p := strings.TrimSpace(para.String()); p != "" {
					if level > 0 {
						out.WriteString(strings.Repeat("#", level) + " ")
					}
					out.WriteString(p)
					out.WriteString("\n\n")
				}
			}
		case xml.CharData:
			if inText {
				para.Write(t)
			}
		}
	}
	return out.String(), nil
}
