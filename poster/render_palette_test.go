package poster

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/wxposter/wxposter/poster/palette"
)

// BenchmarkRender renders the reference poster (testdata/palettes/reference.json):
// 750×1334 on a decoded photo background, a 430 px code, a 132 px circle
// avatar, an emoji nickname, a 2-line title and a price. Images come from a
// loader that returns the same decoded image each time, as a cache would.
func BenchmarkRender(b *testing.B) {
	r := newTestRenderer(b)
	data, err := os.ReadFile("testdata/palettes/reference.json")
	if err != nil {
		b.Fatal(err)
	}
	p, err := palette.Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	if p, err = p.Fill(goldenData); err != nil {
		b.Fatal(err)
	}
	in := PaletteInput{Code: testCode(b), Images: sharedTestImages}
	ctx := context.Background()
	if _, err := r.RenderPalette(ctx, p, in); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.RenderPalette(ctx, p, in); err != nil {
			b.Fatal(err)
		}
	}
}

func renderJSON(t *testing.T, js string, in PaletteInput) (*image.RGBA, error) {
	t.Helper()
	p, err := palette.Parse([]byte(js))
	if err != nil {
		t.Fatalf("palette.Parse: %v", err)
	}
	return newTestRenderer(t).RenderPalette(context.Background(), p, in)
}

func mustRender(t *testing.T, js string) *image.RGBA {
	t.Helper()
	img, err := renderJSON(t, js, PaletteInput{Code: testCode(t), Images: sharedTestImages})
	if err != nil {
		t.Fatalf("RenderPalette: %v", err)
	}
	return img
}

func isRed(c color.RGBA) bool  { return c.R > 190 && c.B < 65 && c.A == 0xff }
func isBlue(c color.RGBA) bool { return c.B > 190 && c.R < 65 && c.A == 0xff }

func TestLinearGradientFollowsCSS(t *testing.T) {
	// Points on a 100×100 px canvas; the first stop (red) must be at "from",
	// the last (blue) at "to", as in a browser. Painter's angles point the
	// other way.
	left, right, top, bottom := image.Pt(3, 50), image.Pt(96, 50), image.Pt(50, 3), image.Pt(50, 96)
	tl, tr, bl, br := image.Pt(3, 3), image.Pt(96, 3), image.Pt(3, 96), image.Pt(96, 96)
	tests := []struct {
		dir      string
		from, to image.Point
	}{
		{"90deg", left, right},
		{"to right", left, right},
		{"100grad", left, right},
		{"0.25turn", left, right},
		{"-90deg", right, left},
		{"270deg", right, left},
		{"to left", right, left},
		{"0deg", bottom, top},
		{"to top", bottom, top},
		{"180deg", top, bottom},
		{"to bottom", top, bottom},
		{"3.14159265rad", top, bottom},
		{"45deg", bl, tr},
		{"to top right", bl, tr},
		{"135deg", tl, br},
		{"to bottom right", tl, br},
		{"to bottom left", tr, bl},
		{"-45deg", br, tl},
	}
	for _, tt := range tests {
		img := mustRender(t, `{"compat":"css","width":"100rpx","height":"100rpx","views":[{"type":"rect","css":{"width":"100rpx","height":"100rpx","color":"linear-gradient(`+tt.dir+`, red, blue)"}}]}`)
		if c := img.RGBAAt(tt.from.X, tt.from.Y); !isRed(c) {
			t.Errorf("%s: %v is %v, want the first stop (red)", tt.dir, tt.from, c)
		}
		if c := img.RGBAAt(tt.to.X, tt.to.Y); !isBlue(c) {
			t.Errorf("%s: %v is %v, want the last stop (blue)", tt.dir, tt.to, c)
		}
	}
	// No direction: to bottom.
	img := mustRender(t, `{"width":"100rpx","height":"100rpx","background":"linear-gradient(red, blue)"}`)
	if !isRed(img.RGBAAt(50, 2)) || !isBlue(img.RGBAAt(50, 97)) {
		t.Error("default direction is not to bottom")
	}
}

func TestGradientStops(t *testing.T) {
	img := mustRender(t, `{"compat":"css","width":"100rpx","height":"100rpx","views":[
		{"type":"rect","css":{"width":"100rpx","height":"50rpx","color":"linear-gradient(90deg, red 50%, blue 50%)"}},
		{"type":"rect","css":{"top":"50rpx","width":"100rpx","height":"50rpx","color":"linear-gradient(90deg, red, lime, blue)"}}]}`)
	if !isRed(img.RGBAAt(48, 25)) || !isBlue(img.RGBAAt(52, 25)) {
		t.Errorf("hard stop at 50%%: %v | %v", img.RGBAAt(48, 25), img.RGBAAt(52, 25))
	}
	if c := img.RGBAAt(50, 75); c.G < 240 || c.R > 15 || c.B > 15 {
		t.Errorf("middle stop of three is at 50%%: got %v, want lime", c)
	}
	// Radial: CSS's farthest-corner, centred: red in the middle, blue at the corners.
	img = mustRender(t, `{"compat":"css","width":"100rpx","height":"100rpx","background":"radial-gradient(red, blue)"}`)
	if !isRed(img.RGBAAt(50, 50)) || !isBlue(img.RGBAAt(0, 0)) {
		t.Errorf("radial: centre %v, corner %v", img.RGBAAt(50, 50), img.RGBAAt(0, 0))
	}
	if c := img.RGBAAt(99, 50); isBlue(c) || isRed(c) {
		t.Errorf("radial: side middle %v should be between the stops (the circle reaches the corners)", c)
	}
}

func TestBorderRadius(t *testing.T) {
	rect := func(css string) *image.RGBA {
		return mustRender(t, `{"width":"100rpx","height":"100rpx","views":[{"type":"rect","css":{"width":"100rpx","height":"100rpx","color":"#000",`+css+`}}]}`)
	}
	opaque := func(img *image.RGBA, x, y int) bool { return img.RGBAAt(x, y).A == 0xff }
	clear := func(img *image.RGBA, x, y int) bool { return img.RGBAAt(x, y).A == 0 }

	img := rect(`"borderRadius":"50%"`)
	if !clear(img, 2, 2) || !clear(img, 97, 97) || !opaque(img, 50, 50) || !opaque(img, 50, 1) {
		t.Error("50%: not a circle")
	}
	img = rect(`"borderRadius":"500rpx"`) // clamped to half the side: a circle again
	if !clear(img, 2, 2) || !opaque(img, 1, 50) {
		t.Error("a radius beyond half the side is not clamped")
	}
	img = rect(`"borderRadius":"40rpx 0 20rpx 0"`)
	switch {
	case !clear(img, 2, 2): // top-left: 40
		t.Error("4 values: top-left not rounded")
	case !opaque(img, 99, 0), !opaque(img, 0, 99): // top-right and bottom-left: square
		t.Error("4 values: square corners cut")
	case !clear(img, 98, 98) || !opaque(img, 93, 93): // bottom-right: 20
		t.Error("4 values: bottom-right radius wrong")
	}
	// The palette's own borderRadius clips the whole canvas.
	img = mustRender(t, `{"width":"100rpx","height":"100rpx","background":"#fff","borderRadius":"20rpx"}`)
	if !clear(img, 0, 0) || !clear(img, 99, 99) || !opaque(img, 50, 0) || !opaque(img, 10, 10) {
		t.Error("palette borderRadius does not clip the canvas corners")
	}
}

func TestBorders(t *testing.T) {
	border := func(style string) *image.RGBA {
		return mustRender(t, `{"compat":"css","width":"200rpx","height":"200rpx","views":[{"type":"rect","css":{"left":"40rpx","top":"40rpx","width":"120rpx","height":"120rpx","borderWidth":"8rpx","borderColor":"#000","borderStyle":"`+style+`"}}]}`)
	}
	// Along the middle of the top border (y = 36), from corner to corner.
	scan := func(img *image.RGBA) (ink, runs int) {
		prev := false
		for x := 40; x < 160; x++ {
			on := img.RGBAAt(x, 36).A > 0x80
			if on {
				ink++
			}
			if on && !prev {
				runs++
			}
			prev = on
		}
		return ink, runs
	}
	solid := border("solid")
	if ink, runs := scan(solid); ink != 120 || runs != 1 {
		t.Errorf("solid: %d px of ink in %d runs, want 120 in 1", ink, runs)
	}
	// The border is outside the box: the box itself stays empty, the ring is
	// bw wide outside it.
	if solid.RGBAAt(45, 100).A != 0 || solid.RGBAAt(36, 100).A != 0xff || solid.RGBAAt(31, 100).A != 0 {
		t.Errorf("solid border not stroked outside the box: inside %v, ring %v, outside %v",
			solid.RGBAAt(45, 100), solid.RGBAAt(36, 100), solid.RGBAAt(31, 100))
	}
	if ink, runs := scan(border("dashed")); runs < 6 || ink < 40 || ink > 80 {
		t.Errorf("dashed: %d px of ink in %d runs; want about half in many dashes", ink, runs)
	}
	if ink, runs := scan(border("dotted")); runs < 6 || ink > 80 {
		t.Errorf("dotted: %d px of ink in %d runs; want dots", ink, runs)
	}
}

func TestRotate(t *testing.T) {
	// A 100×20 bar centred on (100, 100), rotated about its centre.
	bar := func(rot string) *image.RGBA {
		return mustRender(t, `{"width":"200rpx","height":"200rpx","views":[{"type":"rect","css":{"left":"50rpx","top":"90rpx","width":"100rpx","height":"20rpx","color":"#000","rotate":`+rot+`}}]}`)
	}
	ink := func(img *image.RGBA, x, y int) bool { return img.RGBAAt(x, y).A > 0xc0 }
	img := bar("0")
	if !ink(img, 60, 100) || ink(img, 100, 60) {
		t.Error("unrotated bar is not horizontal")
	}
	img = bar("90")
	if ink(img, 60, 100) || !ink(img, 100, 60) || !ink(img, 100, 140) {
		t.Error("rotate 90: bar is not vertical")
	}
	// Clockwise: the right end of the bar goes down.
	img = bar("30")
	if !ink(img, 140, 123) || ink(img, 140, 77) {
		t.Error("rotate 30: not clockwise about the centre")
	}
	img = bar("-30")
	if !ink(img, 140, 77) || ink(img, 140, 123) {
		t.Error("rotate -30: not counter-clockwise")
	}
	// Edges are anti-aliased, not jagged.
	img = bar("30")
	partial := 0
	for x := 50; x < 150; x++ {
		for y := 60; y < 140; y++ {
			if a := img.RGBAAt(x, y).A; a > 0x10 && a < 0xf0 {
				partial++
			}
		}
	}
	if partial < 50 {
		t.Errorf("rotate 30: %d partially covered pixels; edges are not anti-aliased", partial)
	}
}

func TestShadow(t *testing.T) {
	img := mustRender(t, `{"compat":"css","width":"200rpx","height":"200rpx","background":"#fff","views":[
		{"type":"rect","css":{"left":"50rpx","top":"50rpx","width":"100rpx","height":"100rpx","color":"#fff","shadow":"10rpx 20rpx 10rpx rgba(0,0,0,0.5)"}}]}`)
	if c := img.RGBAAt(100, 100); c != (color.RGBA{0xff, 0xff, 0xff, 0xff}) {
		t.Errorf("box covered by its shadow: %v", c)
	}
	below := img.RGBAAt(110, 165) // under the box, inside the offset shadow
	if below.R > 200 || below.R < 100 {
		t.Errorf("shadow below the box: %v, want about half black", below)
	}
	if c := img.RGBAAt(100, 40); c.R != 0xff {
		t.Errorf("shadow above the box where the offset is downward: %v", c)
	}
	// Units count: 10px is twice 10rpx.
	img2 := mustRender(t, `{"width":"200rpx","height":"200rpx","background":"#fff","views":[
		{"type":"rect","css":{"left":"50rpx","top":"50rpx","width":"100rpx","height":"100rpx","color":"#fff","shadow":"0 10px 0 #000"}}]}`)
	if img2.RGBAAt(100, 165).R != 0 || img2.RGBAAt(100, 175).R != 0xff {
		t.Errorf("shadow 0 10px 0: ends at %v/%v, want 20 px below the box", img2.RGBAAt(100, 165), img2.RGBAAt(100, 175))
	}
	// Painter reads "10rpx" in a shadow as 10px (parseInt); "compat":"css" as 10rpx.
	for _, tt := range []struct {
		compat string
		end    int // px below the box where the shadow ends
	}{{"", 20}, {`"compat":"css",`, 10}} {
		img := mustRender(t, `{`+tt.compat+`"width":"200rpx","height":"200rpx","background":"#fff","views":[
		{"type":"rect","css":{"left":"50rpx","top":"50rpx","width":"100rpx","height":"100rpx","color":"#fff","shadow":"0 10rpx 0 #000"}}]}`)
		if img.RGBAAt(100, 150+tt.end-5).R != 0 || img.RGBAAt(100, 150+tt.end+5).R != 0xff {
			t.Errorf("%s shadow 0 10rpx 0: want it to end %d px below the box", tt.compat, tt.end)
		}
	}
}

func TestEmojiRenderInColour(t *testing.T) {
	img := mustRender(t, `{"width":"200rpx","height":"100rpx","background":"#fff","views":[
		{"type":"text","text":"😀","css":{"left":"10rpx","top":"10rpx","fontSize":"64rpx"}}]}`)
	yellow, dark, ink := 0, 0, 0
	for y := 10; y < 90; y++ {
		for x := 10; x < 100; x++ {
			c := img.RGBAAt(x, y)
			if c.R == 0xff && c.G == 0xff && c.B == 0xff {
				continue
			}
			ink++
			switch {
			case c.R > 200 && c.G > 140 && c.B < 100:
				yellow++
			case c.R < 40 && c.G < 40 && c.B < 40:
				dark++
			}
		}
	}
	if ink < 1500 || yellow < ink/2 {
		t.Errorf("😀: %d drawn pixels, %d yellow, %d dark: not a colour emoji", ink, yellow, dark)
	}
}

func TestQRCodeView(t *testing.T) {
	img := mustRender(t, `{"width":"300rpx","height":"200rpx","background":"#fff","views":[
		{"type":"qrcode","content":"hello 你好","css":{"left":"20rpx","top":"10rpx","width":"180rpx","height":"180rpx","color":"#333"}}]}`)
	if got := scanQR(t, img); got != "hello 你好" {
		t.Errorf("QR = %q", got)
	}
	// No quiet zone: the finder pattern starts at the box's corner.
	if c := img.RGBAAt(21, 11); c.R != 0x33 {
		t.Errorf("top-left module %v, want the module colour at the box corner", c)
	}
}

func TestRenderPaletteErrors(t *testing.T) {
	errLoad := errors.New("boom")
	tests := []struct {
		name string
		js   string
		in   PaletteInput
		want error
		path string
	}{
		{"wxacode without code", `{"width":"10rpx","height":"10rpx","views":[{"type":"wxacode","css":{"width":1,"height":1}}]}`,
			PaletteInput{}, ErrNoCode, ""},
		{"image without loader", `{"width":"10rpx","height":"10rpx","views":[{"type":"image","url":"https://img.test/a.png"}]}`,
			PaletteInput{}, nil, ""},
		{"loader error", `{"width":"10rpx","height":"10rpx","views":[{"type":"image","url":"https://img.test/a.png"}]}`,
			PaletteInput{Images: loaderFunc(func(context.Context, string) (image.Image, error) { return nil, errLoad })}, errLoad, ""},
		{"font too big at scale", `{"width":"100rpx","height":"10rpx","views":[{"type":"text","text":"x","css":{"fontSize":"500rpx"}}]}`,
			PaletteInput{WidthPixels: 400}, nil, "views[0].css.fontSize"},
		{"too wide at scale", `{"width":"100rpx","height":"10rpx"}`,
			PaletteInput{WidthPixels: 5000}, nil, "width"},
		{"qr content too long after Fill", `{"width":"100rpx","height":"10rpx","views":[{"type":"qrcode","content":"` + strings.Repeat("x", 2400) + `{{x}}","css":{"width":1,"height":1}}]}`,
			PaletteInput{}, nil, "views[0].content"},
	}
	for _, tt := range tests {
		img, err := renderJSON(t, tt.js, tt.in)
		if err == nil || img != nil {
			t.Errorf("%s: got %v, %v; want an error", tt.name, img, err)
			continue
		}
		if tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%s: %v does not wrap %v", tt.name, err, tt.want)
		}
		var pe *palette.Error
		if tt.path != "" && (!errors.As(err, &pe) || pe.Path != tt.path) {
			t.Errorf("%s: %v, want a palette.Error on %s", tt.name, err, tt.path)
		}
	}
}

type loaderFunc func(context.Context, string) (image.Image, error)

func (f loaderFunc) Load(ctx context.Context, url string) (image.Image, error) { return f(ctx, url) }

func TestRenderPaletteContext(t *testing.T) {
	r := newTestRenderer(t)
	p, err := palette.Parse([]byte(`{"width":"100rpx","height":"100rpx","views":[{"type":"image","url":"https://img.test/a.png"},{"type":"text","text":"x"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if img, err := r.RenderPalette(cancelled, p, PaletteInput{Images: sharedTestImages}); !errors.Is(err, context.Canceled) || img != nil {
		t.Errorf("cancelled ctx: %v, %v", img, err)
	}
	// Cancelled while loading images.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := loaderFunc(func(ctx context.Context, _ string) (image.Image, error) {
		cancel()
		<-ctx.Done()
		return nil, ctx.Err()
	})
	if img, err := r.RenderPalette(ctx, p, PaletteInput{Images: l}); !errors.Is(err, context.Canceled) || img != nil {
		t.Errorf("cancelled while loading: %v, %v", img, err)
	}
}

func TestRenderPaletteScale(t *testing.T) {
	r := newTestRenderer(t)
	for _, w := range []int{375, 1500} {
		img := renderTestPalette(t, r, "testdata/palettes/reference.json", w)
		if got, want := img.Bounds().Size(), image.Pt(w, w*1334/750); got != want {
			t.Errorf("width %d: size %v, want %v", w, got, want)
		}
		if got := scanQR(t, flatten(img)); got != testScene {
			t.Errorf("width %d: QR = %q", w, got)
		}
	}
	// The palette's own widthPixels is the default scale.
	img, err := renderJSON(t, `{"width":"750rpx","height":"100rpx","widthPixels":1500,"background":"#fff"}`, PaletteInput{})
	if err != nil || img.Bounds().Dx() != 1500 || img.Bounds().Dy() != 200 {
		t.Errorf("widthPixels 1500: %v, %v", img.Bounds(), err)
	}
	// A px design: 375px wide renders 750 px wide.
	img, err = renderJSON(t, `{"width":"375px","height":"100px","background":"#fff"}`, PaletteInput{})
	if err != nil || img.Bounds().Dx() != 750 || img.Bounds().Dy() != 200 {
		t.Errorf("375px palette: %v, %v", img.Bounds(), err)
	}
}

func TestRenderPaletteConcurrent(t *testing.T) {
	r := newTestRenderer(t)
	want := renderTestPalette(t, r, "testdata/palettes/emoji.json", 0)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 2 {
				got := renderTestPalette(t, r, "testdata/palettes/emoji.json", 0)
				if !bytes.Equal(got.Pix, want.Pix) {
					t.Error("concurrent render differs from a sequential one")
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestImagesLoadedOncePerURL(t *testing.T) {
	var mu sync.Mutex
	calls := map[string]int{}
	l := loaderFunc(func(ctx context.Context, url string) (image.Image, error) {
		mu.Lock()
		calls[url]++
		mu.Unlock()
		return testAvatar(40, 40), nil
	})
	_, err := renderJSON(t, `{"width":"100rpx","height":"100rpx","background":"https://img.test/a.png","views":[
		{"type":"image","url":"https://img.test/a.png","css":{"width":"10rpx","height":"10rpx"}},
		{"type":"image","url":"https://img.test/b.png"},
		{"type":"image","url":"https://img.test/b.png","css":{"mode":"auto"}},
		{"type":"image","url":""}]}`, PaletteInput{Images: l})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 || calls["https://img.test/a.png"] != 1 || calls["https://img.test/b.png"] != 1 {
		t.Errorf("loads: %v, want each URL once", calls)
	}
}

func TestLayeredTextKeepsDescenders(t *testing.T) {
	// lineHeight = fontSize makes Painter's box end at the baseline: the
	// descender of "g" and the bottom of the emoji lie outside it. Drawn
	// into a layer (for the shadow), they must not be cut off.
	plain := mustRender(t, `{"width":"200rpx","height":"100rpx","views":[{"type":"text","text":"gy😀","css":{"left":"10rpx","top":"10rpx","fontSize":"40rpx"}}]}`)
	shadowed := mustRender(t, `{"width":"200rpx","height":"100rpx","views":[{"type":"text","text":"gy😀","css":{"left":"10rpx","top":"10rpx","fontSize":"40rpx","shadow":"0 0 0.1rpx rgba(0,0,0,0.01)"}}]}`)
	below := func(img *image.RGBA) int {
		n := 0
		for y := 51; y < 100; y++ { // under the box (top 10 + 40)
			for x := 0; x < 200; x++ {
				if img.RGBAAt(x, y).A > 0x40 {
					n++
				}
			}
		}
		return n
	}
	if below(plain) < 20 {
		t.Fatalf("no ink below the baseline in the plain render: the test is wrong")
	}
	if got, want := below(shadowed), below(plain); got < want {
		t.Errorf("layered text has %d px of ink below the box, the plain render %d: glyphs clipped", got, want)
	}
}
