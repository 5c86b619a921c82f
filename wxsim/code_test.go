package wxsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	gzqr "github.com/makiuchi-d/gozxing/qrcode"
)

// decodeQR decodes an image as a QR code, drawing it over white first so
// transparent PNGs read like WeChat's clients would show them.
func decodeQR(t *testing.T, img image.Image) string {
	t.Helper()
	flat := image.NewRGBA(img.Bounds())
	draw.Draw(flat, flat.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(flat, flat.Bounds(), img, img.Bounds().Min, draw.Over)
	bmp, err := gozxing.NewBinaryBitmapFromImage(flat)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gzqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("not a QR code: %v", err)
	}
	return res.GetText()
}

func decodeImage(t *testing.T, a answer) image.Image {
	t.Helper()
	var (
		img image.Image
		err error
	)
	switch a.ctype {
	case "image/jpeg":
		img, err = jpeg.Decode(bytes.NewReader(a.body))
	case "image/png":
		img, err = png.Decode(bytes.NewReader(a.body))
	default:
		t.Fatalf("content-type %q: %s", a.ctype, a)
	}
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestUnlimitedCodeErrors(t *testing.T) {
	s, srv, _ := newTestSim(t, WithPublishedPages("pages/index/index", "pages/shop/shop"))
	tok := getToken(t, srv)
	tests := []struct {
		name string
		body string
		want int
	}{
		{"ok", `{"scene":"a=1"}`, 0},
		{"not JSON", `scene=a`, 47001},
		{"empty body", ``, 47001},
		{"array", `[{"scene":"a"}]`, 47001},
		{"width string", `{"scene":"a","width":"430"}`, 47001},
		{"check_path string", `{"scene":"a","check_path":"true"}`, 47001},
		{"scene number", `{"scene":1}`, 47001},
		{"page bool", `{"scene":"a","page":true}`, 47001},
		{"is_hyaline number", `{"scene":"a","is_hyaline":1}`, 47001},
		{"auto_color string", `{"scene":"a","auto_color":"false"}`, 47001},
		{"line_color string", `{"scene":"a","line_color":"#000"}`, 47001},
		{"line_color r string", `{"scene":"a","line_color":{"r":"0","g":0,"b":0}}`, 47001},
		{"env_version number", `{"scene":"a","env_version":1}`, 47001},
		{"huge width", `{"scene":"a","width":1e999}`, 47001},
		{"no scene", `{"page":"pages/index/index"}`, 40169},
		{"empty scene", `{"scene":""}`, 40169},
		{"33-char scene", `{"scene":"` + strings.Repeat("a", 33) + `"}`, 40169},
		{"32-char scene", `{"scene":"` + strings.Repeat("a", 32) + `"}`, 0},
		{"all allowed chars", `{"scene":"aZ09!#$&'()*+,/:;=?@-._~"}`, 0},
		{"space in scene", `{"scene":"a b"}`, 40129},
		{"percent in scene", `{"scene":"a%20"}`, 40129},
		{"non-ASCII scene", `{"scene":"é"}`, 40129},
		{"env_version empty", `{"scene":"a","env_version":""}`, 40097},
		{"env_version prod", `{"scene":"a","env_version":"prod"}`, 40097},
		{"env_version trial", `{"scene":"a","env_version":"trial"}`, 0},
		{"leading slash", `{"scene":"a","page":"/pages/index/index"}`, 41030},
		{"leading slash unchecked", `{"scene":"a","page":"/pages/index/index","check_path":false}`, 41030},
		{"query in page", `{"scene":"a","page":"pages/index/index?x=1","check_path":false}`, 41030},
		{"unpublished page", `{"scene":"a","page":"pages/new/new"}`, 41030},
		{"unpublished page checked", `{"scene":"a","page":"pages/new/new","check_path":true}`, 41030},
		{"unpublished page unchecked", `{"scene":"a","page":"pages/new/new","check_path":false}`, 0},
		{"published page", `{"scene":"a","page":"pages/shop/shop"}`, 0},
		{"null page", `{"scene":"a","page":null}`, 0},
		{"unknown field", `{"scene":"a","colour":"red"}`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := post(t, srv, PathUnlimitedCode, tok, tt.body)
			if tt.want == 0 {
				if a.ctype != "image/jpeg" {
					t.Fatalf("content-type %q: %s", a.ctype, a)
				}
				return
			}
			if a.ctype != jsonContentType {
				t.Fatalf("content-type %q", a.ctype)
			}
			if got := a.errcode(t); got != tt.want {
				t.Fatalf("errcode = %d, want %d: %s", got, tt.want, a)
			}
		})
	}
	if got := s.Count(PathUnlimitedCode, 47001); got != 13 {
		t.Fatalf("47001 count = %d, want 13", got)
	}
	if got := do(t, "GET", srv.URL+PathUnlimitedCode+"?access_token="+tok, "").errcode(t); got != 43002 {
		t.Fatalf("GET: %d, want 43002", got)
	}
}

func TestUnlimitedCodeImage(t *testing.T) {
	_, srv, _ := newTestSim(t)
	tok := getToken(t, srv)
	tests := []struct {
		name  string
		body  string
		text  string
		width int
	}{
		{"default width", `{"scene":"a=1&b=2","page":"pages/index/index"}`, "pages/index/index?scene=a=1&b=2", 430},
		{"home page", `{"scene":"id=42"}`, "?scene=id=42", 430},
		{"min", `{"scene":"x","width":280}`, "?scene=x", 280},
		{"clamped low", `{"scene":"x","width":10}`, "?scene=x", 280},
		{"negative", `{"scene":"x","width":-5}`, "?scene=x", 280},
		{"odd", `{"scene":"x","width":517}`, "?scene=x", 517},
		{"fraction", `{"scene":"x","width":430.4}`, "?scene=x", 430},
		{"max", `{"scene":"` + strings.Repeat("Z", 32) + `","width":1280}`, "?scene=" + strings.Repeat("Z", 32), 1280},
		{"clamped high", `{"scene":"x","width":99999}`, "?scene=x", 1280},
		{"auto_color", `{"scene":"x","auto_color":true,"line_color":{"r":255,"g":0,"b":0}}`, "?scene=x", 430},
		{"env develop", `{"scene":"x","env_version":"develop","check_path":false,"page":"pages/a/b"}`, "pages/a/b?scene=x", 430},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := post(t, srv, PathUnlimitedCode, tok, tt.body)
			if a.ctype != "image/jpeg" {
				t.Fatalf("content-type %q: %s", a.ctype, a)
			}
			img := decodeImage(t, a)
			b := img.Bounds()
			if b.Dx() != b.Dy() || b.Dx() < tt.width-10 || b.Dx() > tt.width+10 {
				t.Fatalf("size %v, want about %d square", b.Size(), tt.width)
			}
			if got := decodeQR(t, img); got != tt.text {
				t.Fatalf("QR text %q, want %q", got, tt.text)
			}
			// The corner is quiet zone: white.
			if r, g, bl, _ := img.At(2, 2).RGBA(); r>>8 < 240 || g>>8 < 240 || bl>>8 < 240 {
				t.Fatalf("corner is not white: %v", img.At(2, 2))
			}
		})
	}
}

func TestUnlimitedCodeDeterministic(t *testing.T) {
	_, srv, _ := newTestSim(t)
	tok := getToken(t, srv)
	body := `{"scene":"a=1","width":300,"line_color":{"r":0,"g":0,"b":128}}`
	a1 := post(t, srv, PathUnlimitedCode, tok, body)
	a2 := post(t, srv, PathUnlimitedCode, tok, body)
	if a1.ctype != "image/jpeg" || !bytes.Equal(a1.body, a2.body) {
		t.Fatal("same request gave different images")
	}
}

func TestUnlimitedCodeLineColor(t *testing.T) {
	_, srv, _ := newTestSim(t)
	tok := getToken(t, srv)
	a := post(t, srv, PathUnlimitedCode, tok, `{"scene":"x","line_color":{"r":0,"g":0,"b":200}}`)
	img := decodeImage(t, a)
	if got := decodeQR(t, img); got != "?scene=x" {
		t.Fatalf("QR text %q", got)
	}
	// Find the darkest pixel: it must be blue, not black.
	var found bool
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y && !found; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 < 30 && g>>8 < 30 && bl>>8 > 170 {
				found = true
				break
			}
		}
	}
	if !found {
		t.Fatal("no module drawn in line_color")
	}
}

func TestUnlimitedCodeHyaline(t *testing.T) {
	_, srv, _ := newTestSim(t)
	tok := getToken(t, srv)
	a := post(t, srv, PathUnlimitedCode, tok, `{"scene":"a=1","page":"pages/index/index","is_hyaline":true,"width":300}`)
	if a.ctype != "image/png" {
		t.Fatalf("content-type %q", a.ctype)
	}
	img := decodeImage(t, a)
	if _, _, _, alpha := img.At(0, 0).RGBA(); alpha != 0 {
		t.Fatalf("background alpha = %d, want transparent", alpha)
	}
	opaque := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if _, _, _, alpha := img.At(x, y).RGBA(); alpha == 0xffff {
				opaque++
			}
		}
	}
	if opaque == 0 {
		t.Fatal("no opaque modules")
	}
	if b.Dx() != 300 || b.Dy() != 300 {
		t.Fatalf("size %v", b.Size())
	}
	if got := decodeQR(t, img); got != "pages/index/index?scene=a=1" {
		t.Fatalf("QR text %q", got)
	}
}

func TestPathCodes(t *testing.T) {
	_, srv, _ := newTestSim(t)
	tok := getToken(t, srv)
	long := "pages/x?" + strings.Repeat("a", maxPathLen)
	tests := []struct {
		name  string
		path  string
		body  string
		want  int
		ctype string
		text  string
	}{
		{"A ok", PathCode, `{"path":"pages/x?a=1","width":430}`, 0, "image/jpeg", "pages/x?a=1"},
		{"A hyaline", PathCode, `{"path":"pages/x?a=1","is_hyaline":true}`, 0, "image/png", "pages/x?a=1"},
		{"A no path", PathCode, `{"width":430}`, 40159, "", ""},
		{"A empty path", PathCode, `{"path":""}`, 40159, "", ""},
		{"A long path", PathCode, `{"path":"` + long + `"}`, 40159, "", ""},
		{"A path number", PathCode, `{"path":1}`, 47001, "", ""},
		{"A width string", PathCode, `{"path":"p","width":"430"}`, 47001, "", ""},
		{"A bad env", PathCode, `{"path":"p","env_version":"prod"}`, 40097, "", ""},
		{"C ok", PathQRCode, `{"path":"pages/x?a=1","width":430}`, 0, "image/jpeg", "pages/x?a=1"},
		{"C hyaline ignored", PathQRCode, `{"path":"pages/x","is_hyaline":true}`, 0, "image/jpeg", "pages/x"},
		{"C no path", PathQRCode, `{}`, 40159, "", ""},
		{"C not JSON", PathQRCode, `path=x`, 47001, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := post(t, srv, tt.path, tok, tt.body)
			if tt.want != 0 {
				if got := a.errcode(t); got != tt.want {
					t.Fatalf("errcode = %d, want %d: %s", got, tt.want, a)
				}
				return
			}
			if a.ctype != tt.ctype {
				t.Fatalf("content-type %q, want %q: %s", a.ctype, tt.ctype, a)
			}
			img := decodeImage(t, a)
			if w := img.Bounds().Dx(); w < 420 || w > 440 {
				t.Fatalf("width %d", w)
			}
			if got := decodeQR(t, img); got != tt.text {
				t.Fatalf("QR text %q, want %q", got, tt.text)
			}
		})
	}
	for _, p := range []string{PathCode, PathQRCode} {
		if got := post(t, srv, p, "", `{"path":"p"}`).errcode(t); got != 41001 {
			t.Fatalf("%s without token: %d", p, got)
		}
	}
}

func TestCodeQuota(t *testing.T) {
	s, srv, clk := newTestSim(t, WithQuotaPerMinute(3), WithApp("wxother", "o"))
	tok := getToken(t, srv)
	body := `{"scene":"q"}`
	paths := []string{PathUnlimitedCode, PathCode, PathQRCode}
	// The three endpoints share one quota.
	for i, p := range paths {
		b := body
		if p != PathUnlimitedCode {
			b = `{"path":"p"}`
		}
		if a := post(t, srv, p, tok, b); a.ctype == jsonContentType {
			t.Fatalf("call %d: %s", i, a)
		}
	}
	if got := post(t, srv, PathUnlimitedCode, tok, body).errcode(t); got != 45011 {
		t.Fatalf("4th call: %d, want 45011", got)
	}
	// Over-quota calls are refused before the body is read.
	if got := post(t, srv, PathCode, tok, `not json`).errcode(t); got != 45011 {
		t.Fatalf("4th call, bad body: %d, want 45011", got)
	}
	// Calls failing the token check do not use quota.
	if got := post(t, srv, PathUnlimitedCode, "bad", body).errcode(t); got != 40001 {
		t.Fatalf("bad token: %d", got)
	}

	// Another app has its own quota.
	other := get(t, srv, PathToken, map[string][]string{"grant_type": {"client_credential"}, "appid": {"wxother"}, "secret": {"o"}}).str(t, "access_token")
	if a := post(t, srv, PathUnlimitedCode, other, body); a.ctype != "image/jpeg" {
		t.Fatalf("other app: %s", a)
	}

	// The window lasts 60 s from its first call.
	clk.Advance(59 * time.Second)
	if got := post(t, srv, PathUnlimitedCode, tok, body).errcode(t); got != 45011 {
		t.Fatalf("at 59s: %d, want 45011", got)
	}
	clk.Advance(time.Second)
	if a := post(t, srv, PathUnlimitedCode, tok, body); a.ctype != "image/jpeg" {
		t.Fatalf("next window: %s", a)
	}

	// Raising the quota at run time takes effect at once; 0 is unlimited.
	s.SetQuotaPerMinute(0)
	for range 5 {
		if a := post(t, srv, PathUnlimitedCode, tok, body); a.ctype != "image/jpeg" {
			t.Fatalf("unlimited: %s", a)
		}
	}
	if got := s.Count(PathUnlimitedCode, 45011) + s.Count(PathCode, 45011); got != 3 {
		t.Fatalf("45011 count = %d, want 3", got)
	}
}

func TestCodeErrorRatio(t *testing.T) {
	s, srv, _ := newTestSim(t, WithErrorRatio(1))
	tok := getToken(t, srv)
	tests := []struct {
		path, body string
	}{
		{PathUnlimitedCode, `{"scene":"a"}`},
		{PathCode, `{"path":"p"}`},
		{PathQRCode, `{"path":"p"}`},
	}
	for _, tt := range tests {
		a := post(t, srv, tt.path, tok, tt.body)
		if got := a.errcode(t); got != -1 || !strings.HasPrefix(a.str(t, "errmsg"), "system error") {
			t.Fatalf("%s: %s", tt.path, a)
		}
	}
	// The token check still comes first.
	if got := post(t, srv, PathUnlimitedCode, "", `{"scene":"a"}`).errcode(t); got != 41001 {
		t.Fatalf("no token: %d", got)
	}
	s.SetErrorRatio(0)
	if a := post(t, srv, PathUnlimitedCode, tok, `{"scene":"a"}`); a.ctype != "image/jpeg" {
		t.Fatalf("ratio 0: %s", a)
	}
	if s.Count(PathUnlimitedCode, -1) != 1 || s.Count(PathUnlimitedCode, 0) != 1 {
		t.Fatalf("stats: %v", s.Stats())
	}

	// A ratio in between fails some calls, not all.
	s.SetErrorRatio(0.5)
	fails := 0
	for range 40 {
		if post(t, srv, PathQRCode, tok, `{"path":"p","width":280}`).ctype == jsonContentType {
			fails++
		}
	}
	if fails == 0 || fails == 40 {
		t.Fatalf("%d/40 failures at ratio 0.5", fails)
	}
}

func TestSetPublishedPages(t *testing.T) {
	s, srv, _ := newTestSim(t)
	tok := getToken(t, srv)
	body := `{"scene":"a","page":"pages/new/new"}`
	if got := post(t, srv, PathUnlimitedCode, tok, body).errcode(t); got != 41030 {
		t.Fatalf("before: %d", got)
	}
	s.SetPublishedPages("pages/new/new")
	if a := post(t, srv, PathUnlimitedCode, tok, body); a.ctype != "image/jpeg" {
		t.Fatalf("after: %s", a)
	}
	if got := post(t, srv, PathUnlimitedCode, tok, `{"scene":"a","page":"pages/index/index"}`).errcode(t); got != 41030 {
		t.Fatalf("unpublished default page: %d", got)
	}
}

// TestCodeConcurrent hammers the code endpoint; run with -race.
func TestCodeConcurrent(t *testing.T) {
	s, srv, _ := newTestSim(t, WithQuotaPerMinute(50))
	tok := getToken(t, srv)
	const workers, calls = 20, 5
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[int]int{}
	)
	for w := range workers {
		wg.Go(func() {
			for i := range calls {
				body := fmt.Sprintf(`{"scene":"w=%d&i=%d","width":280}`, w, i)
				resp, err := http.Post(srv.URL+PathUnlimitedCode+"?access_token="+tok, "application/json", strings.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var v struct{ Errcode int }
				if resp.Header.Get("Content-Type") == jsonContentType {
					_ = json.Unmarshal(b, &v)
				}
				mu.Lock()
				seen[v.Errcode]++
				mu.Unlock()
			}
		})
	}
	// Admin reads race with the calls on purpose.
	for range 5 {
		s.Stats()
		do(t, "GET", srv.URL+pathAdminStats, "")
	}
	wg.Wait()
	if seen[0] != 50 || seen[45011] != 50 {
		t.Fatalf("answers %v, want 50 successes and 50 x 45011", seen)
	}
	if s.Count(PathUnlimitedCode, 0) != 50 || s.Count(PathUnlimitedCode, 45011) != 50 || s.Total(PathUnlimitedCode) != workers*calls {
		t.Fatalf("stats %v", s.Stats())
	}
}
