package poster

import (
	"image"
	"image/color"
	"strings"
	"unicode"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"
)

// ellipsis ends a truncated line.
const ellipsis = '…'

// measurer gives the advance of a rune and the kerning between two runes; it is
// all the line breaker needs, so tests can use fixed widths.
type measurer interface {
	advance(r rune) fixed.Int26_6
	kern(a, b rune) fixed.Int26_6
}

// faceMeasurer measures with a real face, matching what font.Drawer draws.
type faceMeasurer struct{ face font.Face }

func (m faceMeasurer) advance(r rune) fixed.Int26_6 {
	a, _ := m.face.GlyphAdvance(r)
	return a
}

func (m faceMeasurer) kern(a, b rune) fixed.Int26_6 { return m.face.Kern(a, b) }

// measure returns the advance width of rs.
func measure(m measurer, rs []rune) fixed.Int26_6 {
	var w fixed.Int26_6
	for i, r := range rs {
		if i > 0 {
			w += m.kern(rs[i-1], r)
		}
		w += m.advance(r)
	}
	return w
}

// maxTextRunes caps the runes of one text field that are looked at: a poster
// line holds a few dozen, and user data should not cost time in proportion to
// its length.
const maxTextRunes = 1024

// sanitize prepares user text for face: it drops control characters and the
// runes the font has no glyph for, so that no .notdef box is drawn. Emoji fall
// in the latter group: the CJK fonts have none (colour emoji come later, with a
// fallback font). Line breaks are kept only if keepNewlines; otherwise they and
// tabs become spaces. Only the first maxTextRunes runes are kept.
func sanitize(face font.Face, s string, keepNewlines bool) string {
	var b strings.Builder
	n, prev := 0, rune(0)
	for _, r := range s {
		if n++; n > maxTextRunes {
			break
		}
		cr := prev == '\r'
		prev = r
		switch {
		case r == '\n' && cr:
			continue // the "\n" of "\r\n"
		case r == '\n' || r == '\r':
			if keepNewlines {
				b.WriteByte('\n')
			} else {
				b.WriteByte(' ')
			}
			continue
		case r == '\t':
			b.WriteByte(' ')
			continue
		case unicode.IsControl(r) || r == unicode.ReplacementChar:
			continue
		}
		if _, ok := face.GlyphAdvance(r); !ok {
			continue
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// Line-breaking classes (a small subset of the kinsoku shori rules that matter
// for titles): closing punctuation may not start a line and opening
// punctuation may not end one.
const (
	closingPunct = "，。、！？；：）》」』】〉〕〗〙〛］｝｣…‥’”・ー〜～,.!?;:)]}%"
	openingPunct = "（《「『【〈〔〖〘〚［｛｢‘“([{"
)

func isClosing(r rune) bool { return strings.ContainsRune(closingPunct, r) }
func isOpening(r rune) bool { return strings.ContainsRune(openingPunct, r) }

// isWide reports whether r is written without spaces between words (Han, kana,
// Hangul, CJK and full-width punctuation): a line may break beside it.
func isWide(r rune) bool {
	switch {
	case r < 0x2000:
		return false
	case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul):
		return true
	case r >= 0x2018 && r <= 0x201F:
		return false // curly quotes also serve Latin text: "don’t" stays whole
	case r >= 0x3000 && r <= 0x303F, // CJK symbols and punctuation
		r >= 0xFF00 && r <= 0xFFEF, // full-width forms
		r >= 0x2010 && r <= 0x206F, // general punctuation: dashes, quotes, …
		r >= 0x2E80 && r <= 0x2FDF, // radicals
		r >= 0x3200 && r <= 0x33FF, // enclosed CJK, CJK compatibility
		r >= 0xFE30 && r <= 0xFE4F: // CJK compatibility forms
		return true
	}
	return false
}

// canBreak reports whether a line may break between a and b.
func canBreak(a, b rune) bool {
	switch {
	case isClosing(b), isOpening(a):
		return false
	case a == b && (a == '—' || a == '…'): // "——" and "……" are one mark
		return false
	case unicode.IsSpace(a):
		return true // after a space; the space itself is trimmed away
	case unicode.IsSpace(b):
		return false
	case isWide(a), isWide(b):
		return true
	}
	return false // inside a Latin word, number or URL
}

// wrap breaks text into at most maxLines lines no wider than maxWidth, with CJK
// line breaking: any two CJK characters may be split, Latin words and digit
// runs stay whole (unless one alone is wider than a line), and the kinsoku
// rules of canBreak hold. "\n" is a hard break; blank lines are dropped, as a
// poster title has no room for them. If the text needs more lines, the last
// one ends with "…", shortened until it fits.
func wrap(m measurer, text string, maxWidth fixed.Int26_6, maxLines int) []string {
	if maxLines <= 0 {
		return nil
	}
	type line struct {
		raw  []rune // as taken from the text, trailing spaces included
		rest []rune // what follows in the same paragraph, for the ellipsis
	}
	var lines []line
	// One line more than allowed is enough to know the text overflows.
	full := func() bool { return len(lines) > maxLines }
	fits := func(rs []rune) bool { return measure(m, trimSpaceRunes(rs)) <= maxWidth }

	for _, para := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		rs := []rune(strings.TrimSpace(para))
		var cur []rune
		emit := func(rest []rune) {
			lines = append(lines, line{raw: cur, rest: rest})
			cur = nil
		}
		for start := 0; start < len(rs) && !full(); {
			if len(cur) == 0 && unicode.IsSpace(rs[start]) {
				start++ // a soft-wrapped line starts with no space
				continue
			}
			end := start + 1
			for end < len(rs) && !canBreak(rs[end-1], rs[end]) {
				end++
			}
			seg := rs[start:end]
			switch {
			case fits(append(cur[:len(cur):len(cur)], seg...)):
				cur = append(cur, seg...)
			case len(cur) > 0 && fits(seg):
				emit(rs[start:])
				continue // place seg again, on the new line
			default:
				// The segment alone is wider than a line: break it anywhere.
				if len(cur) > 0 {
					emit(rs[start:])
				}
				for i, r := range seg {
					if len(cur) > 0 && !fits(append(cur[:len(cur):len(cur)], r)) {
						if emit(rs[start+i:]); full() {
							break
						}
					}
					cur = append(cur, r)
				}
			}
			start = end
		}
		if len(cur) > 0 && !full() {
			emit(nil)
		}
		if full() {
			break
		}
	}

	n := min(len(lines), maxLines)
	out := make([]string, n)
	for i, l := range lines[:n] {
		out[i] = string(trimSpaceRunes(l.raw))
	}
	if len(lines) > maxLines {
		// The last line may take more of its paragraph now that it is cut anyway.
		last := lines[n-1]
		cand := append(last.raw[:len(last.raw):len(last.raw)], last.rest...)
		out[n-1] = withEllipsis(m, cand, maxWidth)
	}
	return out
}

// truncate returns s on one line, cut and ended with "…" if wider than maxWidth.
func truncate(m measurer, s string, maxWidth fixed.Int26_6) string {
	rs := []rune(s)
	if measure(m, rs) <= maxWidth {
		return s
	}
	return withEllipsis(m, rs, maxWidth)
}

// withEllipsis returns the longest prefix of rs that, followed by "…", fits
// in maxWidth. Trailing spaces and opening punctuation are dropped first: a
// line never ends with "（…".
func withEllipsis(m measurer, rs []rune, maxWidth fixed.Int26_6) string {
	ew := m.advance(ellipsis)
	var w fixed.Int26_6
	n := 0
	for i, r := range rs {
		adv := m.advance(r)
		if i > 0 {
			adv += m.kern(rs[i-1], r)
		}
		if w+adv+m.kern(r, ellipsis)+ew > maxWidth {
			break
		}
		w += adv
		n = i + 1
	}
	p := rs[:n]
	for len(p) > 0 && (unicode.IsSpace(p[len(p)-1]) || isOpening(p[len(p)-1])) {
		p = p[:len(p)-1]
	}
	return string(p) + string(ellipsis)
}

func trimSpaceRunes(rs []rune) []rune {
	for len(rs) > 0 && unicode.IsSpace(rs[len(rs)-1]) {
		rs = rs[:len(rs)-1]
	}
	return rs
}

// align places a line horizontally within a box.
type align int

const (
	alignLeft align = iota
	alignCenter
)

// drawText draws one line of s (already sanitized) with its baseline at y,
// starting at x (alignLeft) or centred on x (alignCenter).
func drawText(dst *image.RGBA, face font.Face, s string, x, y int, a align, c color.Color) {
	if s == "" {
		return
	}
	dot := fixed.P(x, y)
	if a == alignCenter {
		dot.X -= measure(faceMeasurer{face}, []rune(s)) / 2
	}
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: face, Dot: dot}
	d.DrawString(s)
}
