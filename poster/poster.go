// Package poster renders WeChat mini-program share posters: it composes a
// mini-program code, an avatar and Chinese text onto a template and encodes the
// result.
//
// Everything is drawn by hand on an *image.RGBA so that each step hits a fast
// path of image/draw or golang.org/x/image/draw; fonts, template backgrounds and
// masks are prepared once in New and shared by all renders.
package poster

import (
	"fmt"
	"io"
	"log/slog"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
)

// RendererVersion changes whenever the pixels of a rendered poster change, so
// that cached posters drawn by an older renderer are not served.
const RendererVersion = 1

// Option configures a Renderer.
type Option func(*options)

type options struct {
	regularFont string
	boldFont    string
	logger      *slog.Logger
}

// WithFontFiles overrides the font files (TTC, OTF or TTF). From a collection
// the "Noto Sans CJK SC" face is used. An empty path keeps the search for that
// weight.
func WithFontFiles(regular, bold string) Option {
	return func(o *options) {
		o.regularFont = regular
		o.boldFont = bold
	}
}

// WithLogger sets the logger; the default discards everything.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// Renderer draws posters. It is safe for concurrent use.
type Renderer struct {
	log   *slog.Logger
	fonts *fonts
	// faces pools per-goroutine face sets: an opentype.Face keeps a scratch
	// buffer and is not safe for concurrent use, while the parsed fonts are.
	faces sync.Pool
	def   *defaultTemplate
}

// New loads the fonts and prepares the built-in templates. It is slow (it
// parses about 40 MB of fonts): make one Renderer and share it.
func New(opts ...Option) (*Renderer, error) {
	o := options{logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, opt := range opts {
		opt(&o)
	}
	fs, err := loadFonts(&o)
	if err != nil {
		return nil, err
	}
	r := &Renderer{log: o.logger, fonts: fs}
	r.faces.New = func() any { return &faceSet{fonts: fs} }

	fc := r.getFaces()
	defer r.putFaces(fc)
	if r.def, err = newDefaultTemplate(fc); err != nil {
		return nil, fmt.Errorf("poster: prepare template %q: %w", DefaultTemplate, err)
	}
	return r, nil
}

func (r *Renderer) getFaces() *faceSet  { return r.faces.Get().(*faceSet) }
func (r *Renderer) putFaces(f *faceSet) { r.faces.Put(f) }

// faceSet holds the faces one render needs, created on first use per size.
type faceSet struct {
	fonts *fonts
	faces []sizedFace
}

type sizedFace struct {
	font *sfnt.Font
	px   float64
	face font.Face
}

// face returns the face of the regular or bold font at px pixels.
func (s *faceSet) face(bold bool, px float64) font.Face {
	f := s.fonts.regular
	if bold {
		f = s.fonts.bold
	}
	for _, sf := range s.faces {
		if sf.font == f && sf.px == px {
			return sf.face
		}
	}
	face := newFace(f, px)
	s.faces = append(s.faces, sizedFace{font: f, px: px, face: face})
	return face
}
