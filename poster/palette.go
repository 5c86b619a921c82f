package poster

import "image/color"

// Limits of a palette. Anything beyond them is a *PaletteError, never a
// panic or a runaway render.
const (
	MaxPaletteViews     = 200  // views in a palette
	MaxPaletteSide      = 4096 // output width or height, in px, after scaling
	MaxPaletteTextRunes = 4000 // characters of one view's text (textList items summed)
	maxInlineItems      = 100  // items of one inlineText view
	maxFontPx           = 1024 // font size in output px, after scaling
	maxBlurPx           = 200  // shadow blur in output px
	maxShadowOffsetPx   = 1000 // shadow offset in output px
	maxBorderPx         = 512  // border width in output px
	maxViewSidePx       = 1 << 15
	// maxQRBytes is what a QR code holds at error correction level M in
	// byte mode (version 40).
	maxQRBytes = 2331
)

// PaletteError is a palette that breaks a rule: Path names the JSON field,
// like "views[2].css.width", and Rule says what is wrong with it.
type PaletteError struct{ Path, Rule string }

func (e *PaletteError) Error() string { return e.Path + ": " + e.Rule }

// MissingVariableError is returned by Fill for a {{name}} the data lacks.
type MissingVariableError struct{ Name string }

func (e *MissingVariableError) Error() string {
	return "poster: palette variable {{" + e.Name + "}} has no value"
}

// Palette is a parsed, validated Painter palette (JSON). It is immutable:
// Fill returns a copy, so one parsed template can serve concurrent renders.
// docs/templates.md describes the format.
type Palette struct {
	width, height length // absolute: rpx or px
	widthRpx      float64
	heightRpx     float64
	widthPixels   int // the palette's own "widthPixels"; 0 = unset
	background    background
	borderRadius  []length // 0, 1 or 4 values, % of min(width, height)
	views         []*view
}

// Views are the palette's views in drawing order. They are shared: read only.
func (p *Palette) Views() []*view { return p.views }

// Background is the palette's background.
func (p *Palette) Background() background { return p.background }

// BorderRadius is the radius of the canvas corners: 0, 1 or 4 (TL TR BR BL)
// lengths, % of min(width, height).
func (p *Palette) BorderRadius() []length { return p.borderRadius }

// background is the palette's background: a colour, a gradient or an image.
type background struct {
	raw   string // as written, placeholders included
	paint paint  // colour or gradient, when not an image
	url   string // an image stretched over the canvas
}

type viewType uint8

const (
	typeRect viewType = iota
	typeText
	typeImage
	typeQRCode
	typeInlineText
	typeWxacode
)

var viewTypes = map[string]viewType{
	"rect": typeRect, "text": typeText, "image": typeImage,
	"qrcode": typeQRCode, "inlineText": typeInlineText, "wxacode": typeWxacode,
}

// view is one element of a palette.
type view struct {
	typ      viewType
	id       string
	text     string // text
	url      string // image
	content  string // qrcode
	textList []inlineItem
	css      *viewCSS
	path     string // "views[3]", for errors
}

type inlineItem struct {
	text string
	css  *viewCSS // only the text fields are read
}

type hAlign uint8

const (
	alignDefault hAlign = iota
	alignStart          // left / top
	alignMiddle         // center
	alignEnd            // right / bottom
)

type imageMode uint8

const (
	modeAspectFill imageMode = iota
	modeScaleToFill
	modeAspectFit
	modeAuto
)

type borderStyle uint8

const (
	borderSolid borderStyle = iota
	borderDashed
	borderDotted
)

type textDeco uint8

const (
	decoUnderline textDeco = 1 << iota
	decoOverline
	decoLineThrough
)

// viewCSS holds the parsed css of a view. Unset lengths are zero lengths.
type viewCSS struct {
	left, right, top, bottom length
	width, height            length
	widthAuto, heightAuto    bool
	rotate                   float64 // degrees, clockwise
	align, verticalAlign     hAlign

	borderRadius []length // 0, 1 or 4 (TL TR BR BL)
	borderWidth  length
	borderColor  color.NRGBA
	borderStyle  borderStyle
	shadow       *shadowSpec

	color      paint // rect fill, text colour, qrcode modules
	background paint // text/qrcode/wxacode backdrop

	fontSize       length
	bold           bool
	lineHeight     length
	lineHeightMult float64 // unitless lineHeight: a multiple of fontSize
	maxLines       int
	textAlign      hAlign
	textDecoration textDeco
	stroke         bool // textStyle: stroke
	padding        [4]length

	mode imageMode
}

// shadowSpec is "offX offY blur color".
type shadowSpec struct {
	x, y, blur length
	color      color.NRGBA
}
