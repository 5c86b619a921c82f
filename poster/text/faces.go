package text

import (
	"github.com/go-text/typesetting/font"
	"github.com/go-text/typesetting/shaping"
	"golang.org/x/image/vector"
)

// FontID names one of the renderer's fonts.
type FontID uint8

const (
	fontRegular FontID = iota
	fontBold
	fontEmoji
	numFonts
)

// Faces is the text state of one render: faces of the shared fonts, the
// shaper and a rasterizer for glyphs. It is not safe for concurrent use.
type Faces struct {
	fonts  *Fonts
	faces  [numFonts]*font.Face // nil for a missing emoji font
	shaper shaping.HarfbuzzShaper
	raster vector.Rasterizer
}

func NewFaces(fs *Fonts) *Faces {
	s := &Faces{fonts: fs}
	s.faces[fontRegular] = font.NewFace(fs.regular)
	s.faces[fontBold] = font.NewFace(fs.bold)
	if fs.emoji != nil {
		s.faces[fontEmoji] = font.NewFace(fs.emoji)
	}
	return s
}

// UnderlinePosition is where font f puts an underline, in em above the
// baseline (negative: below).
func (fs *Faces) UnderlinePosition(f FontID) float64 {
	face := fs.faces[f]
	return float64(face.LineMetric(font.UnderlinePosition)) / float64(face.Upem())
}
