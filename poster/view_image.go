package poster

import (
	"image"
	"image/color"
	"image/draw"
	"math"

	qrcode "github.com/skip2/go-qrcode"
	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/vector"

	"github.com/wxposter/wxposter/poster/palette"
)

// kernelScaleMaxPixels bounds the destination area scaled with CatmullRom,
// whose per-call buffers grow with the image; larger draws (backgrounds)
// use ApproxBiLinear, which allocates nothing.
const kernelScaleMaxPixels = 512 * 512

// drawScaled draws sr of src scaled onto dr of dst with op. An image that
// keeps its size is copied 1:1, with no resampling blur. Shrinking by 2× or
// more first halves the image with a 2×2 box filter (a mipmap level) as often
// as fits: sharper than bilinear sampling, which skips pixels, and far
// cheaper than a wide CatmullRom kernel.
func drawScaled(dst *image.RGBA, dr image.Rectangle, src image.Image, sr image.Rectangle, op draw.Op) {
	if dr.Empty() || sr.Empty() || dr.Intersect(dst.Bounds()).Empty() {
		return
	}
	if s, ok := src.(*image.RGBA); ok && dr.Size() == sr.Size() {
		if sr != s.Rect || op != draw.Over {
			draw.Draw(dst, dr, s, sr.Min, op) // already what the canvas is
			return
		}
		drawPrepared(dst, dr, prepared(s, sr, sr.Size(), prepAsIs), op)
		return
	}
	vis := dr.Intersect(dst.Bounds())
	// The image at its drawn size, prepared once (scalecache.go); an image
	// mostly outside the canvas is scaled straight onto it instead.
	if area := dr.Dx() * dr.Dy(); area <= maxPreparedPixels && area <= 4*vis.Dx()*vis.Dy() {
		mip := sr.Dx() >= 2*dr.Dx() && sr.Dy() >= 2*dr.Dy() && sr.Dx()*sr.Dy() <= maxMipPixels
		kernel := vis.Dx()*vis.Dy() <= kernelScaleMaxPixels && area <= 4*kernelScaleMaxPixels
		kind := prepApproxBiLinear
		switch {
		case mip && kernel:
			kind = prepMipCatmullRom
		case mip:
			kind = prepMipApprox
		case kernel:
			kind = prepCatmullRom
		}
		drawPrepared(dst, dr, prepared(src, sr, dr.Size(), kind), op)
		return
	}
	if sr.Dx() >= 2*dr.Dx() && sr.Dy() >= 2*dr.Dy() && sr.Dx()*sr.Dy() <= maxMipPixels {
		m := toRGBA(src, sr)
		for m.Rect.Dx() >= 2*dr.Dx() && m.Rect.Dy() >= 2*dr.Dy() {
			m = halve(m)
		}
		src, sr = m, m.Rect
	}
	if dr.Size() == sr.Size() {
		if p, ok := src.(*image.Paletted); ok && op == draw.Over && sr == p.Bounds() {
			drawPalettedOver(dst, dr, p)
			return
		}
		draw.Draw(dst, dr, src, sr.Min, op)
		return
	}
	var s xdraw.Scaler = xdraw.ApproxBiLinear
	if vis := dr.Intersect(dst.Bounds()); vis.Dx()*vis.Dy() <= kernelScaleMaxPixels && dr.Dx()*dr.Dy() <= 4*kernelScaleMaxPixels {
		s = xdraw.CatmullRom
	}
	s.Scale(dst, dr, src, sr, op, nil)
}

// maxPreparedPixels bounds the images drawScaled prepares and caches: a
// poster-sized background at most.
const maxPreparedPixels = 1 << 20

// maxMipPixels bounds the source area that is halved: a huge photo shrunk
// onto a whole poster goes straight to ApproxBiLinear rather than being
// copied first.
const maxMipPixels = 1600 * 1600

// toRGBA returns sr of src as an *image.RGBA with sr as bounds, sharing
// pixels when src already is one.
func toRGBA(src image.Image, sr image.Rectangle) *image.RGBA {
	switch s := src.(type) {
	case *image.RGBA:
		return s.SubImage(sr).(*image.RGBA)
	case *image.Paletted:
		// image/draw has no fast path for paletted sources (QR codes,
		// optimised PNGs): look the colours up in a table instead.
		var pal [256][4]uint8
		for i, c := range s.Palette {
			if i < len(pal) {
				rc := color.RGBAModel.Convert(c).(color.RGBA)
				pal[i] = [4]uint8{rc.R, rc.G, rc.B, rc.A}
			}
		}
		sr = sr.Intersect(s.Rect)
		m := image.NewRGBA(sr)
		for y := sr.Min.Y; y < sr.Max.Y; y++ {
			si := s.PixOffset(sr.Min.X, y)
			di := m.PixOffset(sr.Min.X, y)
			for x, ci := range s.Pix[si : si+sr.Dx()] {
				copy(m.Pix[di+4*x:di+4*x+4], pal[ci][:])
			}
		}
		return m
	}
	m := image.NewRGBA(sr)
	draw.Draw(m, sr, src, sr.Min, draw.Src)
	return m
}

// halve returns m at half its size, each pixel the mean of a 2×2 block
// (premultiplied, so transparent edges stay clean). An odd last row or
// column is dropped.
func halve(m *image.RGBA) *image.RGBA {
	w, h := m.Rect.Dx()/2, m.Rect.Dy()/2
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		r0 := m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y+2*y)
		r1 := r0 + m.Stride
		o := y * out.Stride
		for x := range w {
			a, b := r0+8*x, r1+8*x
			for c := range 4 {
				out.Pix[o+4*x+c] = uint8((uint32(m.Pix[a+c]) + uint32(m.Pix[a+4+c]) +
					uint32(m.Pix[b+c]) + uint32(m.Pix[b+4+c]) + 2) >> 2)
			}
		}
	}
	return out
}

// aspectFillSource is Painter's aspectFill crop: the centred part of the
// image with the box's aspect ratio.
func aspectFillSource(b image.Rectangle, bw, bh float64) image.Rectangle {
	sw, sh := float64(b.Dx()), float64(b.Dy())
	if bw <= 0 || bh <= 0 {
		return b
	}
	cp, op := bw/bh, sw/sh
	if cp >= op {
		h := sw / cp
		y := math.Round((sh - h) / 2)
		return image.Rect(b.Min.X, b.Min.Y+int(y), b.Max.X, b.Min.Y+int(math.Round(y+h)))
	}
	w := sh * cp
	x := math.Round((sw - w) / 2)
	return image.Rect(b.Min.X+int(x), b.Min.Y, b.Min.X+int(math.Round(x+w)), b.Max.Y)
}

// drawImageBox draws img into box with the given mode, clipped to the
// rounded box.
func drawImageBox(dst *image.RGBA, z *vector.Rasterizer, box image.Rectangle, r radii, img image.Image, mode palette.ImageMode) {
	sb := img.Bounds()
	if sb.Empty() || box.Empty() {
		return
	}
	sr, dr := sb, box
	switch mode {
	case palette.ModeAspectFill:
		sr = aspectFillSource(sb, float64(box.Dx()), float64(box.Dy()))
	case palette.ModeAspectFit:
		dr = fitRect(box, sb)
	}
	if r.zero() {
		drawScaled(dst, dr, img, sr, draw.Over)
		return
	}
	vis := box.Intersect(dst.Bounds())
	if vis.Empty() {
		return
	}
	tmp := image.NewRGBA(vis)
	drawScaled(tmp, dr, img, sr, draw.Src)
	compositeRounded(dst, z, box, r, tmp, box.Min)
}

// drawQR encodes content at level M with no quiet zone and draws its
// modules over the square min(w, h) at the box's top-left. Module edges are
// rounded to whole pixels, so modules stay crisp and never leave seams.
func drawQR(dst *image.RGBA, box image.Rectangle, content string, p palette.Paint) error {
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return err
	}
	q.DisableBorder = true
	bm := q.Bitmap()
	n := len(bm)
	if n == 0 || p.Color.A == 0 {
		return nil
	}
	size := float64(min(box.Dx(), box.Dy()))
	edge := func(i int) int { return int(math.Round(size * float64(i) / float64(n))) }
	src := image.NewUniform(palette.Premul(p.Color))
	for y, row := range bm {
		y0, y1 := box.Min.Y+edge(y), box.Min.Y+edge(y+1)
		for x := 0; x < n; {
			if !row[x] {
				x++
				continue
			}
			x1 := x
			for x1 < n && row[x1] {
				x1++
			}
			draw.Draw(dst, image.Rect(box.Min.X+edge(x), y0, box.Min.X+edge(x1), y1), src, image.Point{}, draw.Over)
			x = x1
		}
	}
	return nil
}
