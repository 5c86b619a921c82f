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
	if s == xdraw.ApproxBiLinear && r.Dx()*r.Dy() <= maxPreparedPixels {
		kind := prepApproxBiLinear
		if _, ok := src.(*image.RGBA); ok && r.Size() == sb.Size() {
			kind = prepAsIs
		}
		drawPrepared(dst, r, prepared(src, sb, r.Size(), kind), draw.Over)
		return
	}
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
	var pal [256][4]uint32 // premultiplied, 16-bit, for the exact blend
	var op [256][4]uint8   // 8-bit copies of the opaque entries
	var kind [256]uint8    // 0 transparent, 1 opaque, 2 translucent
	for i, c := range src.Palette {
		if i >= len(pal) {
			break
		}
		r, g, b, a := c.RGBA()
		pal[i] = [4]uint32{r, g, b, a}
		switch a {
		case 0:
		case 0xffff:
			kind[i], op[i] = 1, [4]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 0xff}
		default:
			kind[i] = 2
		}
	}
	// Source point of dst's r.Min, kept through the clipping below.
	sp := src.Bounds().Min.Sub(r.Min)
	r = r.Intersect(dst.Bounds()).Intersect(src.Bounds().Sub(sp))
	for y := r.Min.Y; y < r.Max.Y; y++ {
		si := src.PixOffset(r.Min.X+sp.X, y+sp.Y)
		di := dst.PixOffset(r.Min.X, y)
		row := src.Pix[si : si+r.Dx()]
		d := dst.Pix[di : di+4*r.Dx()]
		for x, ci := range row {
			p := d[4*x : 4*x+4 : 4*x+4]
			switch kind[ci] {
			case 1:
				c := &op[ci]
				p[0], p[1], p[2], p[3] = c[0], c[1], c[2], c[3]
			case 2:
				c := &pal[ci]
				ia := 0xffff - c[3]
				p[0] = uint8((uint32(p[0])*0x101*ia/0xffff + c[0]) >> 8)
				p[1] = uint8((uint32(p[1])*0x101*ia/0xffff + c[1]) >> 8)
				p[2] = uint8((uint32(p[2])*0x101*ia/0xffff + c[2]) >> 8)
				p[3] = uint8((uint32(p[3])*0x101*ia/0xffff + c[3]) >> 8)
			}
		}
	}
}

// drawMaskOver composites the premultiplied colour c through mask (its
// point mp on r.Min) Over dst. It is image/draw's glyph path in 8-bit
// arithmetic, skipping empty mask pixels and storing full ones: text is
// mostly those.
func drawMaskOver(dst *image.RGBA, r image.Rectangle, mask *image.Alpha, mp image.Point, c color.RGBA) {
	clip := r.Intersect(dst.Bounds()).Intersect(mask.Rect.Add(r.Min.Sub(mp)))
	if clip.Empty() || c.A == 0 && c.R == 0 && c.G == 0 && c.B == 0 {
		return
	}
	mp = mp.Add(clip.Min.Sub(r.Min))
	cr, cg, cb, ca := uint32(c.R), uint32(c.G), uint32(c.B), uint32(c.A)
	for y := 0; y < clip.Dy(); y++ {
		mi := mask.PixOffset(mp.X, mp.Y+y)
		di := dst.PixOffset(clip.Min.X, clip.Min.Y+y)
		ms := mask.Pix[mi : mi+clip.Dx()]
		d := dst.Pix[di : di+4*clip.Dx()]
		for x, m8 := range ms {
			if m8 == 0 {
				continue
			}
			p := d[4*x : 4*x+4 : 4*x+4]
			if m8 == 0xff && ca == 0xff {
				p[0], p[1], p[2], p[3] = c.R, c.G, c.B, 0xff
				continue
			}
			m := uint32(m8)
			ia := 0xff*0xff - ca*m // (1 - src alpha × coverage), ×255²
			p[0] = uint8((cr*m*0xff + uint32(p[0])*ia + 0x7f00) / (0xff * 0xff))
			p[1] = uint8((cg*m*0xff + uint32(p[1])*ia + 0x7f00) / (0xff * 0xff))
			p[2] = uint8((cb*m*0xff + uint32(p[2])*ia + 0x7f00) / (0xff * 0xff))
			p[3] = uint8((ca*m*0xff + uint32(p[3])*ia + 0x7f00) / (0xff * 0xff))
		}
	}
}

// drawCircleImage draws src, centre-cropped to a square and scaled, as an
// anti-aliased disc through mask at at. Transparent pixels of src become white
// rather than showing the background through the avatar.
func drawCircleImage(dst *image.RGBA, at image.Point, src image.Image, mask *image.Alpha, s xdraw.Scaler) {
	d := mask.Bounds().Size()
	if s == xdraw.CatmullRom {
		p := prepared(src, centerCrop(src.Bounds(), d.X, d.Y), d, prepOnWhite)
		drawRGBAMaskOver(dst, image.Rectangle{Min: at, Max: at.Add(d)}, p.img, p.img.Rect.Min, mask, mask.Bounds().Min)
		return
	}
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

// drawRGBAMaskOver composites src (its point sp on r.Min) through mask (mp
// on r.Min) Over dst, in 8-bit arithmetic: empty mask pixels are skipped and
// opaque source pixels under a full mask are copied.
func drawRGBAMaskOver(dst *image.RGBA, r image.Rectangle, src *image.RGBA, sp image.Point, mask *image.Alpha, mp image.Point) {
	clip := r.Intersect(dst.Bounds()).
		Intersect(mask.Rect.Add(r.Min.Sub(mp))).
		Intersect(src.Rect.Add(r.Min.Sub(sp)))
	if clip.Empty() {
		return
	}
	d := clip.Min.Sub(r.Min)
	sp, mp = sp.Add(d), mp.Add(d)
	for y := 0; y < clip.Dy(); y++ {
		mi := mask.PixOffset(mp.X, mp.Y+y)
		si := src.PixOffset(sp.X, sp.Y+y)
		di := dst.PixOffset(clip.Min.X, clip.Min.Y+y)
		ms := mask.Pix[mi : mi+clip.Dx()]
		sr := src.Pix[si : si+4*clip.Dx()]
		dr := dst.Pix[di : di+4*clip.Dx()]
		for x, m8 := range ms {
			if m8 == 0 {
				continue
			}
			s := sr[4*x : 4*x+4 : 4*x+4]
			p := dr[4*x : 4*x+4 : 4*x+4]
			if m8 == 0xff && s[3] == 0xff {
				p[0], p[1], p[2], p[3] = s[0], s[1], s[2], 0xff
				continue
			}
			m := uint32(m8)
			ia := 0xff*0xff - uint32(s[3])*m
			p[0] = uint8((uint32(s[0])*m*0xff + uint32(p[0])*ia + 0x7f00) / (0xff * 0xff))
			p[1] = uint8((uint32(s[1])*m*0xff + uint32(p[1])*ia + 0x7f00) / (0xff * 0xff))
			p[2] = uint8((uint32(s[2])*m*0xff + uint32(p[2])*ia + 0x7f00) / (0xff * 0xff))
			p[3] = uint8((uint32(s[3])*m*0xff + uint32(p[3])*ia + 0x7f00) / (0xff * 0xff))
		}
	}
}

// drawThroughMask is draw.DrawMask Over with the 8-bit fast paths for the
// sources this package masks: uniform colours and RGBA images.
func drawThroughMask(dst *image.RGBA, r image.Rectangle, src image.Image, sp image.Point, mask *image.Alpha, mp image.Point) {
	switch s := src.(type) {
	case *image.Uniform:
		c := color.RGBAModel.Convert(s.C).(color.RGBA)
		drawMaskOver(dst, r, mask, mp, c)
	case *image.RGBA:
		drawRGBAMaskOver(dst, r, s, sp, mask, mp)
	default:
		draw.DrawMask(dst, r, src, sp, mask, mp, draw.Over)
	}
}
