package poster

import (
	"image"
	"image/draw"
	"math"

	"github.com/go-text/typesetting/font"
)

// drawGlyph draws glyph gid of font f with its pen at (x, y), y the baseline.
func (r *Renderer) drawGlyph(dst *image.RGBA, fs *faceSet, f fontID, gid font.GID, sty *textStyle, x, y float64) {
	g, ix := r.glyphs.glyph(fs, f, gid, sty.size, sty.stroke, x)
	at := image.Pt(int(ix), int(math.Round(y))).Add(g.off)
	switch {
	case g.mask != nil:
		drawMaskOver(dst, image.Rectangle{at, at.Add(g.mask.Rect.Size())}, g.mask, image.Point{}, sty.color)
	case g.rgba != nil:
		rect := image.Rectangle{at, at.Add(g.rgba.Rect.Size())}
		draw.Draw(dst, rect, g.rgba, image.Point{}, draw.Over)
	}
}

// drawText draws lay into dst. Painter's metrics: line i's baseline is at
// top + size + i×lineHeight, where size is the line's font size; lines are
// aligned within [left, left+boxW].
func (r *Renderer) drawText(dst *image.RGBA, fs *faceSet, lay *textLayout, left, top, boxW, lineHeight float64, align hAlign) {
	if len(lay.lines) == 0 {
		return
	}
	b := dst.Bounds()
	for i, ln := range lay.lines {
		base := top + ln.size + float64(i)*lineHeight
		if base-2*ln.size > float64(b.Max.Y) && lineHeight >= 0 {
			break
		}
		if base+ln.size < float64(b.Min.Y) {
			continue
		}
		x := left
		switch align {
		case alignMiddle:
			x += (boxW - ln.width) / 2
		case alignEnd:
			x += boxW - ln.width
		}
		for _, g := range ln.glyphs {
			sty := &lay.styles[g.style]
			gx := x + g.x
			if gx > float64(b.Max.X)+sty.size || gx < float64(b.Min.X)-3*sty.size {
				continue
			}
			r.drawGlyph(dst, fs, g.font, g.gid, sty, gx, base+g.y)
		}
		for _, d := range ln.decos {
			sty := &lay.styles[d.style]
			drawDecorations(dst, fs, sty, x+d.x0, x+d.x1, base)
		}
	}
}

// drawDecorations draws a style's lines under, over or through a run:
// Painter's positions, except that the underline sits at the font's
// underline position, clear of CJK glyphs, which reach below the baseline.
func drawDecorations(dst *image.RGBA, fs *faceSet, sty *textStyle, x0, x1, base float64) {
	th := sty.size / 13
	under := fs.underlinePosition(sty.textFont())
	for _, d := range []struct {
		bit textDeco
		y   float64 // centre of the line
	}{
		{decoUnderline, base - under*sty.size + th/2},
		{decoOverline, base - sty.size},
		{decoLineThrough, base - sty.size/3},
	} {
		if sty.deco&uint8(d.bit) != 0 {
			fillRectAA(dst, x0, d.y-th/2, x1, d.y+th/2, sty.color)
		}
	}
}

// lineHeightOf returns the distance between baselines for a css: its
// lineHeight, a multiple of the font size, or the font size (Painter's
// default).
func lineHeightOf(css *viewCSS, fontSize float64, env *lengthEnv) (float64, error) {
	switch {
	case css.lineHeight.set():
		return css.lineHeight.resolve(env)
	case css.lineHeightMult > 0:
		return css.lineHeightMult * fontSize, nil
	}
	return fontSize, nil
}
