package poster

import (
	"image"
	"image/color"
	"image/draw"
	"testing"

	xdraw "golang.org/x/image/draw"
)

// testSources are the image types decoders hand the renderer, with some
// transparency where the type has alpha.
func testSources(w, h int) map[string]image.Image {
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	nrgba := image.NewNRGBA(image.Rect(0, 0, w, h))
	pal := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.Transparent, color.Black, color.RGBA{200, 30, 30, 255}, color.NRGBA{0, 0, 255, 128}})
	ycc := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := range h {
		for x := range w {
			c := color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x ^ y) & 0xff), uint8(128 + (x+y)%128)}
			nrgba.SetNRGBA(x, y, c)
			rgba.Set(x, y, c)
			pal.SetColorIndex(x, y, uint8((x/7+y/5)%4))
			yy, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
			ycc.Y[ycc.YOffset(x, y)] = yy
			ycc.Cb[ycc.COffset(x, y)], ycc.Cr[ycc.COffset(x, y)] = cb, cr
		}
	}
	return map[string]image.Image{"rgba": rgba, "nrgba": nrgba, "paletted": pal, "ycbcr": ycc}
}

func maxDelta(a, b *image.RGBA) int {
	d := 0
	for i := range a.Pix {
		v := int(a.Pix[i]) - int(b.Pix[i])
		d = max(d, v, -v)
	}
	return d
}

// canvas is a mid-grey opaque canvas.
func canvas() *image.RGBA {
	c := image.NewRGBA(image.Rect(0, 0, 500, 500))
	draw.Draw(c, c.Rect, image.NewUniform(color.RGBA{120, 130, 140, 255}), image.Point{}, draw.Src)
	return c
}

// TestPreparedDrawsLikeDirectScaling: drawing through the prepared cache
// gives what scaling straight onto the canvas gave, to rounding: the
// source is premultiplied to 8 bits before scaling rather than after
// (3/255 at most, for translucent non-premultiplied sources; the golden
// tolerance is 8).
func TestPreparedDrawsLikeDirectScaling(t *testing.T) {
	for name, src := range testSources(430, 430) {
		for _, size := range []int{430, 300, 200, 100} {
			got, want := canvas(), canvas()
			dr := image.Rect(20, 30, 20+size, 30+size)
			drawContain(got, dr, src, xdraw.ApproxBiLinear)
			if size == 430 {
				draw.Draw(want, dr, src, image.Point{}, draw.Over)
			} else {
				xdraw.ApproxBiLinear.Scale(want, dr, src, src.Bounds(), draw.Over, nil)
			}
			if d := maxDelta(got, want); d > 3 {
				t.Errorf("%s at %d px: differs by %d from drawing directly", name, size, d)
			}
			// Again, from the cache: the same pixels.
			again := canvas()
			drawContain(again, dr, src, xdraw.ApproxBiLinear)
			if d := maxDelta(again, got); d != 0 {
				t.Errorf("%s at %d px: the cached draw differs by %d", name, size, d)
			}
		}
		got, want := canvas(), canvas()
		mask := circleMask(132)
		drawCircleImage(got, image.Pt(10, 10), src, mask, xdraw.CatmullRom)
		tmp := image.NewRGBA(image.Rect(0, 0, 132, 132))
		draw.Draw(tmp, tmp.Rect, image.White, image.Point{}, draw.Src)
		xdraw.CatmullRom.Scale(tmp, tmp.Rect, src, src.Bounds(), draw.Over, nil)
		draw.DrawMask(want, tmp.Rect.Add(image.Pt(10, 10)), tmp, image.Point{}, mask, image.Point{}, draw.Over)
		if d := maxDelta(got, want); d > 3 {
			t.Errorf("%s as a circle: differs by %d", name, d)
		}
	}
}

func TestPreparedIsReusedPerSourceAndSize(t *testing.T) {
	srcs := testSources(64, 64)
	a, b := srcs["paletted"], srcs["ycbcr"]
	p1 := prepared(a, a.Bounds(), image.Pt(32, 32), prepApproxBiLinear)
	if p2 := prepared(a, a.Bounds(), image.Pt(32, 32), prepApproxBiLinear); p2.img != p1.img {
		t.Error("the same source at the same size was prepared twice")
	}
	if p3 := prepared(a, a.Bounds(), image.Pt(40, 40), prepApproxBiLinear); p3.img == p1.img {
		t.Error("another size came from the cache")
	}
	if p4 := prepared(b, b.Bounds(), image.Pt(32, 32), prepApproxBiLinear); p4.img == p1.img {
		t.Error("another source of the same size came from the cache")
	}
	// An image of a type without identity is prepared every time, correctly.
	type other struct{ image.Image }
	if p := prepared(other{a}, a.Bounds(), image.Pt(32, 32), prepApproxBiLinear); maxDelta(p.img, p1.img) != 0 {
		t.Error("an image without identity was prepared differently")
	}
}

func TestPreparedCacheIsBoundedInBytes(t *testing.T) {
	c := newPrepared(64 << 10) // 64 KiB: four 64×64 images
	for i := range 10 {
		src := image.NewRGBA(image.Rect(0, 0, 100+i, 100))
		c.add(prepKey{src: src, size: image.Pt(64, 64)}, prepare(src, src.Rect, image.Pt(64, 64), prepApproxBiLinear))
	}
	if n, size := c.stats(); size > 64<<10 || n != 4 {
		t.Errorf("cache holds %d images, %d bytes; want 4 within 64 KiB", n, size)
	}
	big := image.NewRGBA(image.Rect(0, 0, 200, 200))
	c.add(prepKey{src: big, size: image.Pt(200, 200)}, prepare(big, big.Rect, image.Pt(200, 200), prepAsIs))
	if _, size := c.stats(); size > 64<<10 {
		t.Errorf("an image over a quarter of the bound was cached (%d bytes)", size)
	}
}

// TestPreparedSharedCodeDrawsOnce: posters sharing one code image (a
// campaign) scale it once; the renders are the same.
func TestPreparedSharedCodeDrawsOnce(t *testing.T) {
	saved := prepCache
	prepCache = newPrepared(DefaultScaleCacheBytes)
	t.Cleanup(func() { prepCache = saved })
	code := testSources(430, 430)["paletted"]
	dr := image.Rect(0, 0, 240, 240)
	var first *image.RGBA
	for i := range 5 {
		c := canvas()
		drawContain(c, dr, code, xdraw.ApproxBiLinear)
		if i == 0 {
			first = c
		} else if maxDelta(c, first) != 0 {
			t.Fatal("renders of the same code differ")
		}
	}
	if n, _ := prepCache.stats(); n != 1 {
		t.Errorf("prepared images for one code drawn 5 times = %d, want 1", n)
	}
}
