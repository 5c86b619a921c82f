package poster

import (
	"image"
	"image/color"
	"image/draw"
	"math"

	"golang.org/x/image/vector"

	"github.com/wxposter/wxposter/poster/palette"
)

// radii are corner radii in px: top-left, top-right, bottom-right, bottom-left.
type radii [4]float64

func (r radii) zero() bool { return r == radii{} }

// clampRadii limits each radius to half the smaller side, as Painter does.
func clampRadii(r radii, w, h float64) radii {
	m := max(min(w, h)/2, 0)
	for i := range r {
		r[i] = min(max(r[i], 0), m)
	}
	return r
}

// grow returns the radii of a shape offset outward by d: rounded corners
// grow with it, square ones stay square.
func (r radii) grow(d float64) radii {
	for i := range r {
		if r[i] > 0 {
			r[i] = max(r[i]+d, 0)
		}
	}
	return r
}

// addRoundedRect adds the closed outline of a rounded rectangle to z, with
// coordinates relative to origin o; reverse winds it the other way, which
// cuts a hole when combined with an outer outline.
func addRoundedRect(z *vector.Rasterizer, x0, y0, x1, y1 float64, r radii, o image.Point, reverse bool) {
	k := 1 - kappa
	ox, oy := float64(o.X), float64(o.Y)
	p := func(x, y float64) (float32, float32) { return float32(x - ox), float32(y - oy) }
	// Corners clockwise from the top-left: each is (corner point, radius,
	// direction to the previous and next side).
	type corner struct {
		x, y, r    float64
		inX, inY   float64 // unit vector from the corner back along the incoming side
		outX, outY float64 // unit vector from the corner along the outgoing side
	}
	cs := []corner{
		{x0, y0, r[0], 0, 1, 1, 0},
		{x1, y0, r[1], -1, 0, 0, 1},
		{x1, y1, r[2], 0, -1, -1, 0},
		{x0, y1, r[3], 1, 0, 0, -1},
	}
	if reverse {
		// Walk the corners the other way round, swapping in and out.
		cs = []corner{cs[0], cs[3], cs[2], cs[1]}
		for i := range cs {
			cs[i].inX, cs[i].inY, cs[i].outX, cs[i].outY = cs[i].outX, cs[i].outY, cs[i].inX, cs[i].inY
		}
	}
	for i, c := range cs {
		ax, ay := c.x+c.inX*c.r, c.y+c.inY*c.r
		bx, by := c.x+c.outX*c.r, c.y+c.outY*c.r
		if i == 0 {
			z.MoveTo(p(ax, ay))
		} else {
			z.LineTo(p(ax, ay))
		}
		if c.r > 0 {
			c1x, c1y := ax-c.inX*c.r*(1-k), ay-c.inY*c.r*(1-k)
			c2x, c2y := bx-c.outX*c.r*(1-k), by-c.outY*c.r*(1-k)
			x1, y1 := p(c1x, c1y)
			x2, y2 := p(c2x, c2y)
			x3, y3 := p(bx, by)
			z.CubeTo(x1, y1, x2, y2, x3, y3)
		}
	}
	z.ClosePath()
}

// newMask rasterises what draw adds to z into an alpha mask covering region
// (in destination coordinates). The mask is rasterised at the origin, where
// vector has its fast path, and then moved.
func newMask(z *vector.Rasterizer, region image.Rectangle, add func(z *vector.Rasterizer, o image.Point)) *image.Alpha {
	w, h := region.Dx(), region.Dy()
	z.Reset(w, h)
	z.DrawOp = draw.Src
	add(z, region.Min)
	m := image.NewAlpha(image.Rect(0, 0, w, h))
	z.Draw(m, m.Bounds(), image.Opaque, image.Point{})
	m.Rect = region
	return m
}

// compositeRounded draws src Over dst within box (src's point sp lands on
// box.Min), clipped to the rounded rectangle of box with radii r. Only the
// bands holding the corners go through a mask; the rest is a plain draw,
// which keeps big cards and backgrounds cheap.
func compositeRounded(dst *image.RGBA, z *vector.Rasterizer, box image.Rectangle, r radii, src image.Image, sp image.Point) {
	vis := box.Intersect(dst.Bounds())
	if vis.Empty() {
		return
	}
	srcAt := func(p image.Point) image.Point { return sp.Add(p.Sub(box.Min)) }
	if r.zero() {
		draw.Draw(dst, vis, src, srcAt(vis.Min), draw.Over)
		return
	}
	x0, y0, x1, y1 := float64(box.Min.X), float64(box.Min.Y), float64(box.Max.X), float64(box.Max.Y)
	shape := func(z *vector.Rasterizer, o image.Point) { addRoundedRect(z, x0, y0, x1, y1, r, o, false) }
	topH := int(math.Ceil(max(r[0], r[1])))
	botH := int(math.Ceil(max(r[2], r[3])))
	bands := []struct {
		rect   image.Rectangle
		masked bool
	}{
		{image.Rect(box.Min.X, box.Min.Y, box.Max.X, box.Min.Y+topH), true},
		{image.Rect(box.Min.X, box.Min.Y+topH, box.Max.X, box.Max.Y-botH), false},
		{image.Rect(box.Min.X, box.Max.Y-botH, box.Max.X, box.Max.Y), true},
	}
	if topH+botH >= box.Dy() {
		bands = bands[:1]
		bands[0].rect = box
	}
	for _, b := range bands {
		br := b.rect.Intersect(vis)
		if br.Empty() {
			continue
		}
		if !b.masked {
			draw.Draw(dst, br, src, srcAt(br.Min), draw.Over)
			continue
		}
		m := newMask(z, br, shape)
		drawThroughMask(dst, br, src, srcAt(br.Min), m, br.Min)
	}
}

// fillShape fills the rounded rectangle box with p.
func fillShape(dst *image.RGBA, z *vector.Rasterizer, box image.Rectangle, r radii, p palette.Paint, k float64) {
	vis := box.Intersect(dst.Bounds())
	if vis.Empty() {
		return
	}
	switch p.Kind {
	case palette.PaintColor:
		if p.Color.A == 0 {
			return
		}
		compositeRounded(dst, z, box, r, image.NewUniform(palette.Premul(p.Color)), image.Point{})
	case palette.PaintGradient:
		tmp := image.NewRGBA(vis)
		renderGradient(p.Grad, tmp, vis, rectFOf(box), k)
		compositeRounded(dst, z, box, r, tmp, box.Min)
	}
}

func rectFOf(r image.Rectangle) rectF {
	return rectF{float64(r.Min.X), float64(r.Min.Y), float64(r.Dx()), float64(r.Dy())}
}

// snap rounds a box to whole pixels, so that straight edges stay crisp.
func snap(b rectF) image.Rectangle {
	x0, y0 := math.Round(b.x), math.Round(b.y)
	x1, y1 := math.Round(b.x+b.w), math.Round(b.y+b.h)
	clampI := func(v float64) int { return int(min(max(v, -palette.MaxViewSidePx), palette.MaxViewSidePx)) }
	return image.Rect(clampI(x0), clampI(y0), clampI(x1), clampI(y1))
}

// drawBorder strokes a border of width bw outside box, as Painter does: the
// box keeps its size and the border adds bw on each side.
func drawBorder(dst *image.RGBA, z *vector.Rasterizer, box image.Rectangle, r radii, bw float64, c color.NRGBA, style palette.BorderStyle) {
	if bw < 0.01 || c.A == 0 {
		return
	}
	pad := int(math.Ceil(bw)) + 1
	region := box.Inset(-pad).Intersect(dst.Bounds())
	if region.Empty() {
		return
	}
	x0, y0, x1, y1 := float64(box.Min.X), float64(box.Min.Y), float64(box.Max.X), float64(box.Max.Y)
	var m *image.Alpha
	switch style {
	case palette.BorderSolid:
		m = newMask(z, region, func(z *vector.Rasterizer, o image.Point) {
			addRoundedRect(z, x0-bw, y0-bw, x1+bw, y1+bw, r.grow(bw), o, false)
			addRoundedRect(z, x0, y0, x1, y1, r, o, true)
		})
	default:
		h := bw / 2
		path := roundedPolyline(x0-h, y0-h, x1+h, y1+h, r.grow(h))
		m = newMask(z, region, func(z *vector.Rasterizer, o image.Point) {
			if style == palette.BorderDotted {
				addDots(z, path, bw, o)
			} else {
				addDashes(z, path, bw, bw*4/3, o)
			}
		})
	}
	drawMaskOver(dst, region, m, region.Min, palette.Premul(c))
}

type pt struct{ x, y float64 }

// maxDashes bounds the dashes or dots of one border: a hairline border
// around a big box would otherwise ask for millions of invisible ones.
const maxDashes = 4096

// roundedPolyline flattens a rounded rectangle into a closed polyline,
// clockwise from the end of the top-left corner.
func roundedPolyline(x0, y0, x1, y1 float64, r radii) []pt {
	var out []pt
	arc := func(cx, cy, rad, a0 float64) {
		if rad <= 0 {
			out = append(out, pt{cx, cy})
			return
		}
		n := max(2, int(math.Ceil(rad/2)))
		n = min(n, 64)
		for i := 0; i <= n; i++ {
			a := (a0 + 90*float64(i)/float64(n)) * math.Pi / 180
			out = append(out, pt{cx + rad*math.Cos(a), cy + rad*math.Sin(a)})
		}
	}
	arc(x0+r[0], y0+r[0], r[0], 180)
	arc(x1-r[1], y0+r[1], r[1], 270)
	arc(x1-r[2], y1-r[2], r[2], 0)
	arc(x0+r[3], y1-r[3], r[3], 90)
	// Square corners were added as the corner point itself.
	return out
}

// polylineLengths returns cumulative lengths along the closed polyline.
func polylineLengths(p []pt) []float64 {
	acc := make([]float64, len(p)+1)
	for i := range p {
		q := p[(i+1)%len(p)]
		acc[i+1] = acc[i] + math.Hypot(q.x-p[i].x, q.y-p[i].y)
	}
	return acc
}

// at returns the point at arc length s along the closed polyline.
func at(p []pt, acc []float64, s float64) (pt, int) {
	total := acc[len(acc)-1]
	s = math.Mod(s, total)
	if s < 0 {
		s += total
	}
	i := 0
	for i < len(p)-1 && acc[i+1] < s {
		i++
	}
	a, b := p[i], p[(i+1)%len(p)]
	seg := acc[i+1] - acc[i]
	t := 0.0
	if seg > 0 {
		t = (s - acc[i]) / seg
	}
	return pt{a.x + (b.x-a.x)*t, a.y + (b.y-a.y)*t}, i
}

// addDashes adds dashes of length dash and width bw along the closed
// polyline, the pattern stretched so that a whole number of dash+gap periods
// fits and no dash is cut at the seam.
func addDashes(z *vector.Rasterizer, p []pt, bw, dash float64, o image.Point) {
	if len(p) < 2 {
		return
	}
	acc := polylineLengths(p)
	total := acc[len(acc)-1]
	n := min(max(1, int(math.Round(total/(2*dash)))), maxDashes)
	period := total / float64(n)
	for i := range n {
		s0 := float64(i) * period
		addStrip(z, p, acc, s0, s0+period/2, bw, o)
	}
}

// addStrip adds the outline of a stroke of width bw along the polyline from
// arc length s0 to s1, with mitred joins at its vertices.
func addStrip(z *vector.Rasterizer, p []pt, acc []float64, s0, s1, bw float64, o image.Point) {
	start, i0 := at(p, acc, s0)
	end, i1 := at(p, acc, s1)
	pts := []pt{start}
	n := len(p)
	if i1 < i0 || (i1 == i0 && math.Mod(s1, acc[n]) < math.Mod(s0, acc[n])) {
		i1 += n
	}
	for i := i0 + 1; i <= i1; i++ {
		pts = append(pts, p[i%n])
	}
	pts = append(pts, end)
	// Drop repeated points, which have no direction.
	clean := pts[:1]
	for _, q := range pts[1:] {
		if l := clean[len(clean)-1]; math.Hypot(q.x-l.x, q.y-l.y) > 1e-6 {
			clean = append(clean, q)
		}
	}
	if len(clean) < 2 {
		return
	}
	h := bw / 2
	normal := func(a, b pt) pt {
		dx, dy := b.x-a.x, b.y-a.y
		l := math.Hypot(dx, dy)
		return pt{-dy / l, dx / l}
	}
	offs := make([]pt, len(clean))
	for i := range clean {
		var nv pt
		switch {
		case i == 0:
			nv = normal(clean[0], clean[1])
		case i == len(clean)-1:
			nv = normal(clean[i-1], clean[i])
		default:
			a, b := normal(clean[i-1], clean[i]), normal(clean[i], clean[i+1])
			m := pt{a.x + b.x, a.y + b.y}
			l := math.Hypot(m.x, m.y)
			if l < 1e-6 {
				nv = a
				break
			}
			m = pt{m.x / l, m.y / l}
			cos := m.x*a.x + m.y*a.y // miter: 1/cos of half the turn
			nv = pt{m.x / max(cos, 0.2), m.y / max(cos, 0.2)}
		}
		offs[i] = pt{nv.x * h, nv.y * h}
	}
	ox, oy := float64(o.X), float64(o.Y)
	z.MoveTo(float32(clean[0].x+offs[0].x-ox), float32(clean[0].y+offs[0].y-oy))
	for i := 1; i < len(clean); i++ {
		z.LineTo(float32(clean[i].x+offs[i].x-ox), float32(clean[i].y+offs[i].y-oy))
	}
	for i := len(clean) - 1; i >= 0; i-- {
		z.LineTo(float32(clean[i].x-offs[i].x-ox), float32(clean[i].y-offs[i].y-oy))
	}
	z.ClosePath()
}

// addDots adds round dots of diameter bw along the closed polyline, about
// one per 2bw, evenly spread.
func addDots(z *vector.Rasterizer, p []pt, bw float64, o image.Point) {
	if len(p) < 2 {
		return
	}
	acc := polylineLengths(p)
	total := acc[len(acc)-1]
	n := min(max(1, int(math.Round(total/(2*bw)))), maxDashes)
	for i := range n {
		c, _ := at(p, acc, float64(i)*total/float64(n))
		h := bw / 2
		addRoundedRect(z, c.x-h, c.y-h, c.x+h, c.y+h, radii{h, h, h, h}, o, false)
	}
}

// fillRectAA composites c over an axis-aligned rectangle with fractional
// edges, the edge pixels weighted by coverage.
func fillRectAA(dst *image.RGBA, x0, y0, x1, y1 float64, c color.RGBA) {
	b := dst.Bounds()
	iy0, iy1 := max(int(math.Floor(y0)), b.Min.Y), min(int(math.Ceil(y1)), b.Max.Y)
	ix0, ix1 := max(int(math.Floor(x0)), b.Min.X), min(int(math.Ceil(x1)), b.Max.X)
	for y := iy0; y < iy1; y++ {
		cy := min(y1, float64(y+1)) - max(y0, float64(y))
		for x := ix0; x < ix1; x++ {
			cx := min(x1, float64(x+1)) - max(x0, float64(x))
			blendOver(dst, x, y, c, cx*cy)
		}
	}
}

// blendOver composites the premultiplied c with coverage a over one pixel.
func blendOver(dst *image.RGBA, x, y int, c color.RGBA, a float64) {
	if a <= 0 {
		return
	}
	a = min(a, 1)
	i := dst.PixOffset(x, y)
	p := dst.Pix[i : i+4 : i+4]
	ia := 1 - float64(c.A)*a/255
	p[0] = uint8(math.Round(float64(p[0])*ia + float64(c.R)*a))
	p[1] = uint8(math.Round(float64(p[1])*ia + float64(c.G)*a))
	p[2] = uint8(math.Round(float64(p[2])*ia + float64(c.B)*a))
	p[3] = uint8(math.Round(float64(p[3])*ia + float64(c.A)*a))
}

// clipCorners makes the pixels of dst outside the rounded rectangle of its
// bounds transparent (the palette's borderRadius).
func clipCorners(dst *image.RGBA, z *vector.Rasterizer, r radii) {
	if r.zero() {
		return
	}
	b := dst.Bounds()
	x0, y0, x1, y1 := float64(b.Min.X), float64(b.Min.Y), float64(b.Max.X), float64(b.Max.Y)
	topH := int(math.Ceil(max(r[0], r[1])))
	botH := int(math.Ceil(max(r[2], r[3])))
	for _, band := range []image.Rectangle{
		image.Rect(b.Min.X, b.Min.Y, b.Max.X, b.Min.Y+topH),
		image.Rect(b.Min.X, b.Max.Y-botH, b.Max.X, b.Max.Y),
	} {
		band = band.Intersect(b)
		if band.Empty() {
			continue
		}
		m := newMask(z, band, func(z *vector.Rasterizer, o image.Point) {
			addRoundedRect(z, x0, y0, x1, y1, r, o, false)
		})
		for y := band.Min.Y; y < band.Max.Y; y++ {
			mi := m.PixOffset(band.Min.X, y)
			di := dst.PixOffset(band.Min.X, y)
			for x := 0; x < band.Dx(); x++ {
				a := uint32(m.Pix[mi+x])
				if a == 0xff {
					continue
				}
				p := dst.Pix[di+4*x : di+4*x+4 : di+4*x+4]
				for j := range p {
					p[j] = uint8((uint32(p[j])*a + 127) / 255)
				}
			}
		}
	}
}
