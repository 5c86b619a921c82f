package poster

import (
	"fmt"
	"image/color"
)

// textBox is a laid-out text view.
type textBox struct {
	lay     *textLayout
	w, h    float64 // content box: Painter's h = lineHeight × lines
	lineH   float64
	natural float64 // what calc() sees as .width: min(measured width, box width)
}

var black = color.NRGBA{0, 0, 0, 0xff}

// textStyleOf resolves the text fields of a css.
func (rc *renderCtx) textStyleOf(c *viewCSS, path string) (textStyle, error) {
	size := defaultFontRpx * rc.k
	if c.fontSize.set() {
		var err error
		if size, err = rc.length(c.fontSize, 0, path+"fontSize"); err != nil {
			return textStyle{}, err
		}
	}
	if size <= 0 || size > maxFontPx {
		return textStyle{}, &PaletteError{path + "fontSize", fmt.Sprintf("is %.1f px at this scale: want more than 0 and at most %d", size, maxFontPx)}
	}
	col := black
	if c.color.kind == paintColor {
		col = c.color.color
	}
	return textStyle{bold: c.bold, size: size, color: premul(col), deco: uint8(c.textDecoration), stroke: c.stroke}, nil
}

// layoutTextView lays out a text or inlineText view. css.width includes the
// horizontal padding and enables wrapping; without it lines break only at
// "\n" and the box is as wide as the widest line.
func (rc *renderCtx) layoutTextView(v *view, pads [4]float64) (*textBox, error) {
	c := v.css
	path := v.path + ".css."
	var spans []textSpan
	lineH, minSize := 0.0, 0.0
	add := func(text string, css *viewCSS, p string) error {
		st, err := rc.textStyleOf(css, p)
		if err != nil {
			return err
		}
		lh, err := lineHeightOf(css, st.size, rc.env(0))
		if err != nil {
			return &PaletteError{p + "lineHeight", err.Error()}
		}
		lineH = max(lineH, lh)
		if minSize == 0 {
			minSize = st.size
		}
		spans = append(spans, textSpan{text, st})
		return nil
	}
	if v.typ == typeText {
		if err := add(v.text, c, path); err != nil {
			return nil, err
		}
	} else {
		for i, it := range v.textList {
			if err := add(it.text, it.css, fmt.Sprintf("%s.textList[%d].css.", v.path, i)); err != nil {
				return nil, err
			}
		}
		if len(spans) == 0 {
			return &textBox{lay: &textLayout{}}, nil
		}
	}
	maxW := 0.0
	if c.width.set() {
		w, err := rc.length(c.width, rc.w, path+"width")
		if err != nil {
			return nil, err
		}
		// Painter never makes the text narrower than one character.
		maxW = max(w-pads[1]-pads[3], minSize)
	}
	lay := rc.fs.layoutText(spans, maxW, c.maxLines)
	tb := &textBox{lay: lay, lineH: lineH, h: lineH * float64(len(lay.lines))}
	tb.w = lay.width()
	tb.natural = tb.w
	if maxW > 0 {
		tb.w = maxW
		tb.natural = min(lay.natural, maxW)
	}
	return tb, nil
}
