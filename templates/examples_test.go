package templates

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	goqrcode "github.com/skip2/go-qrcode"

	"github.com/wxposter/wxposter/internal/golden"
	"github.com/wxposter/wxposter/poster"
	"github.com/wxposter/wxposter/poster/imagesrc"
	"github.com/wxposter/wxposter/poster/palette"
)

const examplesDir = "../examples/templates"

// The golden tolerance is internal/golden's: ≥ 99.5 % of pixels within ±8
// on every channel.

// exampleData is what each example is rendered with: realistic, and long
// enough to exercise wrapping and ellipses. Images are test:// URLs served
// by testImages.
var exampleData = map[string]map[string]string{
	"invite": {
		"avatar":   "test://avatar",
		"nickname": "小明同学",
		"title":    "周末一起去植物园，认识一百种春天的花",
	},
	"product": {
		"image":          "test://product",
		"title":          "新疆阿克苏冰糖心苹果 5 斤装 当季现摘 脆甜多汁 坏果包赔 送礼自用皆宜",
		"price":          "99.00",
		"original_price": "159.00",
	},
	"activity": {
		"title":     "春日植物园亲子徒步，和孩子认识一百种花",
		"time":      "4月12日（周六）09:30 – 12:00",
		"place":     "上海辰山植物园 · 1 号门集合",
		"organizer": "小红花亲子社",
	},
}

// Every example renders with its data, looks like its golden PNG (run with
// -update to regenerate them, then look at them), and its code scans.
func TestExamplesRender(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.json"))
	if err != nil || len(files) < 3 {
		t.Fatalf("examples: %v %v", files, err)
	}
	r, err := poster.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			data, ok := exampleData[name]
			if !ok {
				t.Fatalf("no exampleData for %s: add some", name)
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckName(name); err != nil {
				t.Fatal(err)
			}
			p, err := palette.Parse(raw)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			for _, v := range p.Variables() {
				if data[v] == "" {
					t.Fatalf("exampleData[%q] lacks %s", name, v)
				}
			}
			filled, err := p.Fill(data)
			if err != nil {
				t.Fatal(err)
			}
			link := "pages/index/index?scene=ex:" + name
			img, err := r.RenderPalette(context.Background(), filled, poster.PaletteInput{
				Code: codeImage(t, link), Images: testImages{},
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := scanQR(t, img); got != link {
				t.Errorf("QR = %q, want %q", got, link)
			}
			golden.Check(t, filepath.Join("testdata", "golden", name+".png"), img)
		})
	}
}

// codeImage stands in for WeChat's code: a plain QR code of link, 430 px
// (WeChat's default width) with a quiet zone, as the simulator draws it.
func codeImage(t *testing.T, link string) image.Image {
	t.Helper()
	q, err := goqrcode.New(link, goqrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	return q.Image(430)
}

func scanQR(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("no QR code found: %v", err)
	}
	return res.GetText()
}

// testImages draws the examples' images, so the goldens need no network
// and no image files: an avatar and a product photo stand-in.
type testImages struct{}

func (testImages) Load(_ context.Context, url string) (image.Image, error) {
	switch url {
	case "test://avatar":
		return avatarImage(), nil
	case "test://product":
		return productImage(), nil
	}
	return nil, fmt.Errorf("test image %q: %w", url, imagesrc.ErrFetchRefused)
}

// avatarImage is a 240×240 portrait stand-in: a face with hair and
// shoulders in soft colours on a sky-blue gradient.
func avatarImage() image.Image {
	const n = 240
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	for y := range n {
		for x := range n {
			fx, fy := float64(x)+0.5, float64(y)+0.5
			c := mix(color.RGBA{110, 180, 235, 255}, color.RGBA{205, 232, 250, 255}, fy/n)
			c = over(c, color.RGBA{240, 120, 80, 255}, inside(ellipse(fx-120, fy-262, 104, 86), 86)) // shoulders
			c = over(c, color.RGBA{250, 210, 180, 255}, inside(ellipse(fx-120, fy-196, 22, 30), 22)) // neck
			c = over(c, color.RGBA{60, 42, 38, 255}, inside(ellipse(fx-120, fy-104, 60, 62), 60))    // hair
			c = over(c, color.RGBA{255, 222, 196, 255}, inside(ellipse(fx-120, fy-122, 48, 56), 48)) // face
			c = over(c, color.RGBA{60, 42, 38, 255}, inside(ellipse(fx-112, fy-72, 56, 22), 22))     // fringe
			c = over(c, color.RGBA{60, 42, 38, 255}, inside(ellipse(fx-100, fy-122, 5, 6), 5))       // eyes
			c = over(c, color.RGBA{60, 42, 38, 255}, inside(ellipse(fx-140, fy-122, 5, 6), 5))
			c = over(c, color.RGBA{250, 160, 150, 255}, 0.5*inside(ellipse(fx-94, fy-140, 9, 6), 6)) // cheeks
			c = over(c, color.RGBA{250, 160, 150, 255}, 0.5*inside(ellipse(fx-146, fy-140, 9, 6), 6))
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// productImage is an 800×800 product shot stand-in: a shaded red apple
// with a leaf on a warm studio background.
func productImage() image.Image {
	const n = 800
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	for y := range n {
		for x := range n {
			fx, fy := float64(x)+0.5, float64(y)+0.5
			c := mix(color.RGBA{255, 247, 238, 255}, color.RGBA{244, 224, 204, 255}, fy/n)
			// a soft shadow under the apple
			if d := ellipse(fx-400, fy-650, 250, 46); d < 1 {
				c = mix(c, color.RGBA{196, 164, 140, 255}, 0.55*(1-d)*(1-d))
			}
			// the apple, a sphere lit from the top left, with a dimple at the top
			dx, dy := fx-400, fy-420
			dy -= 30 * math.Exp(-dx*dx/(2*46*46)) * math.Max(0, -dy/236)
			if a := inside(ellipse(dx, dy, 250, 236), 236); a > 0 {
				light := math.Max(0, 1-math.Hypot(dx+100, dy+100)/360)
				body := mix(color.RGBA{150, 14, 28, 255}, color.RGBA{246, 74, 64, 255}, light)
				shine := math.Exp(-math.Pow(math.Hypot(dx+96, dy+108)/46, 2))
				c = over(c, mix(body, color.RGBA{255, 236, 230, 255}, 0.55*shine), a)
			}
			// stem and leaf
			c = over(c, color.RGBA{110, 72, 40, 255}, inside(ellipse(fx-402, fy-180, 7, 34), 7))
			lx, ly := fx-452, fy-168
			lx, ly = lx*0.87+ly*0.5, -lx*0.5+ly*0.87 // the leaf leans 30°
			c = over(c, mix(color.RGBA{70, 140, 50, 255}, color.RGBA{130, 190, 80, 255}, math.Max(0, -ly/22)), inside(ellipse(lx, ly, 58, 22), 22))
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// ellipse is the normalised distance of (dx, dy) from the centre of an
// ellipse of radii rx, ry: 1 on its edge.
func ellipse(dx, dy, rx, ry float64) float64 { return math.Hypot(dx/rx, dy/ry) }

// inside is the coverage of a point at normalised distance d from the
// centre of a shape about r pixels across: anti-aliased over a pixel.
func inside(d, r float64) float64 { return math.Min(math.Max((1-d)*r, 0), 1) }

func over(dst, src color.RGBA, a float64) color.RGBA {
	if a <= 0 {
		return dst
	}
	return mix(dst, src, a)
}

func mix(a, b color.RGBA, t float64) color.RGBA {
	t = math.Min(math.Max(t, 0), 1)
	l := func(x, y uint8) uint8 { return uint8(float64(x) + (float64(y)-float64(x))*t + 0.5) }
	return color.RGBA{l(a.R, b.R), l(a.G, b.G), l(a.B, b.B), 255}
}
