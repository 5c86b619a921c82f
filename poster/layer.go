package poster

import (
	"context"
	"image"
	"image/draw"
	"math"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/math/f64"

	"github.com/wxposter/wxposter/poster/palette"
)

// withShadow returns layer with a drop shadow beneath it: the silhouette of
// everything the view painted (CSS filter: drop-shadow), offset, blurred with
// a Gaussian of σ = blur/2 (the canvas and CSS convention) and tinted.
func withShadow(ctx context.Context, layer *image.RGBA, s *resolvedShadow) (*image.RGBA, error) {
	b := layer.Bounds()
	w, h := b.Dx(), b.Dy()
	dx, dy := int(math.Round(s.dx)), int(math.Round(s.dy))
	a := make([]uint8, w*h)
	for y := max(0, dy); y < min(h, h+dy); y++ {
		si := (y-dy)*layer.Stride + 3
		for x := max(0, dx); x < min(w, w+dx); x++ {
			a[y*w+x] = layer.Pix[si+4*(x-dx)]
		}
	}
	if err := gaussianBlur(ctx, a, w, h, s.blur/2); err != nil {
		return nil, err
	}
	out := image.NewRGBA(b)
	c := palette.Premul(s.color)
	for i, v := range a {
		if v == 0 {
			continue
		}
		m := uint32(v)
		p := out.Pix[4*i : 4*i+4 : 4*i+4]
		p[0] = uint8((uint32(c.R)*m + 127) / 255)
		p[1] = uint8((uint32(c.G)*m + 127) / 255)
		p[2] = uint8((uint32(c.B)*m + 127) / 255)
		p[3] = uint8((uint32(c.A)*m + 127) / 255)
	}
	draw.Draw(out, b, layer, b.Min, draw.Over)
	return out, nil
}

// gaussianBlur approximates a Gaussian blur of an alpha plane with three box
// blurs; outside the plane counts as transparent.
// It stops with ctx's error once ctx is done (checked every few lines).
func gaussianBlur(ctx context.Context, a []uint8, w, h int, sigma float64) error {
	if sigma < 0.3 || w == 0 || h == 0 {
		return nil
	}
	tmp := make([]uint8, len(a))
	for _, size := range boxSizes(sigma, 3) {
		r := (size - 1) / 2
		if err := boxBlur(ctx, a, tmp, h, w, r, 1, w); err != nil { // rows
			return err
		}
		if err := boxBlur(ctx, tmp, a, w, h, r, w, 1); err != nil { // columns
			return err
		}
	}
	return nil
}

// boxSizes returns n odd box widths whose successive box blurs approximate a
// Gaussian of sigma (Kovesi's method).
func boxSizes(sigma float64, n int) []int {
	ideal := math.Sqrt(12*sigma*sigma/float64(n) + 1)
	wl := int(math.Floor(ideal))
	if wl%2 == 0 {
		wl--
	}
	wu := wl + 2
	m := int(math.Round((12*sigma*sigma - float64(n*wl*wl) - 4*float64(n*wl) - 3*float64(n)) / float64(-4*wl-4)))
	out := make([]int, n)
	for i := range out {
		out[i] = wu
		if i < m {
			out[i] = wl
		}
	}
	return out
}

// boxBlur averages each run of the plane over a window of 2r+1 samples.
// The plane has lines lines of n samples; step is the distance between
// samples of a line, stride between lines.
func boxBlur(ctx context.Context, src, dst []uint8, lines, n, r, step, stride int) error {
	win := 2*r + 1
	for l := range lines {
		if l%64 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		base := l * stride
		sum := 0
		for i := 0; i < min(r, n); i++ {
			sum += int(src[base+i*step])
		}
		for i := range n {
			if j := i + r; j < n {
				sum += int(src[base+j*step])
			}
			if j := i - r - 1; j >= 0 {
				sum -= int(src[base+j*step])
			}
			dst[base+i*step] = uint8((sum + win/2) / win)
		}
	}
	return nil
}

// rotatedBounds is the bounding box of r rotated by deg degrees (clockwise)
// about (cx, cy).
func rotatedBounds(r image.Rectangle, cx, cy, deg float64) image.Rectangle {
	s, c := math.Sincos(deg * math.Pi / 180)
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	for _, p := range []image.Point{r.Min, {r.Max.X, r.Min.Y}, r.Max, {r.Min.X, r.Max.Y}} {
		x, y := float64(p.X)-cx, float64(p.Y)-cy
		rx, ry := cx+x*c-y*s, cy+x*s+y*c
		minX, maxX = min(minX, rx), max(maxX, rx)
		minY, maxY = min(minY, ry), max(maxY, ry)
	}
	clampI := func(v float64) int { return int(min(max(v, -4*palette.MaxViewSidePx), 4*palette.MaxViewSidePx)) }
	return image.Rect(clampI(math.Floor(minX)), clampI(math.Floor(minY)), clampI(math.Ceil(maxX)), clampI(math.Ceil(maxY)))
}

// drawRotated composites layer onto dst rotated by deg degrees clockwise
// about (cx, cy). The layer has a transparent margin, so bilinear sampling
// anti-aliases its edges.
func drawRotated(dst *image.RGBA, layer *image.RGBA, cx, cy, deg float64) {
	s, c := math.Sincos(deg * math.Pi / 180)
	m := f64.Aff3{
		c, -s, cx - c*cx + s*cy,
		s, c, cy - s*cx - c*cy,
	}
	xdraw.BiLinear.Transform(dst, m, layer, layer.Bounds(), draw.Over, nil)
}
