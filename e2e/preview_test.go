package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// problem is an entry of "errors" or "warnings".
type problem struct {
	Path string `json:"path"`
	Rule string `json:"rule"`
}

func paths(ps []problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Path)
	}
	return out
}

// A PUT lists every problem of a palette at once, and on success what will
// not work as the author may think.
func TestPutTemplateReportsEverything(t *testing.T) {
	s := start(t)
	bad := []byte(`{"width":"750rpx","height":"wide","views":[
		{"type":"text","text":"a","css":{"fontSize":"huge","color":"#ggg"}},
		{"type":"rect","css":{"width":"10rpx","height":"10rpx","borderRadius":"1rpx 2rpx"}},
		{"type":"image","url":"/images/a.png","css":{"width":"10rpx","height":"10rpx","mode":"cover"}}]}`)
	code, b := s.call(http.MethodPut, "/v1/templates/bad", bad)
	var rep struct {
		Error    apiErrBody `json:"error"`
		Errors   []problem  `json:"errors"`
		Warnings []problem  `json:"warnings"`
	}
	if err := json.Unmarshal(b, &rep); err != nil || code != http.StatusBadRequest {
		t.Fatalf("PUT = %d %s, want 400", code, b)
	}
	want := []string{"height", "views[0].css.fontSize", "views[0].css.color", "views[1].css.borderRadius", "views[2].css.mode"}
	for _, w := range want {
		if !slices.Contains(paths(rep.Errors), w) {
			t.Errorf("errors lack %s: %s", w, b)
		}
	}
	if rep.Error.Field != "height" {
		t.Errorf("error.field = %q, want the first problem", rep.Error.Field)
	}

	// Accepted, with warnings: a package path, a plain QR code, an image host
	// the workers refuse, a field Painter ignores.
	ok := []byte(`{"width":"750rpx","height":"750rpx","views":[
		{"type":"image","url":"/images/logo.png","css":{"width":"100rpx","height":"100rpx"}},
		{"type":"image","url":"https://evil.example.com/a.png","css":{"top":"100rpx","width":"100rpx","height":"100rpx"}},
		{"type":"qrcode","content":"https://example.com","css":{"top":"200rpx","width":"200rpx","height":"200rpx"}},
		{"type":"text","text":"{{name}}","css":{"top":"420rpx","letterSpacing":"2rpx"}}]}`)
	code, b = s.call(http.MethodPut, "/v1/templates/warned", ok)
	var v struct {
		Version  int       `json:"version"`
		Warnings []problem `json:"warnings"`
	}
	if err := json.Unmarshal(b, &v); err != nil || code != http.StatusCreated || v.Version != 1 {
		t.Fatalf("PUT = %d %s, want 201", code, b)
	}
	for _, w := range []string{"views[0].url", "views[1].url", "views[2]", "views[3].css.letterSpacing"} {
		if !slices.Contains(paths(v.Warnings), w) {
			t.Errorf("warnings lack %s: %s", w, b)
		}
	}

	// The dry run refuses what parses but can never be drawn: a blur over
	// the limit at the palette's own scale.
	blur := []byte(`{"width":"750rpx","height":"750rpx","views":[{"type":"rect","css":{"width":"100rpx","height":"100rpx","color":"red","shadow":"0 0 300rpx #000"}}]}`)
	code, b = s.call(http.MethodPut, "/v1/templates/blurry", blur)
	if err := json.Unmarshal(b, &rep); err != nil || code != http.StatusBadRequest || !slices.Contains(paths(rep.Errors), "views[0].css.shadow") {
		t.Fatalf("PUT blur = %d %s, want 400 naming views[0].css.shadow", code, b)
	}
	// A hostile palette costs the dry run no more than a worker's budget.
	var views []string
	for i := range 10 {
		views = append(views, fmt.Sprintf(`{"id":"v%d","type":"rect","css":{"width":"4096rpx","height":"4096rpx","color":"#336699","rotate":"33","shadow":"5px 5px 50px #0008"}}`, i))
	}
	hostile := []byte(`{"width":"4096rpx","height":"4096rpx","views":[` + strings.Join(views, ",") + `]}`)
	code, b = s.call(http.MethodPut, "/v1/templates/hostile", hostile)
	if err := json.Unmarshal(b, &rep); err != nil || code != http.StatusBadRequest || len(rep.Errors) != 1 ||
		!strings.HasPrefix(rep.Errors[0].Path, "views[") || !strings.Contains(rep.Errors[0].Rule, "limit") {
		t.Fatalf("PUT hostile = %d %s, want 400 naming a view over a render limit", code, b)
	}
	if n := s.sim.Total("/wxa/getwxacodeunlimit"); n != 0 {
		t.Errorf("code calls = %d, want 0", n)
	}
}

type apiErrBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

// POST /v1/preview draws a palette (or a stored template) directly, with a
// placeholder where the code goes, without calling WeChat.
func TestPreview(t *testing.T) {
	s := start(t)
	pal := json.RawMessage(`{"width":"400rpx","height":"300rpx","background":"#ffffff","views":[
		{"type":"text","text":"你好 {{name}}","css":{"left":"20rpx","top":"20rpx","fontSize":"32rpx"}},
		{"type":"wxacode","css":{"left":"200rpx","top":"100rpx","width":"180rpx","height":"180rpx"}}]}`)
	code, b := s.call(http.MethodPost, "/v1/preview", map[string]any{"palette": pal, "data": map[string]string{"name": "小明"}})
	if code != http.StatusOK {
		t.Fatalf("preview = %d %s", code, b)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil || img.Bounds() != image.Rect(0, 0, 400, 300) {
		t.Fatalf("preview is not a 400×300 PNG: %v %v", err, img)
	}
	if n := s.sim.Total("/wxa/getwxacodeunlimit"); n != 0 {
		t.Errorf("code calls = %d, want 0", n)
	}
	// JSON answer: the image as a data URI, variables and warnings.
	s.putTemplate("greet", pal, http.StatusCreated)
	req, _ := http.NewRequest(http.MethodPost, s.api.URL+"/v1/preview",
		bytes.NewReader([]byte(`{"template":"greet","format":"jpeg","width":800}`)))
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res struct {
		Image     string   `json:"image"`
		Width     int      `json:"width"`
		Height    int      `json:"height"`
		Variables []string `json:"variables"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("JSON preview = %d %v", resp.StatusCode, err)
	}
	if !strings.HasPrefix(res.Image, "data:image/jpeg;base64,") || res.Width != 800 || res.Height != 600 ||
		!slices.Equal(res.Variables, []string{"name"}) {
		t.Errorf("JSON preview = %.60s… %dx%d %v", res.Image, res.Width, res.Height, res.Variables)
	}
	// A broken palette: every problem, as PUT.
	code, b = s.call(http.MethodPost, "/v1/preview", map[string]any{"palette": json.RawMessage(`{"width":"1rpx"}`)})
	var rep struct {
		Errors []problem `json:"errors"`
	}
	if err := json.Unmarshal(b, &rep); err != nil || code != http.StatusBadRequest || !slices.Contains(paths(rep.Errors), "height") {
		t.Fatalf("broken preview = %d %s, want 400 naming height", code, b)
	}
}
