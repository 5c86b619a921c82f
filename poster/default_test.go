package poster

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/wxposter/wxposter/poster/imagesrc"
)

const (
	testScene = "pages/index/index?scene=id:42"
	longTitle = "【限时特惠】新疆阿克苏冰糖心苹果5斤装，当季现摘脆甜多汁，产地直发，坏果包赔！"
)

var (
	testRendererOnce sync.Once
	testRenderer     *Renderer
	testRendererErr  error
)

// newTestRenderer shares one Renderer between tests: New parses 40 MB of fonts.
func newTestRenderer(tb testing.TB) *Renderer {
	tb.Helper()
	testRendererOnce.Do(func() { testRenderer, testRendererErr = New() })
	if testRendererErr != nil {
		tb.Fatalf("New: %v", testRendererErr)
	}
	return testRenderer
}

func testCode(tb testing.TB) image.Image {
	tb.Helper()
	q, err := qrcode.New(testScene, qrcode.Medium)
	if err != nil {
		tb.Fatal(err)
	}
	return q.Image(430)
}

// transparentCode is the QR code as a transparent PNG, like a wxacode fetched
// with is_hyaline=true, run through Decode.
func transparentCode(tb testing.TB, size int) image.Image {
	tb.Helper()
	q, err := qrcode.New(testScene, qrcode.Medium)
	if err != nil {
		tb.Fatal(err)
	}
	src := q.Image(size)
	img := image.NewNRGBA(src.Bounds())
	for y := src.Bounds().Min.Y; y < src.Bounds().Max.Y; y++ {
		for x := src.Bounds().Min.X; x < src.Bounds().Max.X; x++ {
			if r, _, _, _ := src.At(x, y).RGBA(); r < 0x8000 {
				img.Set(x, y, color.NRGBA{0x10, 0x10, 0x10, 0xff})
			}
		}
	}
	var buf bytes.Buffer
	if err := EncodePNG(&buf, img); err != nil {
		tb.Fatal(err)
	}
	dec, format, err := imagesrc.Decode(buf.Bytes(), 0)
	if err != nil || format != "png" {
		tb.Fatalf("Decode transparent PNG: %v, %q", err, format)
	}
	return dec
}

// testAvatar is a non-square photo-like image: a diagonal gradient with a
// bright disc off-centre.
func testAvatar(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			t := float64(x+y) / float64(w+h)
			c := color.RGBA{uint8(240 - 120*t), uint8(120 + 80*t), uint8(60 + 180*t), 0xff}
			if math.Hypot(float64(x-w/2), float64(y-h*2/5)) < float64(min(w, h))/5 {
				c = color.RGBA{0xFF, 0xD3, 0x9B, 0xff}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// scanQR decodes the QR code anywhere in img.
func scanQR(tb testing.TB, img image.Image) string {
	tb.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		tb.Fatalf("binary bitmap: %v", err)
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		tb.Fatalf("QR code not found in poster: %v", err)
	}
	return res.GetText()
}

func TestRenderDefault(t *testing.T) {
	r := newTestRenderer(t)
	tests := []struct {
		name string
		in   DefaultInput
		file string
	}{
		{"full", DefaultInput{Code: testCode(t), Avatar: testAvatar(640, 480), Nickname: "小明", Title: longTitle}, "poster-default.png"},
		{"transparent code", DefaultInput{Code: transparentCode(t, 430), Avatar: testAvatar(132, 132), Nickname: "🌸小红🌸", Title: "周末一起去爬山吧"}, "poster-hyaline.png"},
		{"large code, long nickname", DefaultInput{Code: transparentCode(t, 1280), Nickname: "这是一个非常非常非常非常非常长的微信昵称用来测试截断效果", Title: "iPhone 15 Pro 限时特惠，下单立减500元！（仅限今日）"}, "poster-long.png"},
		{"code only", DefaultInput{Code: testCode(t)}, "poster-code-only.png"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := r.RenderDefault(context.Background(), tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := img.Bounds(); got != image.Rect(0, 0, defW, defH) {
				t.Fatalf("bounds = %v, want 750x1334", got)
			}
			var jpg bytes.Buffer
			if err := EncodeJPEG(&jpg, img, 85); err != nil {
				t.Fatal(err)
			}
			dec, format, err := imagesrc.Decode(jpg.Bytes(), 0)
			if err != nil || format != "jpeg" {
				t.Fatalf("Decode JPEG: %v, %q", err, format)
			}
			if got := scanQR(t, dec); got != testScene {
				t.Errorf("QR text = %q, want %q", got, testScene)
			}
			writeArtifact(t, tt.file, img)
		})
	}
}

// writeArtifact saves img under $TMPDIR/wxposter-poster for a human to look at.
func writeArtifact(t *testing.T, name string, img image.Image) {
	dir := filepath.Join(os.TempDir(), "wxposter-poster")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Log(err)
		return
	}
	var buf bytes.Buffer
	if err := EncodePNG(&buf, img); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Log(err)
		return
	}
	t.Logf("wrote %s", p)
}

func TestRenderDefaultAvatarIsRound(t *testing.T) {
	r := newTestRenderer(t)
	red := image.NewUniform(color.RGBA{0xff, 0, 0, 0xff})
	avatar := image.NewRGBA(image.Rect(0, 0, 200, 200))
	draw.Draw(avatar, avatar.Bounds(), red, image.Point{}, draw.Src)
	img, err := r.RenderDefault(context.Background(), DefaultInput{Code: testCode(t), Avatar: avatar})
	if err != nil {
		t.Fatal(err)
	}
	rad := avatarD / 2
	tests := []struct {
		name string
		x, y int
		want color.RGBA
	}{
		{"centre", avatarCX, avatarCY, color.RGBA{0xff, 0, 0, 0xff}},
		{"inside the edge", avatarCX + rad - 3, avatarCY, color.RGBA{0xff, 0, 0, 0xff}},
		{"ring", avatarCX + rad + avatarRing/2, avatarCY, color.RGBA{0xff, 0xff, 0xff, 0xff}},
	}
	for _, tt := range tests {
		if got := img.RGBAAt(tt.x, tt.y); got != tt.want {
			t.Errorf("%s (%d,%d) = %v, want %v", tt.name, tt.x, tt.y, got, tt.want)
		}
	}
	// The corner of the avatar's square is outside the circle: background.
	if got := img.RGBAAt(avatarCX-rad+2, avatarCY-rad+2); got.R == 0xff && got.G == 0 {
		t.Errorf("square corner is avatar red %v: avatar not clipped to a circle", got)
	}
	// Between edge and ring the edge is anti-aliased: a blend of red and white.
	ok := false
	for dx := rad - 2; dx <= rad+1; dx++ {
		c := img.RGBAAt(avatarCX+dx, avatarCY-1)
		if c.R == 0xff && c.G > 0 && c.G < 0xff {
			ok = true
		}
	}
	if !ok {
		t.Error("no anti-aliased pixel on the avatar edge")
	}
}

func TestRenderDefaultErrors(t *testing.T) {
	r := newTestRenderer(t)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		in   DefaultInput
		want error
	}{
		{"cancelled", cancelled, DefaultInput{Code: testCode(t), Title: "x"}, context.Canceled},
		{"no code", context.Background(), DefaultInput{Title: "x"}, ErrNoCode},
		{"empty code", context.Background(), DefaultInput{Code: image.NewRGBA(image.Rectangle{})}, ErrNoCode},
	}
	for _, tt := range tests {
		img, err := r.RenderDefault(tt.ctx, tt.in)
		if !errors.Is(err, tt.want) || img != nil {
			t.Errorf("%s: got %v, %v; want nil, %v", tt.name, img, err, tt.want)
		}
	}
}

func TestRenderDefaultConcurrent(t *testing.T) {
	r := newTestRenderer(t)
	code := testCode(t)
	want, err := r.RenderDefault(context.Background(), DefaultInput{Code: code, Nickname: "小明", Title: longTitle})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 3 {
				got, err := r.RenderDefault(context.Background(), DefaultInput{Code: code, Nickname: "小明", Title: longTitle})
				if err != nil {
					t.Error(err)
					return
				}
				if !bytes.Equal(got.Pix, want.Pix) {
					t.Error("concurrent render differs from a sequential one")
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkRenderDefault(b *testing.B) {
	r := newTestRenderer(b)
	in := DefaultInput{Code: testCode(b), Avatar: testAvatar(132, 132), Nickname: "小明", Title: longTitle}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.RenderDefault(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderDefaultJPEG(b *testing.B) {
	r := newTestRenderer(b)
	in := DefaultInput{Code: testCode(b), Avatar: testAvatar(132, 132), Nickname: "小明", Title: longTitle}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		img, err := r.RenderDefault(context.Background(), in)
		if err != nil {
			b.Fatal(err)
		}
		buf.Reset()
		if err := EncodeJPEG(&buf, img, 85); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len())/1024, "KiB/poster")
}
