// Package bench compares wxposter's renderer with the usual way of drawing
// posters in Go, fogleman/gg. It is a module of its own so that gg is not a
// dependency of the product. See README.md.
package bench

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/wxposter/wxposter/poster"
	"github.com/wxposter/wxposter/poster/imagesrc"
	"github.com/wxposter/wxposter/poster/palette"
)

// The reference poster: poster/testdata/palettes/reference.json with the
// data of poster's own BenchmarkRender. The nickname's emoji are drawn in
// colour by wxposter; gg cannot draw them (it draws the font's empty
// boxes), so wxposter does strictly more work.
const referencePalette = "../poster/testdata/palettes/reference.json"

const publicBase = "https://cdn.wxposter.test/bucket"

var referenceData = map[string]string{
	"nickname": "小明🌸Lily👍🏻",
	"title":    "【限时特惠】新疆阿克苏冰糖心苹果5斤装，当季现摘脆甜多汁，产地直发，坏果包赔！",
	"price":    "¥39.90",
	"avatar":   publicBase + "/posters/avatar.jpg",
	"bg":       publicBase + "/posters/background.jpg",
}

// refLayout is reference.json in output pixels (750rpx → 750 px, so 1 rpx
// = 1 px), for the gg version.
type refLayout struct {
	W, H   int
	Card   struct{ X, Y, W, H, R float64 }
	Avatar struct{ X, Y, D, Border float64 }
	Nick   textBox
	Title  textBox
	Price  textBox
	Footer textBox
	Code   struct{ X, Y, D float64 }
}

type textBox struct {
	X, Y, W, Size, LineHeight float64
	Lines                     int
	Color                     string
}

func referenceLayout() refLayout {
	var l refLayout
	l.W, l.H = 750, 1334
	l.Card.X, l.Card.Y, l.Card.W, l.Card.H, l.Card.R = 40, 420, 670, 860, 28
	l.Avatar.X, l.Avatar.Y, l.Avatar.D, l.Avatar.Border = 375-66, 130, 132, 6
	l.Nick = textBox{X: 375, Y: 130 + 132 + 24, W: 600, Size: 32, Lines: 1, Color: "#ffffff"}
	l.Title = textBox{X: 88, Y: 470, W: 574, Size: 40, LineHeight: 60, Lines: 2, Color: "#1f2329"}
	l.Price = textBox{X: 88, Y: 470 + 2*60 + 16, Size: 44, Lines: 1, Color: "#fa5151"}
	l.Footer = textBox{X: 375, Y: 1160, Size: 24, Lines: 1, Color: "#999999"}
	l.Code.X, l.Code.Y, l.Code.D = 160, 680, 430
	return l
}

// fixture is everything both renderers share, made once.
type fixture struct {
	renderer *poster.Renderer
	palette  *palette.Palette
	loader   *imagesrc.Loader
	code     image.Image // decoded as the worker decodes it
	gg       *ggPoster
}

var (
	fixtureOnce sync.Once
	theFixture  *fixture
	fixtureErr  error
)

func referenceFixture(tb testing.TB) *fixture {
	tb.Helper()
	fixtureOnce.Do(func() { theFixture, fixtureErr = newFixture() })
	if fixtureErr != nil {
		tb.Fatal(fixtureErr)
	}
	return theFixture
}

func newFixture() (*fixture, error) {
	a, err := referenceAssets()
	if err != nil {
		return nil, err
	}
	f := &fixture{}
	if f.renderer, err = poster.New(); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(referencePalette)
	if err != nil {
		return nil, err
	}
	p, err := palette.Parse(data)
	if err != nil {
		return nil, err
	}
	if f.palette, err = p.Fill(referenceData); err != nil {
		return nil, err
	}
	// The production Loader, reading "our own" objects from memory: after
	// the first poster, background and avatar come from its cache.
	objects := map[string][]byte{"posters/background.jpg": a.background, "posters/avatar.jpg": a.avatar}
	f.loader, err = imagesrc.NewLoader(imagesrc.WithOwnObjects(publicBase, func(_ context.Context, key string) ([]byte, error) {
		if d, ok := objects[key]; ok {
			return d, nil
		}
		return nil, fmt.Errorf("no object %s", key)
	}))
	if err != nil {
		return nil, err
	}
	if f.code, _, err = imagesrc.Decode(a.code, 0); err != nil {
		return nil, err
	}

	// gg gets the very same decoded images.
	ctx := context.Background()
	g := &ggPoster{code: f.code, l: referenceLayout()}
	if g.bg, err = f.loader.Load(ctx, referenceData["bg"]); err != nil {
		return nil, err
	}
	if g.avatar, err = f.loader.Load(ctx, referenceData["avatar"]); err != nil {
		return nil, err
	}
	regular, err := loadNotoSC("NotoSansCJK-Regular.ttc")
	if err != nil {
		return nil, err
	}
	bold, err := loadNotoSC("NotoSansCJK-Bold.ttc")
	if err != nil {
		return nil, err
	}
	for _, fc := range []struct {
		dst  *fontFace
		bold bool
		px   float64
	}{
		{&g.nickFace, true, 32}, {&g.titleFace, false, 40}, {&g.priceFace, true, 44}, {&g.footFace, false, 24},
	} {
		src := regular
		if fc.bold {
			src = bold
		}
		if *fc.dst, err = newFace(src, fc.px); err != nil {
			return nil, err
		}
	}
	f.gg = g
	return f, nil
}

func (f *fixture) renderWxposter(ctx context.Context) (*image.RGBA, error) {
	return f.renderer.RenderPalette(ctx, f.palette, poster.PaletteInput{Code: f.code, Images: f.loader})
}

func (f *fixture) renderGG() *image.RGBA {
	return f.gg.render(referenceData["nickname"], referenceData["title"], referenceData["price"], "长按识别小程序码")
}

// BenchmarkRenderWxposter is the reference poster through wxposter's
// palette renderer, to an *image.RGBA.
func BenchmarkRenderWxposter(b *testing.B) {
	f := referenceFixture(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.renderWxposter(ctx); err != nil {
			b.Fatal(err)
		}
	}
	reportMs(b)
}

// BenchmarkRenderGG is the same poster drawn with fogleman/gg, to an
// *image.RGBA.
func BenchmarkRenderGG(b *testing.B) {
	f := referenceFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		f.renderGG()
	}
	reportMs(b)
}

// BenchmarkRenderWxposterJPEG adds EncodeJPEG at q85 (libjpeg-turbo with
// cgo, the standard library without).
func BenchmarkRenderWxposterJPEG(b *testing.B) {
	f := referenceFixture(b)
	ctx := context.Background()
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		img, err := f.renderWxposter(ctx)
		if err != nil {
			b.Fatal(err)
		}
		buf.Reset()
		if err := poster.EncodeJPEG(&buf, img, 85); err != nil {
			b.Fatal(err)
		}
	}
	reportMs(b)
	b.ReportMetric(float64(buf.Len())/1024, "KiB")
}

// BenchmarkRenderGGJPEG adds the standard library's JPEG encoder at q85,
// what gg-based services use.
func BenchmarkRenderGGJPEG(b *testing.B) {
	f := referenceFixture(b)
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		img := f.renderGG()
		buf.Reset()
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
			b.Fatal(err)
		}
	}
	reportMs(b)
	b.ReportMetric(float64(buf.Len())/1024, "KiB")
}

func reportMs(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/poster")
}

// TestReferencePosters renders both versions once and checks they are whole
// posters. With BENCH_OUT=dir it writes them as PNGs, to compare by eye.
func TestReferencePosters(t *testing.T) {
	f := referenceFixture(t)
	wx, err := f.renderWxposter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	gg := f.renderGG()
	t.Logf("JPEG encoder: %s", poster.JPEGEncoder)
	for name, img := range map[string]*image.RGBA{"wxposter": wx, "gg": gg} {
		if img.Bounds() != image.Rect(0, 0, 750, 1334) {
			t.Errorf("%s: bounds %v", name, img.Bounds())
		}
		// The white card and the dark code modules are there.
		if c := img.RGBAAt(60, 1250); c.R < 0xf0 || c.G < 0xf0 || c.B < 0xf0 {
			t.Errorf("%s: card pixel %v is not white", name, c)
		}
		dark := 0
		for y := 700; y < 1090; y++ {
			for x := 180; x < 570; x++ {
				if img.RGBAAt(x, y).R < 0x40 {
					dark++
				}
			}
		}
		if dark < 20000 {
			t.Errorf("%s: only %d dark pixels where the code is", name, dark)
		}
		if dir := os.Getenv("BENCH_OUT"); dir != "" {
			var buf bytes.Buffer
			if err := png.Encode(&buf, img); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "reference-"+name+".png"), buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
