package bench

import (
	"image"
	"image/color"

	"github.com/fogleman/gg"
	"golang.org/x/image/font"
)

// ggPoster draws the reference poster "the usual way" with fogleman/gg, as
// Go poster projects on GitHub do: a gg.Context the size of the poster, the
// background and the code drawn with DrawImage, the avatar clipped to a
// circle, shapes with gg's path API, and text with DrawString after
// SetFontFace. gg's LoadFontFace cannot read the CFF outlines of Noto Sans
// CJK, so the faces come from x/image/font/opentype, made once, as are the
// decoded inputs (the same images wxposter gets): only drawing is timed.
type ggPoster struct {
	bg, code, avatar image.Image
	nickFace         fontFace
	titleFace        fontFace
	priceFace        fontFace
	footFace         fontFace
	l                refLayout
}

type fontFace = font.Face

// render draws one poster and returns its pixels.
func (p *ggPoster) render(nickname, title, price, footer string) *image.RGBA {
	l := p.l
	dc := gg.NewContext(l.W, l.H)

	// Background, scaled to the poster (Painter stretches it).
	bb := p.bg.Bounds()
	dc.Push()
	dc.Scale(float64(l.W)/float64(bb.Dx()), float64(l.H)/float64(bb.Dy()))
	dc.DrawImage(p.bg, 0, 0)
	dc.Pop()

	// The white card.
	dc.DrawRoundedRectangle(l.Card.X, l.Card.Y, l.Card.W, l.Card.H, l.Card.R)
	dc.SetColor(color.White)
	dc.Fill()

	// Avatar in a circle, with a white ring.
	a := l.Avatar
	cx, cy, r := a.X+a.D/2, a.Y+a.D/2, a.D/2
	ab := p.avatar.Bounds()
	dc.Push()
	dc.DrawCircle(cx, cy, r)
	dc.Clip()
	dc.Translate(a.X, a.Y)
	dc.Scale(a.D/float64(ab.Dx()), a.D/float64(ab.Dy()))
	dc.DrawImage(p.avatar, 0, 0)
	dc.ResetClip()
	dc.Pop()
	dc.DrawCircle(cx, cy, r-a.Border/2)
	dc.SetLineWidth(a.Border)
	dc.SetColor(color.White)
	dc.Stroke()

	// Nickname, centred.
	dc.SetFontFace(p.nickFace)
	dc.SetHexColor(l.Nick.Color)
	dc.DrawStringAnchored(nickname, l.Nick.X, l.Nick.Y+l.Nick.Size, 0.5, 0)

	// Title: CJK has no spaces, so gg's WordWrap is no use; the usual code
	// measures rune by rune and ends the last line with "…".
	dc.SetFontFace(p.titleFace)
	dc.SetHexColor(l.Title.Color)
	for i, line := range wrapCJK(dc, title, l.Title.W, l.Title.Lines) {
		dc.DrawString(line, l.Title.X, l.Title.Y+l.Title.Size+float64(i)*l.Title.LineHeight)
	}

	// Price.
	dc.SetFontFace(p.priceFace)
	dc.SetHexColor(l.Price.Color)
	dc.DrawString(price, l.Price.X, l.Price.Y+l.Price.Size)

	// The code, scaled to its box (430 px to 430 px here).
	cb := p.code.Bounds()
	dc.Push()
	dc.Translate(l.Code.X, l.Code.Y)
	dc.Scale(l.Code.D/float64(cb.Dx()), l.Code.D/float64(cb.Dy()))
	dc.DrawImage(p.code, 0, 0)
	dc.Pop()

	// Footer, centred.
	dc.SetFontFace(p.footFace)
	dc.SetHexColor(l.Footer.Color)
	dc.DrawStringAnchored(footer, l.Footer.X, l.Footer.Y+l.Footer.Size, 0.5, 0)

	return dc.Image().(*image.RGBA)
}

// wrapCJK breaks s into at most maxLines lines no wider than w, ending the
// last with "…" if text is left over.
func wrapCJK(dc *gg.Context, s string, w float64, maxLines int) []string {
	var lines []string
	rs := []rune(s)
	for len(rs) > 0 && len(lines) < maxLines {
		n := 0
		for n < len(rs) {
			if lw, _ := dc.MeasureString(string(rs[:n+1])); lw > w {
				break
			}
			n++
		}
		n = max(n, 1)
		if len(lines) == maxLines-1 && n < len(rs) {
			for n > 0 {
				if lw, _ := dc.MeasureString(string(rs[:n]) + "…"); lw <= w {
					break
				}
				n--
			}
			lines = append(lines, string(rs[:n])+"…")
			return lines
		}
		lines = append(lines, string(rs[:n]))
		rs = rs[n:]
	}
	return lines
}
