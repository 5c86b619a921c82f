package poster

import (
	"image"
	"image/draw"
	"math"
	"sync"
	"weak"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	xdraw "golang.org/x/image/draw"
)

// Every image a poster draws (the code, the avatar, template images) goes
// through prepared: converted once to *image.RGBA (premultiplied, what the
// canvas is), scaled once to the size it is drawn at, and kept in a cache
// bounded in bytes. Drawing it is then a row copy (opaque) or image/draw's
// RGBA-over-RGBA fast path, never x/image/draw's generic path through
// color.Color and RGBA64At (a paletted or YCbCr code costs 5-10× more
// there). A campaign whose posters share a code, a background or a
// template image scales it once per process.
//
// Sources are identified by a weak pointer: the cache does not keep a
// source alive, and a weak pointer never equals one to a different image,
// even one allocated at the same address later. The images worth caching
// are the shared ones, which imagesrc's loader and the worker's code cache
// hand out as the same *image.RGBA each time.

// DefaultScaleCacheBytes bounds the prepared images kept by all renderers
// of a process: 12 MiB is 16 codes at 430 px, or three full-size
// backgrounds.
const DefaultScaleCacheBytes = 12 << 20

var prepCache = newPrepared(DefaultScaleCacheBytes)

// SetScaleCacheBytes changes the bound of the prepared-image cache; 0
// turns caching off (images are still prepared, for every draw).
func SetScaleCacheBytes(n int64) { prepCache.resize(n) }

// prepKind is how an image is prepared.
type prepKind uint8

const (
	prepApproxBiLinear prepKind = iota // scaled, transparent where the source is
	prepCatmullRom
	prepMipApprox // halved with a box filter, then ApproxBiLinear
	prepMipCatmullRom
	prepOnWhite // CatmullRom over white (the default template's avatar)
	prepAsIs    // an *image.RGBA drawn 1:1: only whether it is opaque is worked out
)

type prepKey struct {
	src  any // weak.Pointer[T] of the source, T its concrete type
	sr   image.Rectangle
	size image.Point
	kind prepKind
}

// prepImage is a prepared image: bounds (0,0)-size, or the source's own
// bounds for prepAsIs.
type prepImage struct {
	img    *image.RGBA
	opaque bool
}

type preparedCache struct {
	mu   sync.Mutex
	lru  *simplelru.LRU[prepKey, prepImage]
	size int64
	max  int64
}

func newPrepared(maxBytes int64) *preparedCache {
	c := &preparedCache{max: maxBytes}
	c.lru, _ = simplelru.NewLRU(math.MaxInt32, func(_ prepKey, p prepImage) { c.size -= int64(len(p.img.Pix)) })
	return c
}

func (c *preparedCache) resize(n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.max = n
	c.shrink()
}

func (c *preparedCache) shrink() {
	for c.size > c.max {
		if _, _, ok := c.lru.RemoveOldest(); !ok {
			break
		}
	}
}

func (c *preparedCache) get(k prepKey) (prepImage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Get(k)
}

func (c *preparedCache) add(k prepKey, p prepImage) {
	n := int64(len(p.img.Pix))
	c.mu.Lock()
	defer c.mu.Unlock()
	if n > c.max/4 { // one image must not flush the rest
		return
	}
	c.lru.Remove(k)
	c.lru.Add(k, p)
	c.size += n
	c.shrink()
}

// stats is the number and bytes of prepared images kept.
func (c *preparedCache) stats() (int, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len(), c.size
}

// sourceID is src's identity for the cache, if it has one.
func sourceID(src image.Image) (any, bool) {
	switch s := src.(type) {
	case *image.RGBA:
		return weak.Make(s), true
	case *image.NRGBA:
		return weak.Make(s), true
	case *image.Paletted:
		return weak.Make(s), true
	case *image.YCbCr:
		return weak.Make(s), true
	case *image.Gray:
		return weak.Make(s), true
	case *image.CMYK:
		return weak.Make(s), true
	case *image.RGBA64:
		return weak.Make(s), true
	case *image.NRGBA64:
		return weak.Make(s), true
	}
	return nil, false
}

// prepared returns sr of src at size, prepared as kind: from the cache, or
// made now and cached.
func prepared(src image.Image, sr image.Rectangle, size image.Point, kind prepKind) prepImage {
	id, ok := sourceID(src)
	k := prepKey{src: id, sr: sr, size: size, kind: kind}
	if ok {
		if p, hit := prepCache.get(k); hit {
			return p
		}
	}
	p := prepare(src, sr, size, kind)
	if ok {
		prepCache.add(k, p)
	}
	return p
}

// prepare converts sr of src to RGBA and scales it to size.
func prepare(src image.Image, sr image.Rectangle, size image.Point, kind prepKind) prepImage {
	if s, ok := src.(*image.RGBA); ok && kind == prepAsIs && sr == s.Rect && size == sr.Size() {
		// Knowing it is opaque turns every later draw into a row copy
		// instead of a per-pixel blend.
		return prepImage{img: s, opaque: s.Opaque()}
	}
	out := image.NewRGBA(image.Rectangle{Max: size})
	m := toRGBA(src, sr) // one conversion, with fast paths for every decoder's type
	switch kind {
	case prepOnWhite:
		draw.Draw(out, out.Rect, image.White, image.Point{}, draw.Src)
		xdraw.CatmullRom.Scale(out, out.Rect, m, m.Rect, draw.Over, nil)
		return prepImage{img: out, opaque: true}
	case prepMipApprox, prepMipCatmullRom:
		for m.Rect.Dx() >= 2*size.X && m.Rect.Dy() >= 2*size.Y {
			m = halve(m)
		}
	}
	switch {
	case m.Rect.Size() == size:
		copyRGBA(out, m)
	case kind == prepCatmullRom || kind == prepMipCatmullRom:
		xdraw.CatmullRom.Scale(out, out.Rect, m, m.Rect, draw.Src, nil)
	default:
		xdraw.ApproxBiLinear.Scale(out, out.Rect, m, m.Rect, draw.Src, nil)
	}
	return prepImage{img: out, opaque: out.Opaque()}
}

// copyRGBA copies src (any bounds) to dst at the origin, row by row.
func copyRGBA(dst, src *image.RGBA) {
	w := 4 * src.Rect.Dx()
	for y := range src.Rect.Dy() {
		si := src.PixOffset(src.Rect.Min.X, src.Rect.Min.Y+y)
		copy(dst.Pix[y*dst.Stride:y*dst.Stride+w], src.Pix[si:si+w])
	}
}

// drawPrepared composites p onto dst at dr.Min with op: an opaque image is
// copied row by row, others take image/draw's RGBA fast path.
func drawPrepared(dst *image.RGBA, dr image.Rectangle, p prepImage, op draw.Op) {
	if p.opaque {
		op = draw.Src
	}
	draw.Draw(dst, image.Rectangle{Min: dr.Min, Max: dr.Min.Add(p.img.Rect.Size())}, p.img, p.img.Rect.Min, op)
}
