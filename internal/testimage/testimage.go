// Package testimage makes deterministic images for tests and benchmarks of
// the renderer, its encoders and its image sources.
package testimage

import (
	"image"
	"math/rand/v2"
)

// Poster is a poster-like w×h image: a photo-like colour field with noise
// (σ≈6, which makes encoders work as hard as on a photo), a white panel at
// the bottom, dark text-like bars and a block pattern like a code. The same
// size always gives the same pixels.
func Poster(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(1, 2))
	panel := h * 3 / 4
	for y := range h {
		for x := range w {
			i := m.PixOffset(x, y)
			var r, g, b float64
			if y < panel {
				r = 90 + 120*float64(x)/float64(w)
				g = 140 - 60*float64(y)/float64(panel)
				b = 200 - 80*float64(x+y)/float64(w+h)
				n := rng.NormFloat64() * 6
				r, g, b = r+n, g+n, b+n
			} else {
				r, g, b = 255, 255, 255
			}
			// Text-like bars on the panel, a code-like block pattern at its right.
			if y > panel+40 && y < panel+80 && x > 40 && x < 400 && (x/14)%3 != 2 {
				r, g, b = 30, 30, 30
			}
			if y > panel+20 && y < panel+260 && x > w-260 && x < w-20 && ((x/10)*7+(y/10)*13)%5 < 2 {
				r, g, b = 0, 0, 0
			}
			m.Pix[i+0] = clamp8(r)
			m.Pix[i+1] = clamp8(g)
			m.Pix[i+2] = clamp8(b)
			m.Pix[i+3] = 0xff
		}
	}
	return m
}

func clamp8(v float64) uint8 { return uint8(min(max(v, 0), 255)) }
