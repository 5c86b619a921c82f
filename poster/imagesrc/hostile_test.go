package imagesrc

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"os"
	"testing"

	"github.com/wxposter/wxposter/poster/budget"
)

// Hostile images of issue 9: a 680-byte WebP and a small GIF decode to
// 16 MP each, under the 16 MP per-image limit; twenty of them in one
// palette took 34 s and 1.4 GB. The render's budget refuses them from the
// header, before a pixel is decoded.
func TestTinyFilesThatDecodeHugeAreRefusedByTheBudget(t *testing.T) {
	webp, err := os.ReadFile("testdata/white-4000x4000.webp")
	if err != nil {
		t.Fatal(err)
	}
	var g bytes.Buffer
	if err := gif.Encode(&g, image.NewPaletted(image.Rect(0, 0, 4000, 4000), color.Palette{color.White, color.Black}), nil); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"webp": webp, "gif": g.Bytes()} {
		ctx, cancel := budget.With(context.Background(), budget.New(budget.Limits{}))
		_, _, err := DecodeRGBAContext(ctx, data, 0)
		cancel()
		var be *budget.Error
		if !errors.As(err, &be) || be.Need != 16_000_000 {
			t.Errorf("%s (%d bytes): got %v, want a budget error for 16000000 pixels", name, len(data), err)
		}
	}
}

// The budget is shared: images that fit alone do not fit together.
func TestImageBudgetIsPerRender(t *testing.T) {
	var g bytes.Buffer
	if err := gif.Encode(&g, image.NewPaletted(image.Rect(0, 0, 2000, 1500), color.Palette{color.White}), nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := budget.With(context.Background(), budget.New(budget.Limits{ImagePixels: 7_000_000}))
	defer cancel()
	for i, wantOK := range []bool{true, true, false} { // 3 + 3 MP fit, the third does not
		img, _, err := DecodeRGBAContext(ctx, g.Bytes(), 0)
		if (err == nil) != wantOK {
			t.Fatalf("image %d: %v", i, err)
		}
		if img != nil && img.Bounds().Dx() != 2000 {
			t.Fatalf("image %d: %v", i, img.Bounds())
		}
	}
}

// A progressive JPEG with thousands of scans is refused before decoding
// (issue 9: 68 CPU-seconds, not cancellable).
func TestJPEGWithThousandsOfScansIsRefused(t *testing.T) {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 64, 64)), nil); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	sos := bytes.LastIndex(data, []byte{0xff, 0xda})
	scan := data[sos : len(data)-2] // the scan up to EOI
	var hostile bytes.Buffer
	hostile.Write(data[:len(data)-2])
	for range 3000 {
		hostile.Write(scan)
	}
	hostile.Write([]byte{0xff, 0xd9})
	_, _, err := DecodeRGBA(hostile.Bytes(), 0)
	if !errors.Is(err, ErrTooComplex) {
		t.Fatalf("got %v, want ErrTooComplex", err)
	}
	if _, _, err := DecodeRGBA(data, 0); err != nil {
		t.Fatalf("the ordinary JPEG: %v", err)
	}
}

// A decoder stops once its context ends.
func TestDecodeStopsWithItsContext(t *testing.T) {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 1000, 1000)), nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := DecodeRGBAContext(ctx, b.Bytes(), 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}
