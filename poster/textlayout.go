package poster

import "github.com/go-text/typesetting/font"

// placedGlyph is a glyph of a laid-out line; x is from the line's start, y
// from its baseline (down).
type placedGlyph struct {
	font  fontID
	gid   font.GID
	x, y  float64
	style uint16
}

// decoSpan is where a style with a decoration runs on a line.
type decoSpan struct {
	x0, x1 float64
	style  uint16
}

type textLine struct {
	glyphs []placedGlyph
	width  float64
	size   float64 // the largest font size on the line
	decos  []decoSpan
}

// textLayout is text broken into lines, ready to draw.
type textLayout struct {
	styles    []textStyle
	lines     []textLine
	natural   float64 // width of the widest paragraph on one line
	truncated bool
}

// width is the widest line.
func (l *textLayout) width() float64 {
	w := 0.0
	for _, ln := range l.lines {
		w = max(w, ln.width)
	}
	return w
}

// layoutText shapes spans and breaks them into lines no wider than maxW
// (maxW <= 0: lines break only at "\n"). With maxLines > 0, text that needs
// more lines is cut and its last line ends with "…"; text that fits exactly
// gets no "…".
func (fs *faceSet) layoutText(spans []textSpan, maxW float64, maxLines int) *textLayout {
	lay := &textLayout{styles: make([]textStyle, len(spans))}
	for i, sp := range spans {
		lay.styles[i] = sp.style
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
		p := fs.shapeParagraph(rs[start:i], st[start:i], lay.styles)
		paras = append(paras, p)
		units = append(units, p.units)
		ps := st[min(start, len(st)-1)]
		if start == i && i > 0 {
			ps = st[i-1]
		}
		paraStyle = append(paraStyle, ps)
		lay.natural = max(lay.natural, spanWidth(p.units, 0, len(p.units)))
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
		e := fs.shapeParagraph([]rune{ellipsis}, []uint16{ellStyle(s)}, lay.styles)
		ell = &e
		return spanWidth(e.units, 0, len(e.units))
	})
	for _, l := range lines {
		p := &paras[l.para]
		var ln textLine
		ln.size = lay.styles[paraStyle[l.para]].size
		if l.b > l.a || (l.ellipsis && ell != nil) {
			ln.size = 0
		}
		x := ln.add(p, p.units[l.a:l.b], lay.styles, 0)
		if l.ellipsis && ell != nil {
			x = ln.add(ell, ell.units, lay.styles, x)
			lay.truncated = true
		}
		ln.width = x
		lay.lines = append(lay.lines, ln)
	}
	return lay
}

// add appends units of p to the line from x and returns the new end.
func (ln *textLine) add(p *paragraph, us []unit, styles []textStyle, x float64) float64 {
	for _, u := range us {
		sty := &styles[u.style]
		ln.size = max(ln.size, sty.size)
		for _, g := range p.glyphs[u.g0:u.g1] {
			ln.glyphs = append(ln.glyphs, placedGlyph{font: g.font, gid: g.gid, x: x + g.x, y: g.y, style: u.style})
		}
		if sty.deco != 0 {
			if n := len(ln.decos); n > 0 && ln.decos[n-1].style == u.style && ln.decos[n-1].x1 == x {
				ln.decos[n-1].x1 = x + u.w
			} else {
				ln.decos = append(ln.decos, decoSpan{x, x + u.w, u.style})
			}
		}
		x += u.w
	}
	return x
}

// maxSize is the largest font size of the layout.
func (l *textLayout) maxSize() float64 {
	m := 0.0
	for _, s := range l.styles {
		m = max(m, s.size)
	}
	return m
}

// glyphCount is the number of glyphs drawn.
func (l *textLayout) glyphCount() int {
	n := 0
	for _, ln := range l.lines {
		n += len(ln.glyphs)
	}
	return n
}
