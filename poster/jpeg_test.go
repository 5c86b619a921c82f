package poster

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"strings"
	"testing"
	"time"

	"github.com/wxposter/wxposter/internal/testimage"
)

// meanAbsDiff is the mean absolute difference of the RGB channels of a and
// b over a's bounds (b is read at the same offsets from its own origin).
func meanAbsDiff(a, b image.Image) float64 {
	ab, bb := a.Bounds(), b.Bounds()
	var sum, n float64
	for y := ab.Min.Y; y < ab.Max.Y; y++ {
		for x := ab.Min.X; x < ab.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x-ab.Min.X+bb.Min.X, y-ab.Min.Y+bb.Min.Y).RGBA()
			sum += absDiff(r1, r2) + absDiff(g1, g2) + absDiff(b1, b2)
			n += 3
		}
	}
	return sum / n / 257
}

func absDiff(a, b uint32) float64 {
	if a > b {
		return float64(a - b)
	}
	return float64(b - a)
}

func decodeJPEGForTest(t *testing.T, data []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode the encoded JPEG: %v", err)
	}
	return img
}

// TestJPEGEncoders: every encoder of this build round-trips a poster within
// tolerance, and the two encoders agree on size to within a third.
func TestJPEGEncoders(t *testing.T) {
	src := testimage.Poster(750, 1334)
	sizes := map[string]int{}
	for _, e := range jpegEncoders {
		t.Run(e.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := e.encode(&buf, src, 85); err != nil {
				t.Fatal(err)
			}
			sizes[e.name] = buf.Len()
			got := decodeJPEGForTest(t, buf.Bytes())
			if got.Bounds() != src.Bounds() {
				t.Fatalf("bounds = %v, want %v", got.Bounds(), src.Bounds())
			}
			if d := meanAbsDiff(src, got); d > 4 {
				t.Errorf("mean abs difference %.2f > 4", d)
			}
			t.Logf("%s: %d KiB", e.name, buf.Len()>>10)
		})
	}
	if a, b := sizes["libjpeg-turbo"], sizes["stdlib"]; a > 0 && b > 0 && (a*3 < b*2 || b*3 < a*2) {
		t.Errorf("sizes differ too much: libjpeg-turbo %d, stdlib %d", a, b)
	}
}

func TestJPEGEncoderName(t *testing.T) {
	if JPEGEncoder != jpegEncoders[0].name {
		t.Errorf("JPEGEncoder = %q, but the first encoder is %q", JPEGEncoder, jpegEncoders[0].name)
	}
	t.Logf("EncodeJPEG uses %s", JPEGEncoder)
}

func TestEncodeJPEGQuality(t *testing.T) {
	src := testimage.Poster(200, 300)
	enc := func(q int) []byte {
		var buf bytes.Buffer
		if err := EncodeJPEG(&buf, src, q); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	low, high := enc(20), enc(95)
	if len(low) >= len(high) {
		t.Errorf("q20 is %d bytes, q95 %d: quality is not applied", len(low), len(high))
	}
	def := enc(DefaultJPEGQuality)
	for _, q := range []int{0, -5, 101} {
		if !bytes.Equal(enc(q), def) {
			t.Errorf("quality %d did not select the default %d", q, DefaultJPEGQuality)
		}
	}
	if d := meanAbsDiff(src, decodeJPEGForTest(t, high)); d > 3 {
		t.Errorf("q95 mean abs difference %.2f > 3", d)
	}
}

// TestEncodeJPEGFlattensOverWhite: JPEG has no alpha; transparent pixels
// must come out white, as on a phone's white background, not black.
func TestEncodeJPEGFlattensOverWhite(t *testing.T) {
	const w, h = 64, 32
	premul := image.NewRGBA(image.Rect(0, 0, w, h)) // left half transparent, right half 50 % red
	nrgba := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := w / 2; x < w; x++ {
			premul.SetRGBA(x, y, color.RGBA{0x80, 0, 0, 0x80})
			nrgba.SetNRGBA(x, y, color.NRGBA{0xff, 0, 0, 0x80})
		}
	}
	pal := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.Transparent, color.RGBA{0, 0, 0xff, 0xff}})
	for y := range h {
		for x := w / 2; x < w; x++ {
			pal.SetColorIndex(x, y, 1)
		}
	}
	tests := []struct {
		name        string
		img         image.Image
		left, right color.RGBA
	}{
		{"premultiplied RGBA", premul, color.RGBA{255, 255, 255, 255}, color.RGBA{255, 127, 127, 255}},
		{"NRGBA", nrgba, color.RGBA{255, 255, 255, 255}, color.RGBA{255, 127, 127, 255}},
		{"paletted", pal, color.RGBA{255, 255, 255, 255}, color.RGBA{0, 0, 255, 255}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := EncodeJPEG(&buf, tt.img, 95); err != nil {
				t.Fatal(err)
			}
			got := decodeJPEGForTest(t, buf.Bytes())
			for _, c := range []struct {
				x    int
				want color.RGBA
			}{{w / 4, tt.left}, {w * 3 / 4, tt.right}} {
				r, g, b, _ := got.At(c.x, h/2).RGBA()
				if absDiff(r>>8, uint32(c.want.R)) > 8 || absDiff(g>>8, uint32(c.want.G)) > 8 || absDiff(b>>8, uint32(c.want.B)) > 8 {
					t.Errorf("pixel (%d,%d) = %d,%d,%d, want about %v", c.x, h/2, r>>8, g>>8, b>>8, c.want)
				}
			}
		})
	}
	// The caller's image is left alone.
	if premul.Pix[0] != 0 || premul.Pix[3] != 0 {
		t.Error("EncodeJPEG modified its input")
	}
}

func TestEncodeJPEGInputs(t *testing.T) {
	full := testimage.Poster(120, 90)
	sub := full.SubImage(image.Rect(17, 11, 97, 71)).(*image.RGBA) // offset origin, stride wider than the row
	ycc := image.NewYCbCr(image.Rect(0, 0, 40, 30), image.YCbCrSubsampleRatio420)
	for i := range ycc.Y {
		ycc.Y[i] = 200
	}
	for i := range ycc.Cb {
		ycc.Cb[i], ycc.Cr[i] = 128, 128
	}
	gray := image.NewGray(image.Rect(0, 0, 33, 17)) // odd sizes
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i)
	}
	for _, tt := range []struct {
		name string
		img  image.Image
	}{{"sub-image", sub}, {"ycbcr", ycc}, {"gray", gray}, {"1x1", testimage.Poster(1, 1)}} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := EncodeJPEG(&buf, tt.img, 90); err != nil {
				t.Fatal(err)
			}
			got := decodeJPEGForTest(t, buf.Bytes())
			if got.Bounds().Size() != tt.img.Bounds().Size() {
				t.Fatalf("size = %v, want %v", got.Bounds().Size(), tt.img.Bounds().Size())
			}
			if d := meanAbsDiff(tt.img, got); d > 6 {
				t.Errorf("mean abs difference %.2f > 6", d)
			}
		})
	}
}

type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	w.n++
	return 0, errors.New("disk full")
}

func TestEncodeJPEGErrors(t *testing.T) {
	if err := EncodeJPEG(&bytes.Buffer{}, image.NewRGBA(image.Rect(0, 0, 0, 10)), 85); err == nil {
		t.Error("empty image: no error")
	}
	if err := EncodeJPEG(&bytes.Buffer{}, nil, 85); err == nil {
		t.Error("nil image: no error")
	}
	// A failing writer is an error, promptly (libjpeg itself would retry a
	// suspended destination forever).
	done := make(chan error, 1)
	go func() { done <- EncodeJPEG(&failingWriter{}, testimage.Poster(300, 300), 85) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("got %v, want the writer's error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("EncodeJPEG hangs on a failing writer")
	}
}

func TestEncodeJPEGOpaqueCheck(t *testing.T) {
	for _, w := range []int{1, 2, 3, 7, 8, 9, 16, 17} {
		m := testimage.Poster(w, 3)
		if !opaqueRGBAPix(m) {
			t.Errorf("width %d: opaque image reported transparent", w)
		}
		for x := range w {
			m := testimage.Poster(w, 3)
			m.Pix[m.PixOffset(x, 2)+3] = 0xfe
			if opaqueRGBAPix(m) {
				t.Errorf("width %d: alpha at x=%d missed", w, x)
			}
		}
	}
	// Flattening matches drawing over white.
	m := testimage.Poster(37, 5)
	for i := 3; i < len(m.Pix); i += 16 {
		a := uint8(i * 7)
		m.Pix[i-3], m.Pix[i-2], m.Pix[i-1], m.Pix[i] = a/2, a/3, a, a
	}
	want := image.NewRGBA(m.Rect)
	draw.Draw(want, want.Rect, image.White, image.Point{}, draw.Src)
	draw.Draw(want, want.Rect, m, m.Rect.Min, draw.Over)
	if got := flattenRGBA(m); !bytes.Equal(got.Pix, want.Pix) {
		t.Error("flattenRGBA differs from drawing over white")
	}
	// Pixels outside a sub-image do not count.
	m = testimage.Poster(10, 10)
	m.Pix[m.PixOffset(9, 9)+3] = 0
	if !opaqueRGBAPix(m.SubImage(image.Rect(0, 0, 9, 9)).(*image.RGBA)) {
		t.Error("a transparent pixel outside the sub-image counted")
	}
}

// BenchmarkEncodeJPEG encodes a 750×1334 poster at q85 with each encoder of
// this build (libjpeg-turbo and stdlib with cgo, stdlib alone without), and
// through EncodeJPEG (the opaque check included).
func BenchmarkEncodeJPEG(b *testing.B) {
	src := testimage.Poster(750, 1334)
	run := func(b *testing.B, enc func(*bytes.Buffer) error) {
		var buf bytes.Buffer
		b.ReportAllocs()
		for b.Loop() {
			buf.Reset()
			if err := enc(&buf); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(buf.Len())/1024, "KiB/op")
	}
	for _, e := range jpegEncoders {
		b.Run("encoder="+e.name, func(b *testing.B) {
			run(b, func(w *bytes.Buffer) error { return e.encode(w, src, 85) })
		})
	}
	b.Run("EncodeJPEG", func(b *testing.B) {
		run(b, func(w *bytes.Buffer) error { return EncodeJPEG(w, src, 85) })
	})
}

// BenchmarkEncodeJPEGTransparent is EncodeJPEG of a poster with transparent
// corners (a palette with borderRadius): flattened over white first.
func BenchmarkEncodeJPEGTransparent(b *testing.B) {
	src := testimage.Poster(750, 1334)
	for y := range 20 {
		for x := range 20 - y {
			copy(src.Pix[src.PixOffset(x, y):], []byte{0, 0, 0, 0})
		}
	}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := EncodeJPEG(&buf, src, 85); err != nil {
			b.Fatal(err)
		}
	}
}
