package e2e

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chromedp/chromedp"

	"github.com/wxposter/wxposter/internal/browser"
)

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
	if _, ok := browser.Path(); !ok {
		t.Skip("chromium is not installed (scripts/devenv.sh installs it)")
	}
	s := start(t)
	ctx := browser.New(t, 2*time.Minute)
	good := `{"width": "400rpx", "height": "300rpx", "background": "#fff",
  "views": [
    {"type": "text", "text": "你好 {{name}}", "css": {"left": "20rpx", "top": "20rpx", "fontSize": "32rpx"}},
    {"type": "wxacode", "css": {"left": "200rpx", "top": "100rpx", "width": "180rpx", "height": "180rpx"}}
  ]}`
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

	// A picture of the page to look at ($WXPOSTER_SCREENSHOT_DIR keeps it).
	if err := chromedp.Do(ctx, setText(`#palette`, good), chromedp.WaitVisible(`#image[src^="data:image/png"]`)); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.Screenshot(`body`))
	if err != nil {
		t.Fatal(err)
	}
	browser.Check(t, "preview-page", png, 600, 300)
}
