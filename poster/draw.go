package poster

import (
	"image"
	"image/color"
	"image/draw"
	"math"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/vector"
)

// kappa places the control points of a cubic Bézier that approximates a
// quarter circle (radial error 0.03 %).
const kappa = 0.5522847498

// circleMask returns an anti-aliased disc of diameter d as an alpha mask.
// Masks are built once and reused: draw.DrawMask with an *image.Alpha mask on
// an *image.RGBA is a fast path.
func circleMask(d int) *image.Alpha {
	return roundedRectMask(d, d, float32(d)/2)
}

// roundedRectMask returns an anti-aliased w×h rectangle with corners of
// radius rad as an alpha mask.
func roundedRectMask(w, h int, rad float32) *image.Alpha {
	fw, fh := float32(w), float32(h)
	rad = min(rad, fw/2, fh/2)
	k := rad * (1 - kappa)
	z := vector.NewRasterizer(w, h)
	z.MoveTo(rad, 0)
	z.LineTo(fw-rad, 0)
	z.CubeTo(fw-k, 0, fw, k, fw, rad)
	z.LineTo(fw, fh-rad)
	z.CubeTo(fw, fh-k, fw-k, fh, fw-rad, fh)
	z.LineTo(rad, fh)
	z.CubeTo(k, fh, 0, fh-k, 0, fh-rad)
	z.LineTo(0, rad)
	z.CubeTo(0, k, k, 0, rad, 0)
	z.ClosePath()
	m := image.NewAlpha(image.Rect(0, 0, w, h))
	z.Draw(m, m.Bounds(), image.Opaque, image.Point{})
	return m
}

// fillMask paints c through mask with its top-left corner at at.
func fillMask(dst *image.RGBA, at image.Point, mask *image.Alpha, c color.Color) {
	r := mask.Bounds().Sub(mask.Bounds().Min).Add(at)
	draw.DrawMask(dst, r, image.NewUniform(c), image.Point{}, mask, mask.Bounds().Min, draw.Over)
}

// centerCrop returns the largest centred sub-rectangle of b with the aspect
// ratio w:h.
func centerCrop(b image.Rectangle, w, h int) image.Rectangle {
	bw, bh := b.Dx(), b.Dy()
	if bw*h > bh*w { // too wide
		cw := bh * w / h
		x := b.Min.X + (bw-cw)/2
		return image.Rect(x, b.Min.Y, x+cw, b.Max.Y)
	}
	ch := bw * h / w
	y := b.Min.Y + (bh-ch)/2
	return image.Rect(b.Min.X, y, b.Max.X, y+ch)
}

// fitRect returns the largest rectangle with src's aspect ratio that fits in
// box, centred in it.
func fitRect(box image.Rectangle, src image.Rectangle) image.Rectangle {
	bw, bh, sw, sh := box.Dx(), box.Dy(), src.Dx(), src.Dy()
	w, h := bw, bh
	if sw*bh > sh*bw { // relatively wider than box
		h = int(math.Round(float64(bw) * float64(sh) / float64(sw)))
	} else {
		w = int(math.Round(float64(bh) * float64(sw) / float64(sh)))
	}
	w, h = max(w, 1), max(h, 1)
	x := box.Min.X + (bw-w)/2
	y := box.Min.Y + (bh-h)/2
	return image.Rect(x, y, x+w, y+h)
}

// drawContain scales src to fit dr, keeping its aspect ratio, and composites it
// Over dst. An image already the right size is drawn 1:1 (no resampling blur).
func drawContain(dst *image.RGBA, dr image.Rectangle, src image.Image, s xdraw.Scaler) {
	sb := src.Bounds()
	r := fitRect(dr, sb)
	if r.Dx() == sb.Dx() && r.Dy() == sb.Dy() {
		if p, ok := src.(*image.Paletted); ok {
			drawPalettedOver(dst, r, p)
			return
		}
		draw.Draw(dst, r, src, sb.Min, draw.Over)
		return
	}
	s.Scale(dst, r, src, sb, draw.Over, nil)
}

// drawPalettedOver composites a paletted image (QR generators and optimised
// PNGs produce them) Over dst at r.Min. image/draw has no fast path for
// paletted sources and would convert every pixel through the color.Color
// interface: 3× slower for a 430 px code.
func drawPalettedOver(dst *image.RGBA, r image.Rectangle, src *image.Paletted) {
	var pal [256][4]uint32 // premultiplied, 16-bit
	for i, c := range src.Palette {
		r, g, b, a := c.RGBA()
		pal[i] = [4]uint32{r, g, b, a}
	}
	// Source point of dst's r.Min, kept through the clipping below.
	sp := src.Bounds().Min.Sub(r.Min)
	r = r.Intersect(dst.Bounds()).Intersect(src.Bounds().Sub(sp))
	for y := r.Min.Y; y < r.Max.Y; y++ {
		si := src.PixOffset(r.Min.X+sp.X, y+sp.Y)
		di := dst.PixOffset(r.Min.X, y)
		for x := r.Min.X; x < r.Max.X; x, si, di = x+1, si+1, di+4 {
			c := pal[src.Pix[si]]
			d := dst.Pix[di : di+4 : di+4]
			if c[3] == 0xffff {
				d[0], d[1], d[2], d[3] = uint8(c[0]>>8), uint8(c[1]>>8), uint8(c[2]>>8), 0xff
				continue
			}
			ia := 0xffff - c[3]
			d[0] = uint8((uint32(d[0])*0x101*ia/0xffff + c[0]) >> 8)
			d[1] = uint8((uint32(d[1])*0x101*ia/0xffff + c[1]) >> 8)
			d[2] = uint8((uint32(d[2])*0x101*ia/0xffff + c[2]) >> 8)
			d[3] = uint8((uint32(d[3])*0x101*ia/0xffff + c[3]) >> 8)
		}
	}
}

// drawCircleImage draws src, centre-cropped to a square and scaled, as an
// anti-aliased disc through mask at at. Transparent pixels of src become white
// rather than showing the background through the avatar.
func drawCircleImage(dst *image.RGBA, at image.Point, src image.Image, mask *image.Alpha, s xdraw.Scaler) {
	d := mask.Bounds().Size()
	tmp := image.NewRGBA(image.Rect(0, 0, d.X, d.Y))
	draw.Draw(tmp, tmp.Bounds(), image.White, image.Point{}, draw.Src)
	sr := centerCrop(src.Bounds(), d.X, d.Y)
	s.Scale(tmp, tmp.Bounds(), src, sr, draw.Over, nil)
	draw.DrawMask(dst, tmp.Bounds().Add(at), tmp, image.Point{}, mask, mask.Bounds().Min, draw.Over)
}

// lerpRGBA mixes a and b: t=0 gives a, t=1 gives b.
func lerpRGBA(a, b color.RGBA, t float64) color.RGBA {
	t = min(max(t, 0), 1)
	l := func(x, y uint8) uint8 { return uint8(math.Round(float64(x) + (float64(y)-float64(x))*t)) }
	return color.RGBA{l(a.R, b.R), l(a.G, b.G), l(a.B, b.B), l(a.A, b.A)}
}

// blendPix composites the opaque colour c with coverage a (0..1) over the
// pixel at offset i of an opaque RGBA buffer.
func blendPix(pix []uint8, i int, c color.RGBA, a float64) {
	if a <= 0 {
		return
	}
	a = min(a, 1)
	pix[i+0] = uint8(math.Round(float64(pix[i+0])*(1-a) + float64(c.R)*a))
	pix[i+1] = uint8(math.Round(float64(pix[i+1])*(1-a) + float64(c.G)*a))
	pix[i+2] = uint8(math.Round(float64(pix[i+2])*(1-a) + float64(c.B)*a))
	pix[i+3] = 0xff
}

// roundedRectDist is the signed distance from (x, y) to the rounded rectangle
// r with corner radius rad: negative inside. It drives soft shadows, which a
// coverage mask cannot express.
func roundedRectDist(x, y float64, r image.Rectangle, rad float64) float64 {
	cx := float64(r.Min.X+r.Max.X) / 2
	cy := float64(r.Min.Y+r.Max.Y) / 2
	hx := float64(r.Dx())/2 - rad
	hy := float64(r.Dy())/2 - rad
	qx := math.Abs(x-cx) - hx
	qy := math.Abs(y-cy) - hy
	outside := math.Hypot(max(qx, 0), max(qy, 0))
	inside := min(max(qx, qy), 0)
	return outside + inside - rad
}

// smoothstep is 0 below e0, 1 above e1 and smooth in between.
func smoothstep(e0, e1, x float64) float64 {
	t := min(max((x-e0)/(e1-e0), 0), 1)
	return t * t * (3 - 2*t)
}
