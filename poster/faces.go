package poster

import (
	"github.com/go-text/typesetting/font"
	"github.com/go-text/typesetting/shaping"
	"golang.org/x/image/vector"
)

// fontID names one of the renderer's fonts.
type fontID uint8

const (
	fontRegular fontID = iota
	fontBold
	fontEmoji
	numFonts
)

// faceSet is the text state of one render: faces of the shared fonts, the
// shaper and a rasterizer for glyphs. It is not safe for concurrent use.
type faceSet struct {
	fonts  *fonts
	faces  [numFonts]*font.Face // nil for a missing emoji font
	shaper shaping.HarfbuzzShaper
	raster vector.Rasterizer
}

func newFaceSet(fs *fonts) *faceSet {
	s := &faceSet{fonts: fs}
	s.faces[fontRegular] = font.NewFace(fs.regular)
	s.faces[fontBold] = font.NewFace(fs.bold)
	if fs.emoji != nil {
		s.faces[fontEmoji] = font.NewFace(fs.emoji)
	}
	return s
}

// underlinePosition is where font f puts an underline, in em above the
// baseline (negative: below).
func (fs *faceSet) underlinePosition(f fontID) float64 {
	face := fs.faces[f]
	return float64(face.LineMetric(font.UnderlinePosition)) / float64(face.Upem())
}
