package text

import (
	"image/color"
	"math"
	"unicode"

	"github.com/go-text/typesetting/di"
	"github.com/go-text/typesetting/font"
	"github.com/go-text/typesetting/language"
	"github.com/go-text/typesetting/shaping"
	"golang.org/x/image/math/fixed"
)

// Style is how a run of text looks.
type Style struct {
	Bold   bool
	Size   float64    // px
	Color  color.RGBA // premultiplied
	Deco   uint8      // the renderer's decoration bits; layout only tracks where they are set
	Stroke bool
}

func (s *Style) Font() FontID {
	if s.Bold {
		return fontBold
	}
	return fontRegular
}

// Span is a run of text in one style.
type Span struct {
	Text  string
	Style Style
}

// glyphPos is a shaped glyph; x and y are relative to its unit's pen
// position, y down.
type glyphPos struct {
	font FontID
	gid  font.GID
	x, y float64
}

// paragraph is a shaped line of text between hard breaks.
type paragraph struct {
	units  []unit
	glyphs []glyphPos
}

var zhHans = language.NewLanguage("zh-Hans")

// sanitizeRunes flattens spans into runes with a style index each: "\r\n"
// and "\r" become "\n", tabs become spaces, other control characters are
// dropped, and at most maxTextRunes runes are kept.
func sanitizeRunes(spans []Span) ([]rune, []uint16) {
	var rs []rune
	var st []uint16
	for si, sp := range spans {
		prevCR := false
		for _, r := range sp.Text {
			if len(rs) >= maxTextRunes {
				return rs, st
			}
			cr := prevCR
			prevCR = r == '\r'
			switch {
			case r == '\n' && cr:
				continue
			case r == '\r':
				r = '\n'
			case r == '\t':
				r = ' '
			case r == '\n':
			case unicode.IsControl(r), r == unicode.ReplacementChar:
				continue
			}
			rs = append(rs, r)
			st = append(st, uint16(si))
		}
	}
	return rs, st
}

// shapeParagraph shapes one paragraph (no "\n" in rs). Each character goes
// to the text font of its style if that font has it, else to the emoji font;
// emoji sequences prefer the emoji font. Characters no font has are left
// out, so no .notdef box is ever drawn.
func (fs *Faces) shapeParagraph(rs []rune, st []uint16, styles []Style) paragraph {
	// Pick a font per cluster, dropping clusters nobody can draw.
	type run struct {
		start, end int
		font       FontID
		style      uint16
		script     language.Script
	}
	kept := make([]rune, 0, len(rs))
	keptSt := make([]uint16, 0, len(rs))
	clusterStart := make([]bool, 0, len(rs))
	var runs []run
	for i := 0; i < len(rs); {
		j := clusterEnd(rs, i)
		cl := rs[i:j]
		f, ok := fs.pickFont(cl, styles[st[i]].Font())
		if ok {
			sc := scriptOf(cl[0])
			if f == fontEmoji {
				sc = language.Common
			}
			n := len(runs)
			switch {
			case n > 0 && runs[n-1].font == f && runs[n-1].style == st[i] && runs[n-1].end == len(kept) &&
				(sc == runs[n-1].script || sc == language.Common || sc == language.Inherited):
				runs[n-1].end += len(cl)
			case n > 0 && runs[n-1].font == f && runs[n-1].style == st[i] && runs[n-1].end == len(kept) &&
				(runs[n-1].script == language.Common || runs[n-1].script == language.Inherited):
				runs[n-1].end += len(cl)
				runs[n-1].script = sc
			default:
				runs = append(runs, run{len(kept), len(kept) + len(cl), f, st[i], sc})
			}
			for k := range cl {
				clusterStart = append(clusterStart, k == 0)
				keptSt = append(keptSt, st[i])
			}
			kept = append(kept, cl...)
		}
		i = j
	}

	var p paragraph
	for _, rn := range runs {
		sty := &styles[rn.style]
		sc := rn.script
		if sc == language.Common || sc == language.Inherited {
			sc = language.Han
		}
		if rn.font == fontEmoji {
			sc = language.Common
		}
		out := fs.shaper.Shape(shaping.Input{
			Text: kept, RunStart: rn.start, RunEnd: rn.end,
			Direction: di.DirectionLTR, Face: fs.faces[rn.font],
			Size: fixed.Int26_6(math.Round(sty.Size * 64)), Script: sc, Language: zhHans,
		})
		p.addRun(out, kept, clusterStart, rn.font, rn.style)
	}
	return p
}

// addRun turns shaped glyphs into units, one per cluster; a shaper cluster
// that starts inside a user-perceived character joins the unit before it.
func (p *paragraph) addRun(out shaping.Output, text []rune, clusterStart []bool, f FontID, style uint16) {
	pen := 0.0 // within the current unit
	for gi := 0; gi < len(out.Glyphs); {
		ti := out.Glyphs[gi].TextIndex()
		gj := gi + 1
		for gj < len(out.Glyphs) && out.Glyphs[gj].TextIndex() == ti {
			gj++
		}
		end := ti + max(out.Glyphs[gi].RunesCount(), 1)
		n := len(p.units)
		merge := n > 0 && ti >= 0 && ti < len(clusterStart) && !clusterStart[ti] && int(p.units[n-1].g1) == len(p.glyphs)
		if !merge {
			pen = 0
			u := unit{first: baseRune(text, ti), last: baseRune(text, ti), space: true, style: style}
			u.g0, u.g1 = int32(len(p.glyphs)), int32(len(p.glyphs))
			p.units = append(p.units, u)
			n++
		}
		u := &p.units[n-1]
		for k := max(ti, 0); k < min(end, len(text)); k++ {
			if r := text[k]; !unicode.IsSpace(r) {
				u.space = false
				if !isExtend(r) && r != zwj && (k == ti || !isRegionalIndicator(r)) {
					u.last = r
				}
			}
		}
		for _, g := range out.Glyphs[gi:gj] {
			adv := float64(g.Advance) / 64
			if g.GlyphID == 0 {
				continue // .notdef: never drawn, takes no room
			}
			p.glyphs = append(p.glyphs, glyphPos{
				font: f, gid: g.GlyphID,
				x: pen + float64(g.XOffset)/64, y: -float64(g.YOffset) / 64,
			})
			pen += adv
			u.w += adv
		}
		u.g1 = int32(len(p.glyphs))
		gi = gj
	}
}

func baseRune(text []rune, i int) rune {
	if i < 0 || i >= len(text) {
		return 0
	}
	return text[i]
}

// pickFont chooses the font for a cluster: emoji sequences go to the emoji
// font, other characters to the style's text font, and characters it lacks
// to the emoji font. ok is false if no font has the cluster's base.
func (fs *Faces) pickFont(cl []rune, text FontID) (FontID, bool) {
	base := cl[0]
	emoji := fs.faces[fontEmoji]
	hasEmoji := func() bool {
		if emoji == nil {
			return false
		}
		_, ok := emoji.NominalGlyph(base)
		return ok
	}
	if wantsEmoji(cl) && hasEmoji() {
		return fontEmoji, true
	}
	if unicode.IsSpace(base) && base != ' ' && base != 0x3000 && base != 0xA0 {
		cl[0] = ' ' // odd spaces the font may lack
		base = ' '
	}
	if _, ok := fs.faces[text].NominalGlyph(base); ok {
		return text, true
	}
	if hasEmoji() {
		return fontEmoji, true
	}
	return 0, false
}

// scriptOf is the Unicode script of r; punctuation and symbols are Common.
func scriptOf(r rune) language.Script {
	if r < 0x80 {
		if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' {
			return language.Latin
		}
		return language.Common
	}
	return language.LookupScript(r)
}
