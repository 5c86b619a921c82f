package poster

import (
	"fmt"
	"image/color"

	"github.com/wxposter/wxposter/poster/palette"
	"github.com/wxposter/wxposter/poster/text"
)

// textBox is a laid-out text view.
type textBox struct {
	lay     *text.Layout
	w, h    float64 // content box: Painter's h = lineHeight × lines
	lineH   float64
	natural float64 // what calc() sees as .width: min(measured width, box width)
}

var black = color.NRGBA{0, 0, 0, 0xff}

// textStyleOf resolves the text fields of a css.
func (rc *renderCtx) textStyleOf(c *palette.CSS, path string) (text.Style, error) {
	size := defaultFontRpx * rc.k
	if c.FontSize.Set() {
		var err error
		if size, err = rc.length(c.FontSize, 0, path+"fontSize"); err != nil {
			return text.Style{}, err
		}
	}
	if size <= 0 || size > palette.MaxFontPx {
		return text.Style{}, &palette.Error{Path: path + "fontSize", Rule: fmt.Sprintf("is %.1f px at this scale: want more than 0 and at most %d", size, palette.MaxFontPx)}
	}
	col := black
	if c.Color.Kind == palette.PaintColor {
		col = c.Color.Color
	}
	return text.Style{Bold: c.Bold, Size: size, Color: palette.Premul(col), Deco: uint8(c.TextDecoration), Stroke: c.Stroke}, nil
}

// layoutTextView lays out a text or inlineText view. css.width includes the
// horizontal padding and enables wrapping; without it lines break only at
// "\n" and the box is as wide as the widest line.
func (rc *renderCtx) layoutTextView(v *palette.View, pads [4]float64) (*textBox, error) {
	c := v.CSS
	path := v.Path + ".css."
	var spans []text.Span
	lineH, minSize := 0.0, 0.0
	add := func(s string, css *palette.CSS, p string) error {
		st, err := rc.textStyleOf(css, p)
		if err != nil {
			return err
		}
		lh, err := lineHeightOf(css, st.Size, rc.env(0))
		if err != nil {
			return &palette.Error{Path: p + "lineHeight", Rule: err.Error()}
		}
		lineH = max(lineH, lh)
		if minSize == 0 {
			minSize = st.Size
		}
		spans = append(spans, text.Span{Text: s, Style: st})
		return nil
	}
	if v.Type == palette.TypeText {
		if err := add(v.Text, c, path); err != nil {
			return nil, err
		}
	} else {
		for i, it := range v.TextList {
			if err := add(it.Text, it.CSS, fmt.Sprintf("%s.textList[%d].css.", v.Path, i)); err != nil {
				return nil, err
			}
		}
		if len(spans) == 0 {
			return &textBox{lay: &text.Layout{}}, nil
		}
	}
	maxW := 0.0
	if c.Width.Set() {
		w, err := rc.length(c.Width, rc.w, path+"width")
		if err != nil {
			return nil, err
		}
		// Painter never makes the text narrower than one character.
		maxW = max(w-pads[1]-pads[3], minSize)
	}
	lay := rc.fs.Layout(spans, maxW, c.MaxLines)
	tb := &textBox{lay: lay, lineH: lineH, h: lineH * float64(len(lay.Lines))}
	tb.w = lay.Width()
	tb.natural = tb.w
	if maxW > 0 {
		tb.w = maxW
		tb.natural = min(lay.Natural, maxW)
	}
	return tb, nil
}
