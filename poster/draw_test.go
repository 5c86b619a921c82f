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
