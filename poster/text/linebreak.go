package text

import (
	"strings"
	"unicode"
)

// maxTextRunes caps the characters laid out in one call: more is cut.
const maxTextRunes = 4000

// ellipsis ends a truncated line.
const ellipsis = '…'

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

// isPictograph reports emoji and pictographic symbols, which break like
// ideographs (UAX #14 class ID).
func isPictograph(r rune) bool {
	return r >= 0x1F000 || (r >= 0x2600 && r <= 0x27BF) || isEmojiPresentation(r)
}

// canBreak reports whether a line may break between a and b (the base
// characters on either side).
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
	case isWide(a), isWide(b), isPictograph(a), isPictograph(b):
		return true
	case a == '-' && unicode.IsLetter(b): // after the hyphen of "well-known"
		return true
	}
	return false // inside a Latin word, number or URL
}

// unit is what line breaking works on: one shaped cluster (a character, an
// emoji sequence, a ligature) with its advance. first and last are the base
// characters at its ends, for the break rules.
type unit struct {
	first, last rune
	space       bool
	w           float64
	g0, g1      int32 // its glyphs in the paragraph
	style       uint16
}

// lineSpan is a line: units [a, b) of paragraph para.
type lineSpan struct{ para, a, b int }

// spanWidth is the width of us[a:b] without trailing spaces.
func spanWidth(us []unit, a, b int) float64 {
	for b > a && us[b-1].space {
		b--
	}
	var w float64
	for _, u := range us[a:b] {
		w += u.w
	}
	return w
}

// breakUnits breaks one paragraph greedily into lines no wider than maxW
// (no limit if maxW <= 0), with CJK line breaking: any two CJK characters may
// be split, Latin words and digit runs stay whole (unless one alone is wider
// than a line), and the kinsoku rules of canBreak hold. It stops once there
// are more than limit lines in all (limit <= 0: no limit): one line more than
// allowed is enough to know the text is cut. A blank paragraph is one empty
// line. Spaces at the start of the paragraph are kept (an indent).
func breakUnits(us []unit, para int, maxW float64, lines []lineSpan, limit int) []lineSpan {
	// Prefix sums and the last non-space unit make every width O(1): a
	// 4000-character paragraph must not cost quadratic time.
	pre := make([]float64, len(us)+1)
	lastInk := make([]int, len(us)+1) // lastInk[b]: 1 + index of the last non-space unit before b
	for i, u := range us {
		pre[i+1] = pre[i] + u.w
		lastInk[i+1] = lastInk[i]
		if !u.space {
			lastInk[i+1] = i + 1
		}
	}
	full := func() bool { return limit > 0 && len(lines) > limit }
	fits := func(a, b int) bool { return maxW <= 0 || pre[max(lastInk[b], a)]-pre[a] <= maxW }
	before := len(lines)
	cur := -1     // first unit of the line being filled
	soft := false // the next line is a soft wrap, not the paragraph's first
	emit := func(end int) {
		lines = append(lines, lineSpan{para, cur, end})
		cur = -1
		soft = true
	}
	for start := 0; start < len(us) && !full(); {
		if cur < 0 && soft && us[start].space {
			// A soft-wrapped line starts with no space; the paragraph's
			// own indent (spaces, U+3000) is kept, as Painter keeps it.
			start++
			continue
		}
		end := start + 1
		for end < len(us) && !canBreak(us[end-1].last, us[end].first) {
			end++
		}
		a := cur
		if a < 0 {
			a = start
		}
		switch {
		case fits(a, end):
			cur = a
		case cur >= 0 && fits(start, end):
			emit(start)
			continue // place the segment again, on the new line
		default:
			// The segment alone is wider than a line: break it anywhere.
			if cur >= 0 {
				emit(start)
			}
			for i := start; i < end && !full(); i++ {
				if cur >= 0 && !fits(cur, i+1) {
					emit(i)
				}
				if cur < 0 {
					cur = i
				}
			}
		}
		start = end
	}
	if cur >= 0 && !full() {
		emit(len(us))
	}
	if len(lines) == before && !full() {
		lines = append(lines, lineSpan{para, 0, 0})
	}
	return lines
}

// ellipsisCut returns where the last shown line, which starts at unit a of
// us, is cut so that it and an ellipsis of width ew fit in maxW (maxW <= 0:
// the line ends at b as broken). Trailing spaces and opening punctuation are
// dropped: a line never ends with "（…".
func ellipsisCut(us []unit, a, b int, ew, maxW float64) int {
	k := b
	if maxW > 0 {
		k = a
		w := 0.0
		for i := a; i < len(us); i++ {
			if w+us[i].w+ew > maxW {
				break
			}
			w += us[i].w
			k = i + 1
		}
	}
	for k > a && (us[k-1].space || isOpening(us[k-1].last)) {
		k--
	}
	return k
}

// brokenLine is a line of text: units [a, b) of paragraph para, trailing
// spaces excluded, and whether an ellipsis ends it.
type brokenLine struct {
	para, a, b int
	ellipsis   bool
}

// breakParagraphs breaks paragraphs into lines (see breakUnits). With
// maxLines > 0, text that needs more lines is cut: the last line takes as
// much of its paragraph as fits before an ellipsis, whose width ellW gives
// for the line. Text that fits exactly gets no ellipsis.
func breakParagraphs(paras [][]unit, maxW float64, maxLines int, ellW func(l lineSpan) float64) []brokenLine {
	var spans []lineSpan
	for i, us := range paras {
		if maxLines > 0 && len(spans) > maxLines {
			break
		}
		spans = breakUnits(us, i, maxW, spans, maxLines)
	}
	truncated := maxLines > 0 && len(spans) > maxLines
	if truncated {
		spans = spans[:maxLines]
	}
	out := make([]brokenLine, len(spans))
	for i, s := range spans {
		us := paras[s.para]
		l := brokenLine{para: s.para, a: s.a, b: s.b}
		if truncated && i == len(spans)-1 {
			l.ellipsis = true
			l.b = ellipsisCut(us, s.a, s.b, ellW(s), maxW)
		}
		for l.b > l.a && us[l.b-1].space {
			l.b--
		}
		out[i] = l
	}
	return out
}
