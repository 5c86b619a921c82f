package text

import "github.com/go-text/typesetting/font"

// PlacedGlyph is a glyph of a laid-out line; x is from the line's start, y
// from its baseline (down).
type PlacedGlyph struct {
	Font  FontID
	GID   font.GID
	X, Y  float64
	Style uint16
}

// DecoSpan is where a style with a decoration runs on a line.
type DecoSpan struct {
	X0, X1 float64
	Style  uint16
}

type Line struct {
	Glyphs []PlacedGlyph
	Width  float64
	Size   float64 // the largest font size on the line
	Decos  []DecoSpan
}

// Layout is text broken into lines, ready to draw.
type Layout struct {
	Styles    []Style
	Lines     []Line
	Natural   float64 // width of the widest paragraph on one line
	truncated bool
}

// Width is the widest line.
func (l *Layout) Width() float64 {
	w := 0.0
	for _, ln := range l.Lines {
		w = max(w, ln.Width)
	}
	return w
}

// Layout shapes spans and breaks them into lines no wider than maxW
// (maxW <= 0: lines break only at "\n"). With maxLines > 0, text that needs
// more lines is cut and its last line ends with "…"; text that fits exactly
// gets no "…".
func (fs *Faces) Layout(spans []Span, maxW float64, maxLines int) *Layout {
	lay := &Layout{Styles: make([]Style, len(spans))}
	for i, sp := range spans {
		lay.Styles[i] = sp.Style
	}
	rs, st := sanitizeRunes(spans)
	if len(rs) == 0 {
		return lay
	}
	var paras []paragraph
	var units [][]unit
	var paraStyle []uint16 // for blank lines and an ellipsis after nothing
	for start, i := 0, 0; i <= len(rs); i++ {
		if i < len(rs) && rs[i] != '\n' {
			continue
		}
		p := fs.shapeParagraph(rs[start:i], st[start:i], lay.Styles)
		paras = append(paras, p)
		units = append(units, p.units)
		ps := st[min(start, len(st)-1)]
		if start == i && i > 0 {
			ps = st[i-1]
		}
		paraStyle = append(paraStyle, ps)
		lay.Natural = max(lay.Natural, spanWidth(p.units, 0, len(p.units)))
		start = i + 1
	}
	var ell *paragraph
	ellStyle := func(s lineSpan) uint16 {
		if s.b > s.a {
			return paras[s.para].units[s.b-1].style
		}
		return paraStyle[s.para]
	}
	lines := breakParagraphs(units, maxW, maxLines, func(s lineSpan) float64 {
		e := fs.shapeParagraph([]rune{ellipsis}, []uint16{ellStyle(s)}, lay.Styles)
		ell = &e
		return spanWidth(e.units, 0, len(e.units))
	})
	for _, l := range lines {
		p := &paras[l.para]
		var ln Line
		ln.Size = lay.Styles[paraStyle[l.para]].Size
		if l.b > l.a || (l.ellipsis && ell != nil) {
			ln.Size = 0
		}
		x := ln.add(p, p.units[l.a:l.b], lay.Styles, 0)
		if l.ellipsis && ell != nil {
			x = ln.add(ell, ell.units, lay.Styles, x)
			lay.truncated = true
		}
		ln.Width = x
		lay.Lines = append(lay.Lines, ln)
	}
	return lay
}

// add appends units of p to the line from x and returns the new end.
func (ln *Line) add(p *paragraph, us []unit, styles []Style, x float64) float64 {
	for _, u := range us {
		sty := &styles[u.style]
		ln.Size = max(ln.Size, sty.Size)
		for _, g := range p.glyphs[u.g0:u.g1] {
			ln.Glyphs = append(ln.Glyphs, PlacedGlyph{Font: g.font, GID: g.gid, X: x + g.x, Y: g.y, Style: u.style})
		}
		if sty.Deco != 0 {
			if n := len(ln.Decos); n > 0 && ln.Decos[n-1].Style == u.style && ln.Decos[n-1].X1 == x {
				ln.Decos[n-1].X1 = x + u.w
			} else {
				ln.Decos = append(ln.Decos, DecoSpan{x, x + u.w, u.style})
			}
		}
		x += u.w
	}
	return x
}

// MaxSize is the largest font size of the layout.
func (l *Layout) MaxSize() float64 {
	m := 0.0
	for _, s := range l.Styles {
		m = max(m, s.Size)
	}
	return m
}

// GlyphCount is the number of glyphs drawn.
func (l *Layout) GlyphCount() int {
	n := 0
	for _, ln := range l.Lines {
		n += len(ln.Glyphs)
	}
	return n
}
