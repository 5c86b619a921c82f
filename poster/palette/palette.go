package palette

import (
	"fmt"
	"image/color"
)

// Limits of a palette. Anything beyond them is a *Error, never a
// panic or a runaway render.
const (
	MaxViews          = 200  // views in a palette
	MaxSide           = 4096 // output width or height, in px, after scaling
	MaxTextRunes      = 4000 // characters of one view's text (textList items summed)
	maxInlineItems    = 100  // items of one inlineText view
	MaxFontPx         = 1024 // font size in output px, after scaling
	MaxBlurPx         = 200  // shadow blur in output px
	MaxShadowOffsetPx = 1000 // shadow offset in output px
	MaxBorderPx       = 512  // border width in output px
	MaxViewSidePx     = 1 << 15
	// MaxQRBytes is what a QR code holds at error correction level M in
	// byte mode (version 40).
	MaxQRBytes = 2331
)

// Error is a palette that breaks a rule: Path names the JSON field,
// like "views[2].css.width", and Rule says what is wrong with it. Warnings
// have the same shape.
type Error struct {
	Path string `json:"path"`
	Rule string `json:"rule"`
}

func (e *Error) Error() string { return e.Path + ": " + e.Rule }

// Errors is every problem Parse found, in document order. errors.As finds
// the first *Error in it.
type Errors []*Error

func (es Errors) Error() string {
	if len(es) == 1 {
		return es[0].Error()
	}
	return fmt.Sprintf("%s (and %d more problems)", es[0].Error(), len(es)-1)
}

// Unwrap lets errors.As and errors.Is see each *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Compat is how a palette is read where Painter and CSS disagree.
type Compat uint8

const (
	// CompatPainter (the default) draws what Painter draws on the phone:
	// linear gradient angles point Painter's way, a radial gradient without
	// a shape is Painter's circle, a rect without a colour is black, and
	// fields Painter does not read are ignored with a warning.
	CompatPainter Compat = iota
	// CompatCSS ("compat": "css" in the palette) follows CSS instead: CSS
	// gradient directions and radial geometry, a rect without a colour draws
	// nothing, and unknown fields are errors (a typo is not silently ignored).
	CompatCSS
)

// MissingVariableError is returned by Fill for a {{name}} the data lacks.
type MissingVariableError struct{ Name string }

func (e *MissingVariableError) Error() string {
	return "poster: palette variable {{" + e.Name + "}} has no value"
}

// Palette is a parsed, validated Painter palette (JSON). It is immutable:
// Fill returns a copy, so one parsed template can serve concurrent renders.
// docs/templates.md describes the format.
type Palette struct {
	width, height Length // absolute: rpx or px
	widthRpx      float64
	heightRpx     float64
	widthPixels   int // the palette's own "widthPixels"; 0 = unset
	background    Background
	borderRadius  []Length // 0, 1 or 4 values, % of min(width, height)
	views         []*View
	compat        Compat
	warnings      []*Error
}

// DrawsCode reports whether a view draws the job's mini-program code (a
// wxacode view). A palette that does not needs no code from WeChat.
func (p *Palette) DrawsCode() bool {
	for _, v := range p.views {
		if v.Type == TypeWxacode {
			return true
		}
	}
	return false
}

// Compat is how the palette reads what Painter and CSS disagree on.
func (p *Palette) Compat() Compat { return p.compat }

// Warnings are what will not work as the palette's author may think: fields
// ignored, values Painter would draw differently. They never stop a render.
func (p *Palette) Warnings() []*Error { return p.warnings }

// Views are the palette's views in drawing order. They are shared: read only.
func (p *Palette) Views() []*View { return p.views }

// Background is the palette's background.
func (p *Palette) Background() Background { return p.background }

// BorderRadius is the radius of the canvas corners: 0, 1 or 4 (TL TR BR BL)
// lengths, % of min(width, height).
func (p *Palette) BorderRadius() []Length { return p.borderRadius }

// Background is the palette's background: a colour, a gradient or an image.
type Background struct {
	raw   string // as written, placeholders included
	Paint Paint  // colour or gradient, when not an image
	URL   string // an image stretched over the canvas
}

type viewType uint8

const (
	TypeRect viewType = iota
	TypeText
	TypeImage
	TypeQRCode
	TypeInlineText
	TypeWxacode
)

var viewTypes = map[string]viewType{
	"rect": TypeRect, "text": TypeText, "image": TypeImage,
	"qrcode": TypeQRCode, "inlineText": TypeInlineText, "wxacode": TypeWxacode,
}

// View is one element of a palette.
type View struct {
	Type     viewType
	id       string
	Text     string // text
	URL      string // image
	Content  string // qrcode
	TextList []InlineItem
	CSS      *CSS
	Path     string // "views[3]", for errors
}

type InlineItem struct {
	Text string
	CSS  *CSS // only the text fields are read
}

type Align uint8

const (
	AlignDefault Align = iota
	alignStart         // left / top
	AlignMiddle        // center
	AlignEnd           // right / bottom
)

type ImageMode uint8

const (
	ModeAspectFill ImageMode = iota
	modeScaleToFill
	ModeAspectFit
	ModeAuto
)

type BorderStyle uint8

const (
	BorderSolid BorderStyle = iota
	borderDashed
	BorderDotted
)

type TextDeco uint8

const (
	DecoUnderline TextDeco = 1 << iota
	DecoOverline
	DecoLineThrough
)

// CSS holds the parsed css of a view. Unset lengths are zero lengths.
type CSS struct {
	Left, Right, Top, Bottom Length
	Width, Height            Length
	WidthAuto, HeightAuto    bool
	Rotate                   float64 // degrees, clockwise
	Align, VerticalAlign     Align

	BorderRadius []Length // 0, 1 or 4 (TL TR BR BL)
	BorderWidth  Length
	BorderColor  color.NRGBA
	BorderStyle  BorderStyle
	Shadow       *Shadow

	Color      Paint // rect fill, text colour, qrcode modules
	Background Paint // text/qrcode/wxacode backdrop

	FontSize       Length
	Bold           bool
	LineHeight     Length
	LineHeightMult float64 // unitless lineHeight: a multiple of fontSize
	MaxLines       int
	TextAlign      Align
	TextDecoration TextDeco
	Stroke         bool // textStyle: stroke
	Padding        [4]Length

	Mode ImageMode
}

// Shadow is "offX offY blur color".
type Shadow struct {
	X, Y, Blur Length
	Color      color.NRGBA
}
