package poster

import (
	"image"
	"image/color"
	"math"

	"github.com/wxposter/wxposter/poster/palette"
)

// rectF is a box in output px.
type rectF struct{ x, y, w, h float64 }

// gradientLUT has the premultiplied colours of t in [0, 1], interpolated in
// premultiplied space as CSS does.
type gradientLUT [lutSize]color.RGBA

const lutSize = 1024

// gradientTable resolves the stops for a gradient line of length glen px and builds the
// colour table.
func gradientTable(g *palette.Gradient, glen, k float64) *gradientLUT {
	n := len(g.Stops)
	pos := g.StopPositions(glen, k)
	var t gradientLUT
	pm := make([]color.RGBA, n)
	for i, s := range g.Stops {
		pm[i] = palette.Premul(s.Color)
	}
	si := 0
	for i := range t {
		x := float64(i) / (lutSize - 1)
		for si < n-1 && pos[si+1] < x {
			si++
		}
		switch {
		case x <= pos[0]:
			t[i] = pm[0]
		case x >= pos[n-1]:
			t[i] = pm[n-1]
		default:
			a, b := pos[si], pos[si+1]
			f := 0.0
			if b > a {
				f = (x - a) / (b - a)
			}
			t[i] = lerpRGBA(pm[si], pm[si+1], f)
		}
	}
	return &t
}

// render paints the gradient for box into dst over r (which dst's bounds
// contain), replacing what was there.
func renderGradient(g *palette.Gradient, dst *image.RGBA, r image.Rectangle, box rectF, k float64) {
	if g.Radial {
		renderRadial(g, dst, r, box, k)
		return
	}
	angle := g.Angle
	if g.Corner != [2]int8{} {
		// The gradient line is perpendicular to the diagonal that does not
		// touch the named corner (CSS Images 3, "magic corners").
		a := math.Atan2(box.h, box.w) * 180 / math.Pi
		switch g.Corner {
		case [2]int8{1, -1}:
			angle = a
		case [2]int8{1, 1}:
			angle = 180 - a
		case [2]int8{-1, 1}:
			angle = 180 + a
		default:
			angle = 360 - a
		}
	}
	rad := angle * math.Pi / 180
	dx, dy := math.Sin(rad), -math.Cos(rad)
	glen := math.Abs(box.w*dx) + math.Abs(box.h*dy)
	lut := gradientTable(g, glen, k)
	cx, cy := box.x+box.w/2, box.y+box.h/2
	if glen <= 0 {
		fillUniform(dst, r, lut[lutSize-1])
		return
	}
	// t = ((p - c) · d) / glen + 0.5, stepped by dx/glen per pixel.
	step := dx / glen * (lutSize - 1)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		py := float64(y) + 0.5
		t0 := (((float64(r.Min.X)+0.5-cx)*dx+(py-cy)*dy)/glen + 0.5) * (lutSize - 1)
		i := dst.PixOffset(r.Min.X, y)
		pix := dst.Pix[i : i+4*r.Dx() : i+4*r.Dx()]
		for x := 0; x < len(pix); x += 4 {
			c := lut[lutIndex(t0+step*float64(x/4))]
			pix[x], pix[x+1], pix[x+2], pix[x+3] = c.R, c.G, c.B, c.A
		}
	}
}

func lutIndex(f float64) int {
	switch {
	case f <= 0:
		return 0
	case f >= lutSize-1:
		return lutSize - 1
	}
	return int(f + 0.5)
}

func renderRadial(g *palette.Gradient, dst *image.RGBA, r image.Rectangle, box rectF, k float64) {
	cx, cy := box.x+box.w*g.AtX, box.y+box.h*g.AtY
	var rx, ry float64
	if g.Painter {
		// Painter (lib/gradient.js): createRadialGradient about the box
		// centre, radius half the longer side.
		cx, cy = box.x+box.w/2, box.y+box.h/2
		rx = max(box.w, box.h) / 2
		ry = rx
	} else {
		// Distances from the centre to the sides.
		l, rt := math.Abs(cx-box.x), math.Abs(box.x+box.w-cx)
		t, b := math.Abs(cy-box.y), math.Abs(box.y+box.h-cy)
		rx, ry = radialRadii(g, l, rt, t, b)
	}
	lut := gradientTable(g, rx, k)
	if rx <= 0 || ry <= 0 {
		fillUniform(dst, r, lut[lutSize-1])
		return
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		fy := (float64(y) + 0.5 - cy) / ry
		fy2 := fy * fy
		i := dst.PixOffset(r.Min.X, y)
		pix := dst.Pix[i : i+4*r.Dx() : i+4*r.Dx()]
		for x := 0; x < len(pix); x += 4 {
			fx := (float64(r.Min.X+x/4) + 0.5 - cx) / rx
			c := lut[lutIndex(math.Sqrt(fx*fx+fy2)*(lutSize-1))]
			pix[x], pix[x+1], pix[x+2], pix[x+3] = c.R, c.G, c.B, c.A
		}
	}
}

// radialRadii are CSS's radii of an ending shape whose centre is l, rt, t
// and b from the box's sides.
func radialRadii(g *palette.Gradient, l, rt, t, b float64) (rx, ry float64) {
	switch g.Size {
	case palette.ClosestSide:
		rx, ry = min(l, rt), min(t, b)
		if g.Circle {
			rx = min(rx, ry)
			ry = rx
		}
	case palette.FarthestSide:
		rx, ry = max(l, rt), max(t, b)
		if g.Circle {
			rx = max(rx, ry)
			ry = rx
		}
	case palette.ClosestCorner, palette.FarthestCorner:
		sx, sy := min(l, rt), min(t, b)
		if g.Size == palette.FarthestCorner {
			sx, sy = max(l, rt), max(t, b)
		}
		if g.Circle {
			rx = math.Hypot(sx, sy)
			ry = rx
		} else {
			// The ellipse keeps the side ratio and passes through the corner.
			rx, ry = sx*math.Sqrt2, sy*math.Sqrt2
		}
	}
	return rx, ry
}

// fillUniform sets every pixel of r to c.
func fillUniform(dst *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(dst.Bounds())
	if r.Empty() {
		return
	}
	i := dst.PixOffset(r.Min.X, r.Min.Y)
	row := dst.Pix[i : i+4*r.Dx()]
	for x := 0; x < len(row); x += 4 {
		row[x], row[x+1], row[x+2], row[x+3] = c.R, c.G, c.B, c.A
	}
	for y := r.Min.Y + 1; y < r.Max.Y; y++ {
		j := dst.PixOffset(r.Min.X, y)
		copy(dst.Pix[j:j+len(row)], row)
	}
}
