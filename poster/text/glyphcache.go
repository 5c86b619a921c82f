package text

import (
	"bytes"
	"image"
	"image/draw"
	"image/png"
	"math"
	"sync"

	"github.com/go-text/typesetting/font"
	ot "github.com/go-text/typesetting/font/opentype"
	xdraw "golang.org/x/image/draw"
)

// Glyphs are rasterised once per font, glyph, size and quarter-pixel x
// offset and kept in a cache shared by all renders: re-rasterising a CJK
// outline (CFF, dozens of curves) costs ~10 µs, drawing a cached mask ~0.3 µs.
const (
	GlyphCacheBytes = 32 << 20
	maxCachedGlyph  = 256 // px; larger glyphs are rare and drawn uncached
	subpixelSteps   = 4
	maxGlyphSide    = 8 * 1024 // px; a larger glyph is left out
)

type glyphKey struct {
	gid    font.GID
	size   int32 // 1/64 px
	font   FontID
	phase  uint8 // x offset in 1/subpixelSteps px
	stroke bool
}

// Glyph is a rasterised glyph: an alpha mask for outlines, colour
// pixels for emoji. off is its top-left from the integer pen position.
type Glyph struct {
	Off  image.Point
	Mask *image.Alpha
	RGBA *image.RGBA
}

func (g *Glyph) bytes() int {
	switch {
	case g.Mask != nil:
		return len(g.Mask.Pix) + 64
	case g.RGBA != nil:
		return len(g.RGBA.Pix) + 64
	}
	return 64
}

// GlyphCache keeps two generations: when the current one is full it becomes
// the old one and the previous old one is dropped; a hit in the old one moves
// the glyph back. That approximates LRU at the cost of a map per generation.
type GlyphCache struct {
	mu       sync.Mutex
	cur, old map[glyphKey]*Glyph
	bytes    int
	max      int
}

func NewGlyphCache(maxBytes int) *GlyphCache {
	return &GlyphCache{cur: map[glyphKey]*Glyph{}, max: maxBytes}
}

func (c *GlyphCache) get(k glyphKey) (*Glyph, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if g, ok := c.cur[k]; ok {
		return g, true
	}
	if g, ok := c.old[k]; ok {
		delete(c.old, k)
		c.putLocked(k, g)
		return g, true
	}
	return nil, false
}

func (c *GlyphCache) put(k glyphKey, g *Glyph) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(k, g)
}

func (c *GlyphCache) putLocked(k glyphKey, g *Glyph) {
	if c.bytes+g.bytes() > c.max/2 {
		c.old, c.cur, c.bytes = c.cur, map[glyphKey]*Glyph{}, 0
	}
	c.cur[k] = g
	c.bytes += g.bytes()
}

// Glyph returns glyph gid of font f at size px for a pen at x, from the
// cache or rasterised (and cached), with the whole-pixel pen x it was
// rasterised for: outlines keep a quarter-pixel phase, emoji snap to a pixel.
func (c *GlyphCache) Glyph(fs *Faces, f FontID, gid font.GID, size float64, stroke bool, x float64) (*Glyph, float64) {
	ix := math.Floor(x)
	phase := uint8(math.Floor((x - ix) * subpixelSteps))
	if f == fontEmoji {
		ix, phase = math.Round(x), 0
	}
	k := glyphKey{gid: gid, size: int32(math.Round(size * 64)), font: f, phase: phase, stroke: stroke && f != fontEmoji}
	cacheable := size <= maxCachedGlyph
	g, ok := (*Glyph)(nil), false
	if cacheable {
		g, ok = c.get(k)
	}
	if !ok {
		if f == fontEmoji {
			g = fs.rasterEmoji(gid, size)
		} else {
			g = fs.rasterOutline(f, gid, size, float64(phase)/subpixelSteps, k.stroke)
		}
		if cacheable {
			c.put(k, g)
		}
	}
	return g, ix
}

// rasterOutline rasterises an outline glyph at size px with its pen at
// (phase, 0); with stroke, only a band around the outline is kept.
func (fs *Faces) rasterOutline(f FontID, gid font.GID, size, phase float64, stroke bool) *Glyph {
	face := fs.faces[f]
	out, ok := face.GlyphDataOutline(gid)
	if !ok || len(out.Segments) == 0 {
		return &Glyph{}
	}
	scale := size / float64(face.Upem())
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	for _, s := range out.Segments {
		for _, p := range s.ArgsSlice() {
			minX, maxX = min(minX, float64(p.X)), max(maxX, float64(p.X))
			minY, maxY = min(minY, float64(p.Y)), max(maxY, float64(p.Y))
		}
	}
	pad := 0
	if stroke {
		pad = strokeRadius(size)
	}
	x0 := int(math.Floor(minX*scale+phase)) - pad
	x1 := int(math.Ceil(maxX*scale+phase)) + pad
	y0 := int(math.Floor(-maxY*scale)) - pad
	y1 := int(math.Ceil(-minY*scale)) + pad
	w, h := x1-x0, y1-y0
	if w <= 0 || h <= 0 || w > maxGlyphSide || h > maxGlyphSide {
		return &Glyph{}
	}
	z := &fs.raster
	z.Reset(w, h)
	z.DrawOp = draw.Src
	ox, oy := phase-float64(x0), -float64(y0)
	pt := func(p font.SegmentPoint) (float32, float32) {
		return float32(float64(p.X)*scale + ox), float32(oy - float64(p.Y)*scale)
	}
	for i, s := range out.Segments {
		switch s.Op {
		case ot.SegmentOpMoveTo:
			if i > 0 {
				z.ClosePath() // vector's MoveTo leaves the last contour open
			}
			z.MoveTo(pt(s.Args[0]))
		case ot.SegmentOpLineTo:
			z.LineTo(pt(s.Args[0]))
		case ot.SegmentOpQuadTo:
			ax, ay := pt(s.Args[0])
			bx, by := pt(s.Args[1])
			z.QuadTo(ax, ay, bx, by)
		case ot.SegmentOpCubeTo:
			ax, ay := pt(s.Args[0])
			bx, by := pt(s.Args[1])
			cx, cy := pt(s.Args[2])
			z.CubeTo(ax, ay, bx, by, cx, cy)
		}
	}
	z.ClosePath()
	m := image.NewAlpha(image.Rect(0, 0, w, h))
	z.Draw(m, m.Bounds(), image.Opaque, image.Point{})
	if stroke {
		m = strokeBand(m, pad)
	}
	return &Glyph{Off: image.Pt(x0, y0), Mask: m}
}

// strokeRadius is half the width of a stroked glyph's outline.
func strokeRadius(size float64) int { return max(1, int(math.Round(size/40))) }

// strokeBand keeps the pixels within r of the mask's edge: the dilated mask
// minus the eroded one, a morphological outline.
func strokeBand(m *image.Alpha, r int) *image.Alpha {
	dil := morph(m, r, true)
	ero := morph(m, r, false)
	for i := range dil.Pix {
		dil.Pix[i] = uint8(max(int(dil.Pix[i])-int(ero.Pix[i]), 0))
	}
	return dil
}

// morph applies a (2r+1)² max (dilate) or min (erode) filter, separably,
// with the van Herk/Gil-Werman algorithm: O(1) per pixel whatever r, so a
// stroked 1000 px glyph costs no more per pixel than a small one. Outside
// the mask counts as empty.
func morph(m *image.Alpha, r int, dilate bool) *image.Alpha {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	tmp := image.NewAlpha(m.Rect)
	out := image.NewAlpha(m.Rect)
	var f vhgw
	line := make([]uint8, max(w, h))
	res := make([]uint8, max(w, h))
	for y := range h {
		f.run(m.Pix[y*m.Stride:y*m.Stride+w], tmp.Pix[y*tmp.Stride:y*tmp.Stride+w], r, dilate)
	}
	for x := range w {
		for y := range h {
			line[y] = tmp.Pix[y*tmp.Stride+x]
		}
		f.run(line[:h], res[:h], r, dilate)
		for y := range h {
			out.Pix[y*out.Stride+x] = res[y]
		}
	}
	return out
}

// vhgw holds the scratch of the van Herk/Gil-Werman sliding max/min.
type vhgw struct{ pad, g, hh []uint8 }

// run sets out[i] to the max (or min) of in[i-r..i+r], zero outside in.
func (f *vhgw) run(in, out []uint8, r int, isMax bool) {
	k := 2*r + 1
	n := len(in) + 2*r
	n += (k - n%k) % k // whole blocks
	if cap(f.pad) < n {
		f.pad, f.g, f.hh = make([]uint8, n), make([]uint8, n), make([]uint8, n)
	}
	pad, g, hh := f.pad[:n], f.g[:n], f.hh[:n]
	clear(pad)
	copy(pad[r:], in)
	pick := func(a, b uint8) uint8 {
		if (a > b) == isMax {
			return a
		}
		return b
	}
	for b := 0; b < n; b += k {
		g[b] = pad[b]
		for j := b + 1; j < b+k; j++ {
			g[j] = pick(g[j-1], pad[j])
		}
		hh[b+k-1] = pad[b+k-1]
		for j := b + k - 2; j >= b; j-- {
			hh[j] = pick(hh[j+1], pad[j])
		}
	}
	for i := range in {
		out[i] = pick(hh[i], g[i+k-1])
	}
}

// rasterEmoji scales a colour bitmap glyph (CBDT PNG) to size px, placed by
// the font's bitmap metrics.
func (fs *Faces) rasterEmoji(gid font.GID, size float64) *Glyph {
	face := fs.faces[fontEmoji]
	if face == nil {
		return &Glyph{}
	}
	bm, ok := face.GlyphDataBitmap(gid)
	if !ok || bm.Format != font.PNG {
		return &Glyph{}
	}
	ext, ok := face.GlyphExtents(gid)
	if !ok {
		return &Glyph{}
	}
	src, err := png.Decode(bytes.NewReader(bm.Data))
	if err != nil {
		return &Glyph{}
	}
	scale := size / float64(face.Upem())
	x0 := math.Round(float64(ext.XBearing) * scale)
	y0 := math.Round(-float64(ext.YBearing) * scale)
	w := int(math.Round(float64(ext.Width) * scale))
	h := int(math.Round(-float64(ext.Height) * scale))
	if w <= 0 || h <= 0 || w > maxGlyphSide || h > maxGlyphSide {
		return &Glyph{}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	xdraw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	return &Glyph{Off: image.Pt(int(x0), int(y0)), Mask: nil, RGBA: dst}
}
