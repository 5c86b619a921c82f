package poster

import (
	"image"
	"sync"
)

// canvases are default-template canvases given back with Recycle: a render
// overwrites every pixel with the background, so a reused canvas needs no
// zeroing, and the worker stops allocating 4 MB per poster for the GC to
// collect.
var canvases sync.Pool

// Recycle gives back an image returned by RenderDefault once the caller is
// done with it (encoded it, say); it must not be used afterwards. Other
// images are ignored.
func (r *Renderer) Recycle(img *image.RGBA) {
	if img != nil && r.def != nil && img.Rect == r.def.bg.Rect && img.Stride == 4*img.Rect.Dx() {
		canvases.Put(img)
	}
}

// newCanvas is a canvas with rect's bounds whose pixels the caller
// overwrites entirely.
func newCanvas(rect image.Rectangle) *image.RGBA {
	if c, ok := canvases.Get().(*image.RGBA); ok && c.Rect == rect {
		return c
	}
	return image.NewRGBA(rect)
}
