// Package golden compares rendered images with committed golden PNGs, for
// the renderer's and the example templates' tests. `go test -update`
// rewrites the goldens instead of comparing; look at them before committing.
package golden

import (
	"bytes"
	"flag"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// The tolerance: a render matches when at least MinShare of its pixels are
// within MaxDelta of the golden on every RGBA channel. It absorbs rounding
// differences across CPUs and library versions, not visible changes.
const (
	MaxDelta = 8
	MinShare = 0.995
)

var update = flag.Bool("update", false, "rewrite golden PNGs instead of comparing against them")

// Check compares img with the PNG at path, or rewrites it under -update.
// On a mismatch the render is written next to the test's temp files and the
// test fails saying how to regenerate.
func Check(t testing.TB, path string, img *image.RGBA) {
	t.Helper()
	if *update {
		var buf bytes.Buffer
		if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s: look at it before committing", path)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it, then look at it)", err)
	}
	defer f.Close()
	want, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if share, worst := Compare(img, want); share < MinShare {
		out := filepath.Join(t.TempDir(), filepath.Base(path))
		if fo, err := os.Create(out); err == nil {
			_ = png.Encode(fo, img)
			fo.Close()
		}
		t.Errorf("only %.3f%% of pixels within ±%d of %s (worst Δ %d), want ≥ %.1f%%; the render is %s (-update rewrites the golden)",
			100*share, MaxDelta, path, worst, 100*MinShare, out)
	}
}

// Compare returns the share of pixels of got within MaxDelta of want on
// every channel, and the largest difference seen.
func Compare(got *image.RGBA, want image.Image) (float64, int) {
	if got.Bounds() != want.Bounds() {
		return 0, 255
	}
	b := got.Bounds()
	ok, worst := 0, 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			g := got.RGBAAt(x, y)
			w := color.RGBAModel.Convert(want.At(x, y)).(color.RGBA)
			d := max(delta(g.R, w.R), delta(g.G, w.G), delta(g.B, w.B), delta(g.A, w.A))
			worst = max(worst, d)
			if d <= MaxDelta {
				ok++
			}
		}
	}
	return float64(ok) / float64(b.Dx()*b.Dy()), worst
}

func delta(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}
