package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chromedp/chromedp"
)

// chromium finds the browser the page tests drive (scripts/devenv.sh
// installs Debian's chromium).
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("WXPOSTER_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	t.Skip("chromium is not installed (scripts/devenv.sh installs it)")
	return ""
}

// browser starts a headless Chromium with a fresh profile and no network
// beyond what the page asks for, on about:blank.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	// The first run starts the browser, for as long as ctx lives: no
	// timeout on it; later steps get theirs.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// within is ctx limited to a minute, for a group of steps.
func within(t *testing.T, ctx context.Context) context.Context {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// setText puts text into a textarea as a paste would, firing input.
func setText(sel, text string) chromedp.Action[chromedp.Void] {
	eval := chromedp.Evaluate[bool](`(() => { const el = document.querySelector(` + jsString(sel) + `);
		el.value = ` + jsString(text) + `; el.dispatchEvent(new Event('input', {bubbles: true})); return true })()`)
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := eval(ctx, t)
		return chromedp.Void{}, err
	}
}

func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "`", "\\`", "$", `\$`)
	return "`" + r.Replace(s) + "`"
}

// The preview page in a real browser: paste a palette, see the server's
// render appear; paste a broken one, see the error and its path, and jump
// to it in the JSON.
func TestPreviewPageInChromium(t *testing.T) {
	s := start(t)
	bctx := browser(t)
	good := `{"width": "400rpx", "height": "300rpx", "background": "#fff",
  "views": [
    {"type": "text", "text": "你好 {{name}}", "css": {"left": "20rpx", "top": "20rpx", "fontSize": "32rpx"}},
    {"type": "wxacode", "css": {"left": "200rpx", "top": "100rpx", "width": "180rpx", "height": "180rpx"}}
  ]}`
	ctx := within(t, bctx)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.api.URL+"/preview/"),
		chromedp.WaitVisible(`#palette`),
		setText(`#data`, `{"name": "小明"}`),
		setText(`#palette`, good),
		chromedp.WaitVisible(`#image[src^="data:image/png"]`),
	); err != nil {
		t.Fatal(err)
	}
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.getElementById('image').naturalWidth`))
	if err != nil {
		t.Fatal(err)
	}
	status, err := chromedp.Run(ctx, chromedp.Text(`#status`))
	if err != nil {
		t.Fatal(err)
	}
	if width != 400 || !strings.Contains(status, "400×300") {
		t.Fatalf("image %d px wide, status %q; want the 400×300 render", width, status)
	}

	broken := strings.Replace(good, `"fontSize": "32rpx"`, `"fontSize": "32rpx", "color": "#ggg"`, 1)
	if err := chromedp.Do(ctx,
		setText(`#palette`, broken),
		chromedp.WaitVisible(`#problems li.error`),
	); err != nil {
		t.Fatal(err)
	}
	problem, err := chromedp.Run(ctx, chromedp.Text(`#problems li.error`))
	if err != nil {
		t.Fatal(err)
	}
	path, err := chromedp.Run(ctx, chromedp.AttributeValue(`#problems li.error`, "data-path"))
	if err != nil {
		t.Fatal(err)
	}
	if path.Value != "views[0].css.color" || !strings.Contains(problem, "bad hex colour") {
		t.Fatalf("problem %q at %q, want views[0].css.color", problem, path.Value)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`#problems li.error`)); err != nil {
		t.Fatal(err)
	}
	sel, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.getElementById('palette').selectionStart`))
	if err != nil {
		t.Fatal(err)
	}
	// JavaScript counts UTF-16 units; every character here is in the BMP.
	if want := utf8.RuneCountInString(broken[:strings.Index(broken, `"#ggg"`)]); sel != want {
		t.Errorf("clicking the error selected offset %d, want %d (the value of views[0].css.color)", sel, want)
	}
	if n := s.sim.Total("/wxa/getwxacodeunlimit"); n != 0 {
		t.Errorf("code calls = %d, want 0", n)
	}
	// Fixed, the palette is saved as a template from the page.
	if err := chromedp.Do(ctx,
		setText(`#palette`, good),
		chromedp.WaitVisible(`#image[src^="data:image/png"]`),
		setText(`#save-name`, "from-page"),
		chromedp.Click(`#save`),
	); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		status, err = chromedp.Run(ctx, chromedp.Text(`#status`))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(status, "saved from-page version 1") || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(status, "saved from-page version 1 (created)") {
		t.Fatalf("after Save: status %q", status)
	}
	if tmpl, err := s.templates.Get(ctxT(t), "from-page"); err != nil || tmpl.Version != 1 {
		t.Fatalf("stored template: %v %v", tmpl, err)
	}

		// WXPOSTER_SCREENSHOT=dir keeps a picture of the page to look at.
	if dir := os.Getenv("WXPOSTER_SCREENSHOT"); dir != "" {
		_ = chromedp.Do(ctx, setText(`#palette`, good), chromedp.WaitVisible(`#image[src^="data:image/png"]`))
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "preview-page.png"), png, 0o644)
		}
		if err != nil {
			t.Error(err)
		}
	}
}
