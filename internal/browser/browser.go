// Package browser drives the headless Chromium that scripts/devenv.sh
// installs, for tests of pages (chromedp over the DevTools protocol), and
// checks the screenshots they take.
package browser

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Path is the Chromium binary: $WXPOSTER_CHROMIUM, else chromium on PATH.
func Path() (string, bool) {
	if p := os.Getenv("WXPOSTER_CHROMIUM"); p != "" {
		return p, true
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// New starts a headless Chromium with a fresh profile, offline apart from
// the pages it is sent to, and returns a tab's context. Everything ends with
// the test (or after timeout).
func New(tb testing.TB, timeout time.Duration) context.Context {
	tb.Helper()
	path, ok := Path()
	if !ok {
		tb.Fatal("chromium not found (scripts/devenv.sh installs it; or set WXPOSTER_CHROMIUM)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.NoSandbox, // tests run as root in CI
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Tests never reach the internet: no name resolves but loopback's
		// (asynqmon's page asks for Google's icon font, for one).
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(tb.Logf))
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	tb.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	return ctx
}

// Screenshot is a decoded PNG screenshot and a summary of what is on it.
type Screenshot struct {
	Image image.Image
	// Colors counts the distinct colours (8 bits a channel).
	Colors int
	// Ink is the share of pixels that differ from the most common colour
	// (the background): 0 for a blank page.
	Ink float64
}

// Check decodes a PNG screenshot, saves it for a person to look at (under
// $WXPOSTER_SCREENSHOT_DIR when set, else the test's temp dir, logged), and
// fails the test if it is smaller than minW×minH or blank.
func Check(tb testing.TB, name string, b []byte, minW, minH int) Screenshot {
	tb.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		tb.Fatalf("screenshot %s is not a PNG: %v", name, err)
	}
	dir := os.Getenv("WXPOSTER_SCREENSHOT_DIR")
	if dir == "" {
		dir = tb.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err == nil {
		p := filepath.Join(dir, name+".png")
		if os.WriteFile(p, b, 0o644) == nil {
			tb.Logf("screenshot: %s", p)
		}
	}
	r := img.Bounds()
	if r.Dx() < minW || r.Dy() < minH {
		tb.Fatalf("screenshot %s is %dx%d, want at least %dx%d", name, r.Dx(), r.Dy(), minW, minH)
	}
	s := Screenshot{Image: img}
	counts := map[color.RGBA]int{}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			counts[c]++
		}
	}
	most := 0
	for _, n := range counts {
		most = max(most, n)
	}
	s.Colors = len(counts)
	s.Ink = 1 - float64(most)/float64(r.Dx()*r.Dy())
	if s.Colors < 8 || s.Ink < 0.01 {
		tb.Fatalf("screenshot %s looks blank: %d colours, %.2f%% ink", name, s.Colors, 100*s.Ink)
	}
	return s
}
