// Package poster renders WeChat mini-program share posters: it draws a
// Painter palette (package palette) or the built-in default template onto an
// *image.RGBA and encodes the result as JPEG or PNG.
//
// RenderPalette draws a filled palette; RenderDefault draws the built-in
// template. Text comes laid out from package text and images from an
// ImageLoader (package imagesrc has the production one).
//
// Everything is drawn by hand on an *image.RGBA so that each step hits a fast
// path of image/draw or golang.org/x/image/draw: shapes, borders, gradients,
// shadows and rotation here, glyphs from text's shared cache. Fonts, template
// backgrounds and masks are prepared once in New.
package poster

import (
	"fmt"
	"image"
	"io"
	"log/slog"
	"sync"

	"golang.org/x/image/vector"

	"github.com/wxposter/wxposter/poster/text"
)

// RendererVersion changes whenever the pixels of a rendered poster change, so
// that cached posters drawn by an older renderer are not served.
//
// 2: text through go-text shaping, with colour emoji; Painter palettes.
// 3: Painter's reading by default (gradient directions, radial circles,
// black rects), leading spaces and U+3000 indents kept.
const RendererVersion = 3

// Option configures a Renderer.
type Option func(*options)

type options struct {
	regularFont string
	boldFont    string
	emojiFont   string
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

// WithEmojiFontFile overrides the colour emoji font (a CBDT font such as
// NotoColorEmoji.ttf). An empty path keeps the search.
func WithEmojiFontFile(path string) Option {
	return func(o *options) { o.emojiFont = path }
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
	fonts *text.Fonts
	// scratch pools per-goroutine state: go-text faces and the shaper
	// cache and are not safe for concurrent use, while the parsed fonts are.
	scratch sync.Pool
	glyphs  *text.GlyphCache
	def     *defaultTemplate
	// canvases are default-template canvases given back (canvas.go).
	canvases chan *image.RGBA
}

// New loads the fonts and prepares the built-in templates. It is slow (it
// reads about 50 MB of fonts): make one Renderer and share it.
func New(opts ...Option) (*Renderer, error) {
	o := options{logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, opt := range opts {
		opt(&o)
	}
	fs, err := text.LoadFonts(text.FontFiles{Regular: o.regularFont, Bold: o.boldFont, Emoji: o.emojiFont}, o.logger)
	if err != nil {
		return nil, err
	}
	r := &Renderer{log: o.logger, fonts: fs, glyphs: text.NewGlyphCache(text.GlyphCacheBytes), canvases: newCanvasList()}
	r.scratch.New = func() any { return &scratch{faces: text.NewFaces(fs)} }

	sc := r.getScratch()
	defer r.putScratch(sc)
	if r.def, err = newDefaultTemplate(r, sc.faces); err != nil {
		return nil, fmt.Errorf("poster: prepare template %q: %w", DefaultTemplate, err)
	}
	return r, nil
}

func (r *Renderer) getScratch() *scratch  { return r.scratch.Get().(*scratch) }
func (r *Renderer) putScratch(s *scratch) { r.scratch.Put(s) }

// scratch is the state of one render that is not safe for concurrent use:
// the text faces and a rasterizer for shapes.
type scratch struct {
	faces  *text.Faces
	raster vector.Rasterizer
}
