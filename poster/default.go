package poster

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"strings"
	"time"

	xdraw "golang.org/x/image/draw"

	"github.com/wxposter/wxposter/poster/palette"
	"github.com/wxposter/wxposter/poster/text"
)

// DefaultTemplate is the name of the built-in template.
const DefaultTemplate = "default"

// DefaultTemplateVersion changes whenever the layout of DefaultTemplate does.
const DefaultTemplateVersion = 1

// DefaultTemplateFields are the data keys the default template reads; all are
// optional. "avatar" is an image URL, to be fetched with a Fetcher.
var DefaultTemplateFields = []string{"nickname", "title", "avatar"}

// DefaultInput is what the default template draws. Its images must not be
// changed once drawn: the renderer keeps them prepared, by identity
// (scalecache.go).
type DefaultInput struct {
	Code     image.Image // the mini-program code (required)
	Avatar   image.Image // optional; drawn as a circle
	Nickname string      // optional; one line, cut with "…"
	Title    string      // optional; at most 2 lines, cut with "…"; empty means defaultTitle
}

// ErrNoCode is returned when DefaultInput.Code is missing or empty.
var ErrNoCode = errors.New("poster: mini-program code image is required")

// Layout of the default template: the classic 750×1334 WeChat share poster.
// A green gradient header holds the avatar and nickname; a white card below
// holds the title, the code and its caption.
const (
	defW, defH = 750, 1334
	headerH    = 734 // the gradient covers the top 55 %

	avatarD    = 132
	avatarRing = 6
	avatarCX   = defW / 2
	avatarCY   = 196

	nickPx       = 32
	nickBaseline = 346
	nickMaxW     = 600

	cardX, cardY = 40, 420
	cardW, cardH = defW - 2*cardX, 820
	cardRadius   = 28
	cardPad      = 48

	titlePx       = 40
	titleLineH    = 60
	titleBaseline = cardY + 94 // first line
	titleMaxLines = 2

	dividerY = cardY + 232

	codeSize = 430
	codeY    = dividerY + 40

	captionPx       = 24
	captionBaseline = codeY + codeSize + 52
	captionText     = "长按识别小程序码"

	// defaultTitle fills the title slot when there is no title (or nothing
	// drawable in it): an empty ticket stub looks broken.
	defaultTitle = "给你分享了一个小程序"
)

// Colours of the default template.
var (
	brandTop    = color.RGBA{0x07, 0xC1, 0x60, 0xff} // WeChat green
	brandBottom = color.RGBA{0x05, 0x8A, 0x7E, 0xff} // deep teal
	pageColor   = color.RGBA{0xF2, 0xF4, 0xF5, 0xff}
	titleColor  = color.RGBA{0x1F, 0x23, 0x29, 0xff}
	nickColor   = color.RGBA{0xff, 0xff, 0xff, 0xff}
	mutedColor  = color.RGBA{0x99, 0x99, 0x99, 0xff}
	lineColor   = color.RGBA{0xE3, 0xE6, 0xE8, 0xff}
)

// defaultTemplate holds what every render of the default template shares.
type defaultTemplate struct {
	bg         *image.RGBA // the finished background, copied per render
	avatarMask *image.Alpha
	ringMask   *image.Alpha
}

func newDefaultTemplate(r *Renderer, fc *text.Faces) (*defaultTemplate, error) {
	t := &defaultTemplate{
		bg:         defaultBackground(),
		avatarMask: circleMask(avatarD),
		ringMask:   circleMask(avatarD + 2*avatarRing),
	}
	// The caption never changes: draw it once into the background.
	lay := fc.Layout([]text.Span{{Text: captionText, Style: text.Style{Size: captionPx, Color: mutedColor}}}, 0, 1)
	if w := lay.Width(); w > cardW-2*cardPad {
		return nil, fmt.Errorf("caption %q is %.0fpx wide, wider than the card", captionText, w)
	}
	r.drawCentered(t.bg, fc, lay, defW/2, captionBaseline, 0)
	return t, nil
}

// drawCentered draws lay centred on x, its first baseline at y.
func (r *Renderer) drawCentered(dst *image.RGBA, fc *text.Faces, lay *text.Layout, x, y, lineH float64) {
	if len(lay.Lines) == 0 {
		return
	}
	_ = r.drawText(context.Background(), dst, fc, lay, x, y-lay.Lines[0].Size, 0, lineH, palette.AlignMiddle) // at most two short lines
}

// defaultBackground paints the static layers: header gradient with soft
// bubbles, page colour, the card with its shadow, and a divider with ticket
// notches. It runs once, so it favours simple per-pixel maths over speed.
func defaultBackground() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, defW, defH))
	pix := img.Pix

	type bubble struct {
		x, y, r float64
		a       float64
	}
	bubbles := []bubble{
		{690, 40, 200, 0.10},
		{40, 330, 130, 0.07},
		{600, 330, 60, 0.08},
		{150, 70, 36, 0.09},
	}
	white := color.RGBA{0xff, 0xff, 0xff, 0xff}
	black := color.RGBA{0, 0, 0, 0xff}
	card := image.Rect(cardX, cardY, cardX+cardW, cardY+cardH)
	notchR := 16.0

	for y := range defH {
		for x := range defW {
			i := y*img.Stride + x*4
			fx, fy := float64(x)+0.5, float64(y)+0.5
			// Page: diagonal brand gradient on top, flat grey below.
			c := pageColor
			if y < headerH {
				c = lerpRGBA(brandTop, brandBottom, 0.8*fy/headerH+0.2*fx/defW)
			}
			pix[i], pix[i+1], pix[i+2], pix[i+3] = c.R, c.G, c.B, 0xff
			if y < headerH {
				for _, b := range bubbles {
					d := math.Hypot(fx-b.x, fy-b.y) - b.r
					blendPix(pix, i, white, b.a*clamp01(0.5-d))
				}
			}
			// Card shadow: a blurred, slightly lowered copy of the card.
			sd := roundedRectDist(fx, fy-10, card, cardRadius)
			blendPix(pix, i, black, 0.10*(1-smoothstep(-12, 28, sd)))
			// Card, with a semicircular notch on each side at the divider.
			cov := clamp01(0.5 - roundedRectDist(fx, fy, card, cardRadius))
			for _, nx := range []float64{cardX, cardX + cardW} {
				nd := math.Hypot(fx-nx, fy-dividerY) - notchR
				cov *= clamp01(0.5 + nd)
			}
			blendPix(pix, i, white, cov)
		}
	}
	// Dashed divider between the notches.
	for x := cardX + int(notchR) + 20; x < cardX+cardW-int(notchR)-20; x += 16 {
		draw.Draw(img, image.Rect(x, dividerY-1, min(x+8, cardX+cardW-int(notchR)-20), dividerY+1),
			image.NewUniform(lineColor), image.Point{}, draw.Src)
	}
	return img
}

func clamp01(v float64) float64 { return min(max(v, 0), 1) }

// RenderDefault renders the default template into a new image owned by the
// caller. It checks ctx between steps and returns ctx.Err() once ctx is done.
func (r *Renderer) RenderDefault(ctx context.Context, in DefaultInput) (*image.RGBA, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if in.Code == nil || in.Code.Bounds().Empty() {
		return nil, ErrNoCode
	}
	start := time.Now()
	t := r.def
	dst := r.newCanvas(t.bg.Rect) // every pixel is overwritten here
	copy(dst.Pix, t.bg.Pix)

	sc := r.getScratch()
	defer r.putScratch(sc)
	fc := sc.faces

	hasAvatar := in.Avatar != nil && !in.Avatar.Bounds().Empty()
	if hasAvatar {
		t.drawAvatar(dst, in.Avatar)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if in.Nickname != "" {
		t.drawNickname(r, dst, fc, in.Nickname, hasAvatar)
	}
	t.drawTitle(r, dst, fc, in.Title)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t.drawCode(dst, in.Code)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.log.Debug("poster: rendered", "template", DefaultTemplate, "took", time.Since(start))
	return dst, nil
}

func (t *defaultTemplate) drawAvatar(dst *image.RGBA, avatar image.Image) {
	ring := image.Pt(avatarCX-avatarD/2-avatarRing, avatarCY-avatarD/2-avatarRing)
	fillMask(dst, ring, t.ringMask, color.White)
	// CatmullRom keeps a downscaled avatar sharp; at 132 px its cost is small.
	at := image.Pt(avatarCX-avatarD/2, avatarCY-avatarD/2)
	drawCircleImage(dst, at, avatar, t.avatarMask, xdraw.CatmullRom)
}

func (t *defaultTemplate) drawNickname(r *Renderer, dst *image.RGBA, fc *text.Faces, nickname string, hasAvatar bool) {
	st := text.Style{Bold: true, Size: nickPx, Color: nickColor}
	// One line, cut with "…"; emoji are drawn in colour.
	lay := fc.Layout([]text.Span{{Text: oneLine(nickname), Style: st}}, nickMaxW, 1)
	y := nickBaseline
	if !hasAvatar {
		y = avatarCY + nickPx*3/8 // alone, the nickname takes the avatar's place
	}
	r.drawCentered(dst, fc, lay, defW/2, float64(y), 0)
}

func (t *defaultTemplate) drawTitle(r *Renderer, dst *image.RGBA, fc *text.Faces, title string) {
	st := text.Style{Size: titlePx, Color: titleColor}
	lay := fc.Layout([]text.Span{{Text: compactLines(title), Style: st}}, cardW-2*cardPad, titleMaxLines)
	if lay.GlyphCount() == 0 {
		// Nothing drawable: an empty ticket stub looks broken.
		lay = fc.Layout([]text.Span{{Text: defaultTitle, Style: st}}, cardW-2*cardPad, titleMaxLines)
	}
	y := titleBaseline
	if len(lay.Lines) == 1 {
		y += titleLineH / 2 // centre a single line in the two-line slot
	}
	r.drawCentered(dst, fc, lay, defW/2, float64(y), titleLineH)
}

// oneLine turns line breaks and tabs into spaces and trims the ends.
func oneLine(s string) string {
	return strings.TrimSpace(strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ", "\t", " ").Replace(s))
}

// compactLines trims each line and drops blank ones: a poster title has no
// room for them.
func compactLines(s string) string {
	s = strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(s)
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// drawCode draws the code, which may be transparent (is_hyaline), over white:
// the card is white already, but the box is painted again so that the code
// stays scannable whatever the background becomes.
func (t *defaultTemplate) drawCode(dst *image.RGBA, code image.Image) {
	box := image.Rect((defW-codeSize)/2, codeY, (defW+codeSize)/2, codeY+codeSize)
	draw.Draw(dst, box, image.White, image.Point{}, draw.Src)
	drawContain(dst, box, code, xdraw.ApproxBiLinear)
}
