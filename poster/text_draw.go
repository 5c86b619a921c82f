package poster

import (
	"context"
	"image"
	"image/draw"
	"math"

	"github.com/go-text/typesetting/font"

	"github.com/wxposter/wxposter/poster/palette"
	"github.com/wxposter/wxposter/poster/text"
)

// drawGlyph draws glyph gid of font f with its pen at (x, y), y the baseline.
func (r *Renderer) drawGlyph(dst *image.RGBA, fs *text.Faces, f text.FontID, gid font.GID, sty *text.Style, x, y float64) {
	g, ix := r.glyphs.Glyph(fs, f, gid, sty.Size, sty.Stroke, x)
	at := image.Pt(int(ix), int(math.Round(y))).Add(g.Off)
	switch {
	case g.Mask != nil:
		drawMaskOver(dst, image.Rectangle{at, at.Add(g.Mask.Rect.Size())}, g.Mask, image.Point{}, sty.Color)
	case g.RGBA != nil:
		rect := image.Rectangle{at, at.Add(g.RGBA.Rect.Size())}
		draw.Draw(dst, rect, g.RGBA, image.Point{}, draw.Over)
	}
}

// drawText draws lay into dst. Painter's metrics: line i's baseline is at
// top + size + i×lineHeight, where size is the line's font size; lines are
// aligned within [left, left+boxW]. It stops with ctx's error once ctx is
// done (checked every line).
func (r *Renderer) drawText(ctx context.Context, dst *image.RGBA, fs *text.Faces, lay *text.Layout, left, top, boxW, lineHeight float64, align palette.Align) error {
	if len(lay.Lines) == 0 {
		return nil
	}
	b := dst.Bounds()
	for i, ln := range lay.Lines {
		if err := ctx.Err(); err != nil {
			return err
		}
		base := top + ln.Size + float64(i)*lineHeight
		if base-2*ln.Size > float64(b.Max.Y) && lineHeight >= 0 {
			break
		}
		if base+ln.Size < float64(b.Min.Y) {
			continue
		}
		x := left
		switch align {
		case palette.AlignMiddle:
			x += (boxW - ln.Width) / 2
		case palette.AlignEnd:
			x += boxW - ln.Width
		}
		for _, g := range ln.Glyphs {
			sty := &lay.Styles[g.Style]
			gx := x + g.X
			if gx > float64(b.Max.X)+sty.Size || gx < float64(b.Min.X)-3*sty.Size {
				continue
			}
			r.drawGlyph(dst, fs, g.Font, g.GID, sty, gx, base+g.Y)
		}
		for _, d := range ln.Decos {
			sty := &lay.Styles[d.Style]
			drawDecorations(dst, fs, sty, x+d.X0, x+d.X1, base)
		}
	}
	return nil
}

// drawDecorations draws a style's lines under, over or through a run:
// Painter's positions, except that the underline sits at the font's
// underline position, clear of CJK glyphs, which reach below the baseline.
func drawDecorations(dst *image.RGBA, fs *text.Faces, sty *text.Style, x0, x1, base float64) {
	th := sty.Size / 13
	under := fs.UnderlinePosition(sty.Font())
	for _, d := range []struct {
		bit palette.TextDeco
		y   float64 // centre of the line
	}{
		{palette.DecoUnderline, base - under*sty.Size + th/2},
		{palette.DecoOverline, base - sty.Size},
		{palette.DecoLineThrough, base - sty.Size/3},
	} {
		if sty.Deco&uint8(d.bit) != 0 {
			fillRectAA(dst, x0, d.y-th/2, x1, d.y+th/2, sty.Color)
		}
	}
}

// lineHeightOf returns the distance between baselines for a css: its
// lineHeight, a multiple of the font size, or the font size (Painter's
// default).
func lineHeightOf(css *palette.CSS, fontSize float64, env *palette.Env) (float64, error) {
	switch {
	case css.LineHeight.Set():
		return css.LineHeight.Resolve(env)
	case css.LineHeightMult > 0:
		return css.LineHeightMult * fontSize, nil
	}
	return fontSize, nil
}
