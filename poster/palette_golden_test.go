package poster

import (
	"context"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wxposter/wxposter/internal/golden"

	"github.com/wxposter/wxposter/poster/palette"
)

// The golden tolerance is internal/golden's: ≥ 99.5 % of pixels within ±8
// on every channel.

// testImages is the ImageLoader of the tests: generated images by URL, each
// decoded once and shared, as a cache of template images would be.
type testImages struct {
	mu    sync.Mutex
	imgs  map[string]image.Image
	calls map[string]int
}

var sharedTestImages = &testImages{}

func (l *testImages) Load(ctx context.Context, url string) (image.Image, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.imgs == nil {
		l.imgs = map[string]image.Image{}
		l.calls = map[string]int{}
	}
	l.calls[url]++
	if img, ok := l.imgs[url]; ok {
		return img, nil
	}
	var img image.Image
	switch url {
	case "https://img.test/photo.jpg":
		img = photoImage(750, 1334)
	case "https://img.test/avatar.png":
		img = testAvatar(264, 264)
	case "https://img.test/wide.png":
		img = testAvatar(640, 320)
	case "https://img.test/tall.png":
		img = testAvatar(200, 400)
	case "https://img.test/small.png":
		img = testAvatar(120, 80)
	default:
		return nil, fmt.Errorf("test loader: no image %s", url)
	}
	l.imgs[url] = img
	return img, nil
}

// photoImage is a photo-like RGBA image: soft colour fields, blobs and a
// little noise, deterministic.
func photoImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(1, 2))
	type blob struct{ x, y, r, cr, cg, cb float64 }
	var blobs []blob
	for range 9 {
		blobs = append(blobs, blob{rng.Float64() * float64(w), rng.Float64() * float64(h),
			80 + rng.Float64()*260, rng.Float64() * 255, rng.Float64() * 255, rng.Float64() * 255})
	}
	for y := range h {
		for x := range w {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			r, g, b := 40+120*fy, 90+100*fx, 160-60*fy
			for _, bl := range blobs {
				d := math.Hypot(float64(x)-bl.x, float64(y)-bl.y) / bl.r
				if d < 1 {
					t := (1 - d*d) * 0.6
					r, g, b = r+(bl.cr-r)*t, g+(bl.cg-g)*t, b+(bl.cb-b)*t
				}
			}
			n := rng.NormFloat64() * 4
			i := img.PixOffset(x, y)
			img.Pix[i+0] = palette.ClampByte(r + n)
			img.Pix[i+1] = palette.ClampByte(g + n)
			img.Pix[i+2] = palette.ClampByte(b + n)
			img.Pix[i+3] = 0xff
		}
	}
	return img
}

// goldenData fills the variables of the test palettes.
var goldenData = map[string]string{
	"nickname": "小明🌸Lily👍🏻",
	"title":    "【限时特惠】新疆阿克苏冰糖心苹果5斤装，当季现摘脆甜多汁，产地直发，坏果包赔！",
	"price":    "39.90",
	"avatar":   "https://img.test/avatar.png",
	"bg":       "https://img.test/photo.jpg",
	"url":      "https://example.com/p/123?from=poster",
}

// goldenScan lists the palettes whose render must decode as a QR code, and
// the text it must hold.
var goldenScan = map[string]string{
	"qrcode":    "https://example.com/p/123?from=poster",
	"wxacode":   testScene,
	"reference": testScene,
}

func renderTestPalette(tb testing.TB, r *Renderer, file string, width int) *image.RGBA {
	tb.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := palette.Parse(data)
	if err != nil {
		tb.Fatalf("%s: %v", file, err)
	}
	if p, err = p.Fill(goldenData); err != nil {
		tb.Fatalf("%s: %v", file, err)
	}
	img, err := r.RenderPalette(context.Background(), p, PaletteInput{Code: testCode(tb), Images: sharedTestImages, WidthPixels: width})
	if err != nil {
		tb.Fatalf("%s: %v", file, err)
	}
	return img
}

func TestPaletteGolden(t *testing.T) {
	r := newTestRenderer(t)
	files, err := filepath.Glob("testdata/palettes/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no palettes in testdata/palettes: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			img := renderTestPalette(t, r, file, 0)
			if want, ok := goldenScan[name]; ok {
				if got := scanQR(t, flatten(img)); got != want {
					t.Errorf("QR text = %q, want %q", got, want)
				}
			}
			golden.Check(t, filepath.Join("testdata", "golden", name+".png"), img)
		})
	}
}

// flatten composites img over white, as the JPEG encoder does.
func flatten(img *image.RGBA) *image.RGBA {
	out := image.NewRGBA(img.Bounds())
	for i := 0; i < len(img.Pix); i += 4 {
		a := 255 - uint32(img.Pix[i+3])
		for c := range 3 {
			out.Pix[i+c] = uint8(uint32(img.Pix[i+c]) + a)
		}
		out.Pix[i+3] = 0xff
	}
	return out
}
