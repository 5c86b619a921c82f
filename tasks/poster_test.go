package tasks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/wxposter/wxposter/wechat"
)

func TestJobIDIsContentHash(t *testing.T) {
	base := PosterPayload{AppID: "wx1", Template: "default", TemplateVersion: 1, RendererVersion: 1,
		Code: wechat.UnlimitedCode{Scene: "a", Page: "pages/index/index"}, Data: map[string]string{"a": "1", "b": "2"}}
	same := base
	same.Code.Width = 430 // WeChat's default, written out
	same.Data = map[string]string{"b": "2", "a": "1"}
	if base.JobID() != same.JobID() {
		t.Fatal("equal requests must have equal ids")
	}
	for name, mod := range map[string]func(*PosterPayload){
		"app":              func(p *PosterPayload) { p.AppID = "wx2" },
		"template version": func(p *PosterPayload) { p.TemplateVersion = 2 },
		"renderer version": func(p *PosterPayload) { p.RendererVersion = 2 },
		"scene":            func(p *PosterPayload) { p.Code.Scene = "b" },
		"env":              func(p *PosterPayload) { p.Code.EnvVersion = "trial" },
		"hyaline":          func(p *PosterPayload) { p.Code.IsHyaline = true },
		"data":             func(p *PosterPayload) { p.Data = map[string]string{"a": "1"} },
	} {
		p := base
		mod(&p)
		if p.JobID() == base.JobID() {
			t.Errorf("changing %s kept the id", name)
		}
	}
	if len(base.JobID()) != 32 {
		t.Fatalf("id %q is not 32 hex chars", base.JobID())
	}
}

func TestCodeKeyIgnoresNonCodeFields(t *testing.T) {
	a := CodeKey("wx1", wechat.UnlimitedCode{Scene: "a"})
	if a != CodeKey("wx1", wechat.UnlimitedCode{Scene: "a", Width: 430, EnvVersion: "release"}) {
		t.Fatal("defaults written out must give the same key")
	}
	if a == CodeKey("wx2", wechat.UnlimitedCode{Scene: "a"}) || a == CodeKey("wx1", wechat.UnlimitedCode{Scene: "a", Width: 431}) {
		t.Fatal("different codes share a key")
	}
}

func TestPosterExt(t *testing.T) {
	for _, tc := range []struct {
		p    PosterPayload
		want string
	}{
		{PosterPayload{Template: "default"}, "jpg"},
		{PosterPayload{Template: "default", Code: wechat.UnlimitedCode{IsHyaline: true}}, "jpg"},
		{PosterPayload{}, "jpg"},
		{PosterPayload{Code: wechat.UnlimitedCode{IsHyaline: true}}, "png"},
	} {
		if got := tc.p.PosterExt(); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.p, got, tc.want)
		}
	}
}

func TestFormat(t *testing.T) {
	tpl := PosterPayload{Template: "invite", TemplateVersion: 1, Code: wechat.UnlimitedCode{Scene: "a"}}
	png, jpeg := tpl, tpl
	png.Format, jpeg.Format = FormatPNG, FormatJPEG
	if png.PosterExt() != "png" || jpeg.PosterExt() != "jpg" || tpl.PosterExt() != "jpg" {
		t.Fatal("template ext")
	}
	if jpeg.JobID() != tpl.JobID() {
		t.Fatal(`"format":"jpeg" is a template's default and must not change the id`)
	}
	if png.JobID() == tpl.JobID() {
		t.Fatal("png and jpeg posters share an id")
	}
	q := tpl
	q.Quality = 60
	if q.JobID() == tpl.JobID() {
		t.Fatal("quality is not in the id")
	}
	hy := PosterPayload{Code: wechat.UnlimitedCode{Scene: "a", IsHyaline: true}}
	hyJPEG := hy
	hyJPEG.Format = FormatJPEG
	if hy.PosterExt() != "png" || hyJPEG.PosterExt() != "jpg" {
		t.Fatal("plain code ext")
	}
}

// The id is the HMAC of the payload's json.Marshal encoding: the reused
// encoder must not change a single id (posters are stored under them).
func TestJobIDIsTheHMACOfTheMarshalledPayload(t *testing.T) {
	for _, p := range []PosterPayload{
		{AppID: "wx1", Template: "default", Code: wechat.UnlimitedCode{Page: "pages/index/index", Scene: "a<b>&c"},
			Data: map[string]string{"nickname": "小明", "title": "<b>周末</b> & 爬山", "avatar": "https://x/y?a=1&b=2"}},
		{AppID: "wx2", Code: wechat.UnlimitedCode{Scene: "s", IsHyaline: true}},
		{AppID: "wx3", Template: "invite", TemplateVersion: 3, Format: FormatPNG, Quality: 70},
	} {
		b, _ := json.Marshal(p.Normalize())
		mac := hmac.New(sha256.New, []byte(DevIDSecret))
		mac.Write([]byte("poster/v2\n"))
		mac.Write(b)
		if want := hex.EncodeToString(mac.Sum(nil)[:16]); p.JobID() != want {
			t.Errorf("JobID(%+v) = %s, want %s", p, p.JobID(), want)
		}
	}
}
