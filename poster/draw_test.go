package poster

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"testing"
)

func TestDrawPalettedOverMatchesImageDraw(t *testing.T) {
	pal := color.Palette{
		color.RGBA{0, 0, 0, 0xff},
		color.RGBA{0, 0, 0, 0},          // transparent
		color.RGBA{0x40, 0x20, 0, 0x80}, // half-transparent, premultiplied
		color.White,
	}
	src := image.NewPaletted(image.Rect(3, 5, 40, 30), pal)
	for i := range src.Pix {
		src.Pix[i] = uint8(i*7) % uint8(len(pal))
	}
	newDst := func() *image.RGBA {
		d := image.NewRGBA(image.Rect(0, 0, 50, 40))
		for i := range d.Pix {
			d.Pix[i] = uint8(i * 13)
		}
		return d
	}
	for _, at := range []image.Point{{5, 5}, {-10, -4}, {30, 20}} {
		r := image.Rectangle{at, at.Add(src.Bounds().Size())}
		want, got := newDst(), newDst()
		draw.Draw(want, r, src, src.Bounds().Min, draw.Over)
		drawPalettedOver(got, r, src)
		if !bytes.Equal(got.Pix, want.Pix) {
			t.Errorf("at %v: drawPalettedOver differs from draw.Draw Over", at)
		}
	}
}

func TestFitRect(t *testing.T) {
	box := image.Rect(100, 200, 530, 630)
	tests := []struct {
		src  image.Rectangle
		want image.Rectangle
	}{
		{image.Rect(0, 0, 430, 430), box},
		{image.Rect(0, 0, 1280, 1280), box},
		{image.Rect(0, 0, 860, 430), image.Rect(100, 307, 530, 522)},
		{image.Rect(0, 0, 200, 400), image.Rect(207, 200, 422, 630)},
	}
	for _, tt := range tests {
		if got := fitRect(box, tt.src); got != tt.want {
			t.Errorf("fitRect(%v) = %v, want %v", tt.src, got, tt.want)
		}
	}
}

func TestCenterCrop(t *testing.T) {
	tests := []struct {
		b, want image.Rectangle
	}{
		{image.Rect(0, 0, 640, 480), image.Rect(80, 0, 560, 480)},
		{image.Rect(0, 0, 480, 640), image.Rect(0, 80, 480, 560)},
		{image.Rect(10, 10, 142, 142), image.Rect(10, 10, 142, 142)},
	}
	for _, tt := range tests {
		if got := centerCrop(tt.b, 1, 1); got != tt.want {
			t.Errorf("centerCrop(%v) = %v, want %v", tt.b, got, tt.want)
		}
	}
}

// The 8-bit compositing paths must match image/draw's 16-bit ones within
// rounding.
func TestMaskOverMatchesImageDraw(t *testing.T) {
	mask := image.NewAlpha(image.Rect(0, 0, 37, 23))
	for i := range mask.Pix {
		mask.Pix[i] = uint8(i * 29)
	}
	mask.Pix[0], mask.Pix[1] = 0, 0xff
	src := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for i := 0; i < len(src.Pix); i += 4 {
		a := uint8(i * 7)
		if i%12 == 0 {
			a = 0xff
		}
		src.Pix[i], src.Pix[i+1], src.Pix[i+2], src.Pix[i+3] = a/2, a/3, a, a // premultiplied
	}
	newDst := func() *image.RGBA {
		d := image.NewRGBA(image.Rect(0, 0, 50, 40))
		for i := range d.Pix {
			d.Pix[i] = uint8(i * 13)
		}
		for i := 3; i < len(d.Pix); i += 4 {
			d.Pix[i-1], d.Pix[i-2], d.Pix[i-3] = min(d.Pix[i-1], d.Pix[i]), min(d.Pix[i-2], d.Pix[i]), min(d.Pix[i-3], d.Pix[i])
		}
		return d
	}
	close := func(a, b *image.RGBA) bool {
		for i := range a.Pix {
			if d := int(a.Pix[i]) - int(b.Pix[i]); d < -1 || d > 1 {
				return false
			}
		}
		return true
	}
	for _, at := range []image.Point{{5, 5}, {-10, -4}, {30, 20}} {
		r := image.Rectangle{at, at.Add(mask.Rect.Size())}
		for _, c := range []color.RGBA{{0x10, 0x80, 0xf0, 0xff}, {0x20, 0x10, 0x00, 0x80}} {
			want, got := newDst(), newDst()
			draw.DrawMask(want, r, image.NewUniform(c), image.Point{}, mask, image.Point{}, draw.Over)
			drawMaskOver(got, r, mask, image.Point{}, c)
			if !close(got, want) {
				t.Errorf("drawMaskOver at %v, %v: differs from draw.DrawMask by more than 1", at, c)
			}
		}
		want, got := newDst(), newDst()
		draw.DrawMask(want, r, src, image.Pt(2, 3), mask, image.Point{}, draw.Over)
		drawRGBAMaskOver(got, r, src, image.Pt(2, 3), mask, image.Point{})
		if !close(got, want) {
			t.Errorf("drawRGBAMaskOver at %v: differs from draw.DrawMask by more than 1", at)
		}
	}
}

func TestHalve(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 5, 4))
	for i := range src.Pix {
		src.Pix[i] = uint8(i)
	}
	h := halve(src)
	if h.Rect != image.Rect(0, 0, 2, 2) {
		t.Fatalf("halve of 5×4 is %v", h.Rect)
	}
	// Pixel (1,1) averages source pixels (2,2), (3,2), (2,3), (3,3), channel 0.
	want := (uint32(src.Pix[src.PixOffset(2, 2)]) + uint32(src.Pix[src.PixOffset(3, 2)]) +
		uint32(src.Pix[src.PixOffset(2, 3)]) + uint32(src.Pix[src.PixOffset(3, 3)]) + 2) / 4
	if got := h.Pix[h.PixOffset(1, 1)]; uint32(got) != want {
		t.Errorf("halve (1,1) = %d, want %d", got, want)
	}
}

func TestToRGBAPaletted(t *testing.T) {
	pal := color.Palette{color.Black, color.RGBA{0x40, 0x20, 0, 0x80}, color.White}
	src := image.NewPaletted(image.Rect(2, 3, 12, 9), pal)
	for i := range src.Pix {
		src.Pix[i] = uint8(i % 3)
	}
	sr := image.Rect(4, 4, 11, 9)
	want := image.NewRGBA(sr)
	draw.Draw(want, sr, src, sr.Min, draw.Src)
	if got := toRGBA(src, sr); !bytes.Equal(got.Pix, want.Pix) || got.Rect != sr {
		t.Error("toRGBA of a paletted image differs from draw.Draw")
	}
}
