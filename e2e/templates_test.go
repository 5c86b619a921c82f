package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// templateView is a template as the API shows it.
type templateView struct {
	Name      string          `json:"name"`
	Version   int             `json:"version"`
	Variables []string        `json:"variables"`
	Builtin   bool            `json:"builtin"`
	Change    string          `json:"change"`
	Palette   json.RawMessage `json:"palette"`
}

func example(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "examples", "templates", name+".json"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// putTemplate sends palette to PUT /v1/templates/{name}, wanting code.
func (s *system) putTemplate(name string, palette []byte, code int) templateView {
	s.tb.Helper()
	got, b := s.call(http.MethodPut, "/v1/templates/"+name, palette)
	if got != code {
		s.tb.Fatalf("PUT /v1/templates/%s = %d %s, want %d", name, got, b, code)
	}
	var v templateView
	if err := json.Unmarshal(b, &v); err != nil {
		s.tb.Fatal(err)
	}
	return v
}

// renderPoster makes a poster of body and returns it decoded, checking
// that it is a JPEG whose QR code opens page with scene.
func (s *system) renderPoster(t *testing.T, body map[string]any) (job, image.Image) {
	t.Helper()
	j := s.await(s.submit(body).ID)
	if j.Status != "succeeded" {
		t.Fatalf("job = %+v (error %+v), want succeeded", j, j.Error)
	}
	resp, b := download(t, j.URL)
	if ct := resp.Header.Get("Content-Type"); ct != "image/jpeg" {
		t.Fatalf("Content-Type = %q, want image/jpeg", ct)
	}
	img, format, err := image.Decode(bytes.NewReader(b))
	if err != nil || format != "jpeg" {
		t.Fatalf("decode poster: %s %v", format, err)
	}
	want := body["page"].(string) + "?scene=" + body["scene"].(string)
	if got := scanQR(t, img); got != want {
		t.Fatalf("QR = %q, want %q", got, want)
	}
	return j, img
}

// The spine with a template: put it through the API, make a poster with
// it, edit it (a new version, so a new job and poster for the same
// request), and refuse requests that lack its data.
func TestTemplatePosterEndToEnd(t *testing.T) {
	s := start(t)
	avatar := s.avatar.URL + "/u/7.png"
	invite := example(t, "invite")

	created := s.putTemplate("invite", invite, http.StatusCreated)
	if created.Version != 1 || created.Change != "created" ||
		!slices.Equal(created.Variables, []string{"avatar", "nickname", "title"}) {
		t.Fatalf("PUT = %+v, want version 1 with variables avatar, nickname, title", created)
	}
	if again := s.putTemplate("invite", invite, http.StatusOK); again.Version != 1 || again.Change != "unchanged" {
		t.Fatalf("same PUT = %+v, want version 1 unchanged", again)
	}

	body := map[string]any{
		"template": "invite", "page": pageDetail, "scene": "inv:u7",
		"data": map[string]string{"avatar": avatar, "nickname": "小明", "title": "周末一起去植物园认识一百种花"},
	}
	first, img := s.renderPoster(t, body)
	if b := img.Bounds(); b.Dx() != 750 {
		t.Errorf("poster is %v, want 750 px wide", b)
	}

	// An edit is a new version: the same request is another job and poster.
	edited := bytes.Replace(invite, []byte("邀请你加入"), []byte("邀请你一起参加"), 1)
	if bytes.Equal(edited, invite) {
		t.Fatal("the edit changed nothing")
	}
	if v := s.putTemplate("invite", edited, http.StatusOK); v.Version != 2 || v.Change != "updated" {
		t.Fatalf("edit = %+v, want version 2 updated", v)
	}
	second, _ := s.renderPoster(t, body)
	if second.ID == first.ID || second.URL == first.URL {
		t.Fatalf("after the edit the request gave job %s (%s) again", second.ID, second.URL)
	}

	// Missing data is refused before anything is queued.
	for _, tc := range []struct {
		name  string
		data  map[string]string
		field string
	}{
		{"missing nickname", map[string]string{"avatar": avatar, "title": "t"}, "data.nickname"},
		{"empty title", map[string]string{"avatar": avatar, "nickname": "n", "title": ""}, "data.title"},
		{"avatar elsewhere", map[string]string{"avatar": "http://169.254.169.254/latest", "nickname": "n", "title": "t"}, "data.avatar"},
		{"avatar not a URL", map[string]string{"avatar": "avatar.png", "nickname": "n", "title": "t"}, "data.avatar"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, b := s.post(map[string]any{"template": "invite", "page": pageIndex, "scene": "x", "data": tc.data})
			var e apiErr
			_ = json.Unmarshal(b, &e)
			if code != http.StatusBadRequest || e.Error.Field != tc.field {
				t.Fatalf("got %d %s, want 400 naming %s", code, b, tc.field)
			}
			if strings.HasPrefix(tc.name, "missing") && !strings.Contains(e.Error.Message, "required by template invite") {
				t.Errorf("message %q does not say which template requires it", e.Error.Message)
			}
		})
	}
	if n := s.sim.Total("/wxa/getwxacodeunlimit"); n != 1 {
		t.Errorf("code calls = %d, want 1 (one code, two posters, no call for refused requests)", n)
	}
}

// Every example renders through the whole system, and its code scans. The
// product's image is a data: URI, which palettes may use as well as URLs.
func TestTemplateExamplesEndToEnd(t *testing.T) {
	s := start(t)
	img := s.avatar.URL + "/img.png"
	for _, tc := range []struct {
		name string
		data map[string]string
	}{
		{"invite", map[string]string{"avatar": img, "nickname": "微信用户", "title": "加入「周末徒步」小组"}},
		{"product", map[string]string{"image": dataURI(t), "title": "新疆阿克苏冰糖心苹果 5 斤装 当季现摘 脆甜多汁 坏果包赔",
			"price": "99.00", "original_price": "159.00"}},
		{"activity", map[string]string{"title": "春日植物园亲子徒步", "time": "4月12日（周六）09:30", "place": "辰山植物园 1 号门",
			"organizer": "小红花亲子社"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := s.putTemplate(tc.name, example(t, tc.name), http.StatusCreated)
			keys := make([]string, 0, len(tc.data))
			for k := range tc.data {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if !slices.Equal(v.Variables, keys) {
				t.Fatalf("variables = %v, want %v", v.Variables, keys)
			}
			s.renderPoster(t, map[string]any{"template": tc.name, "page": pageIndex, "scene": "ex:" + tc.name, "data": tc.data})
		})
	}
}

func TestTemplateAPI(t *testing.T) {
	const key = "e2e-template-key-0123456789"
	s := start(t, withAPIKeys(key))
	invite := example(t, "invite")

	if code, _ := s.call(http.MethodPut, "/v1/templates/invite", invite); code != http.StatusUnauthorized {
		t.Fatalf("PUT without a key = %d, want 401", code)
	}
	if code, b := s.callAs(key, http.MethodPut, "/v1/templates/invite", invite); code != http.StatusCreated {
		t.Fatalf("PUT = %d %s", code, b)
	}

	code, b := s.callAs(key, http.MethodGet, "/v1/templates/invite", nil)
	var got templateView
	if err := json.Unmarshal(b, &got); err != nil || code != http.StatusOK || got.Version != 1 {
		t.Fatalf("GET = %d %s", code, b)
	}
	var want, have any
	_ = json.Unmarshal(invite, &want)
	_ = json.Unmarshal(got.Palette, &have)
	if !jsonEqual(want, have) {
		t.Errorf("GET palette differs from the one put")
	}

	code, b = s.callAs(key, http.MethodGet, "/v1/templates", nil)
	var list struct{ Templates []templateView }
	_ = json.Unmarshal(b, &list)
	if code != http.StatusOK || len(list.Templates) != 2 || list.Templates[0].Name != "default" ||
		!list.Templates[0].Builtin || list.Templates[1].Name != "invite" {
		t.Fatalf("list = %d %s, want default and invite", code, b)
	}

	for _, tc := range []struct {
		name, method, path string
		body               []byte
		code               int
		field              string
	}{
		{"bad palette", http.MethodPut, "/v1/templates/bad",
			[]byte(`{"width":"750rpx","height":"750rpx","views":[{"type":"text","text":"a"},{"type":"text","css":{"color":"#ggg"}}]}`), 400, "views[1]"},
		{"not JSON", http.MethodPut, "/v1/templates/bad", []byte(`{"width":`), 400, ""},
		{"bad name", http.MethodPut, "/v1/templates/Bad_Name", invite, 400, "name"},
		{"replace default", http.MethodPut, "/v1/templates/default", invite, 400, "name"},
		{"too large", http.MethodPut, "/v1/templates/big", bytes.Repeat([]byte(" "), 256<<10+1), 400, "body"},
		{"get unknown", http.MethodGet, "/v1/templates/nope", nil, 404, "name"},
		{"delete default", http.MethodDelete, "/v1/templates/default", nil, 400, "name"},
		{"delete unknown", http.MethodDelete, "/v1/templates/nope", nil, 404, "name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, b := s.callAs(key, tc.method, tc.path, tc.body)
			var e apiErr
			_ = json.Unmarshal(b, &e)
			if code != tc.code || !strings.HasPrefix(e.Error.Field, tc.field) || e.Error.Message == "" {
				t.Fatalf("got %d %s, want %d naming %q", code, b, tc.code, tc.field)
			}
		})
	}

	// Deleted: new posters can no longer use it.
	if code, b := s.callAs(key, http.MethodDelete, "/v1/templates/invite", nil); code != http.StatusNoContent {
		t.Fatalf("DELETE = %d %s", code, b)
	}
	if code, _ := s.callAs(key, http.MethodGet, "/v1/templates/invite", nil); code != http.StatusNotFound {
		t.Fatalf("GET after DELETE = %d, want 404", code)
	}
	code, b = s.callAs(key, http.MethodPost, "/v1/posters", map[string]any{"template": "invite", "page": pageIndex, "scene": "x",
		"data": map[string]string{"avatar": s.avatar.URL + "/a.png", "nickname": "n", "title": "t"}})
	var e apiErr
	_ = json.Unmarshal(b, &e)
	if code != http.StatusBadRequest || e.Error.Field != "template" {
		t.Fatalf("POST with a deleted template = %d %s, want 400 naming template", code, b)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// dataURI is a small PNG as a data: URI (short enough for a data value).
func dataURI(tb testing.TB) string {
	img := image.NewRGBA(image.Rect(0, 0, 32, 32))
	for i := range img.Pix {
		img.Pix[i] = []byte{230, 60, 50, 255}[i%4]
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())
}
