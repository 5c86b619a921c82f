package poster

import (
	"context"
	"errors"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wxposter/wxposter/poster/palette"
)

// FuzzParsePalette parses arbitrary input and renders what parses, small,
// under a 2 s deadline: nothing may panic, and every error of palette.Parse
// and Fill must be a *palette.Error (or a *MissingVariableError).
func FuzzParsePalette(f *testing.F) {
	files, _ := filepath.Glob("testdata/palettes/*.json")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		`{"width":"100rpx","height":"100rpx","views":[{"type":"text","id":"a","text":"你好😀\n\nworld","css":{"width":"calc(50% - 2 * 3rpx)","maxLines":2,"padding":"1rpx 2rpx","rotate":33,"shadow":"1 2 3 red"}},{"type":"rect","css":{"left":"calc(a.right + (a.width / 2))","width":"calc(a.height * -2)","height":"10rpx","borderRadius":"1rpx 2rpx 3rpx 4rpx","borderWidth":"3rpx","borderStyle":"dotted","color":"radial-gradient(circle at 10% 90%, red 10px, blue)"}}]}`,
		`{"width":"100rpx","height":"100rpx","background":"{{bg}}","views":[{"type":"image","url":"{{u}}","css":{"mode":"auto","rotate":-90}},{"type":"qrcode","content":"{{u}}","css":{"width":"10rpx","height":"10rpx"}},{"type":"wxacode","css":{"width":"10rpx","height":"20rpx","borderRadius":"50%"}}]}`,
		`{"width":"100rpx","height":"100rpx","views":[{"type":"inlineText","textList":[{"text":"¥","css":{"fontSize":"10rpx"}},{"text":"99","css":{"fontSize":"30rpx","textDecoration":"underline line-through"}}],"css":{"width":"20rpx","background":"linear-gradient(to top left, #0000, #f00f)"}}]}`,
		`{"width":"1rpx","height":"4096rpx"}`,
		`{"width":"750rpx","height":"750rpx","views":[{"type":"rect","css":{"left":["1rpx","x"],"width":1,"height":1}}]}`,
	} {
		f.Add([]byte(s))
	}
	r := newTestRenderer(f)
	code := testAvatar(40, 40)
	images := loaderFunc(func(ctx context.Context, url string) (image.Image, error) {
		if strings.Contains(url, "fail") {
			return nil, errors.New("no such image")
		}
		return testAvatar(16+len(url)%40, 12+len(url)%30), nil
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := palette.Parse(data)
		if err != nil {
			var pe *palette.Error
			if !errors.As(err, &pe) {
				t.Fatalf("palette.Parse error %T %v is not a *palette.Error", err, err)
			}
			return
		}
		vals := map[string]string{}
		for _, v := range p.Variables() {
			vals[v] = "{{" + v + "}}😀"
		}
		q, err := p.Fill(vals)
		if err != nil {
			var pe *palette.Error
			if !errors.As(err, &pe) {
				t.Fatalf("Fill error %T %v", err, err)
			}
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		img, err := r.RenderPalette(ctx, q, PaletteInput{Code: code, Images: images, WidthPixels: 64})
		if err == nil && img == nil {
			t.Fatal("RenderPalette returned neither an image nor an error")
		}
	})
}
