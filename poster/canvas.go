package poster

import (
	"image"
	"runtime"
)

// Default-template canvases given back with Recycle are kept on a small
// free list of the Renderer: a render overwrites every pixel with the
// background, so a reused canvas needs no zeroing, and the worker stops
// allocating (and the GC stops clearing and collecting) 4 MB per poster. A
// sync.Pool was not enough: it is emptied by every other GC, and at a
// poster every few milliseconds that is often, so most renders allocated
// anyway. The list holds one canvas per core (renders run at most one per
// core in the worker), about 4 MB each; more are dropped for the GC.
func newCanvasList() chan *image.RGBA { return make(chan *image.RGBA, runtime.GOMAXPROCS(0)) }

// Recycle gives back an image returned by RenderDefault once the caller is
// done with it (encoded it, say); it must not be used afterwards. Other
// images are ignored.
func (r *Renderer) Recycle(img *image.RGBA) {
	if img == nil || r.def == nil || img.Rect != r.def.bg.Rect || img.Stride != 4*img.Rect.Dx() {
		return
	}
	select {
	case r.canvases <- img:
	default:
	}
}

// newCanvas is a canvas with rect's bounds whose pixels the caller
// overwrites entirely.
func (r *Renderer) newCanvas(rect image.Rectangle) *image.RGBA {
	select {
	case c := <-r.canvases:
		if c.Rect == rect {
			return c
		}
	default:
	}
	return image.NewRGBA(rect)
}
