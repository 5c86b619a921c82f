package e2e

import (
	"bytes"
	"encoding/json"
	"image"
	"net/http"
	"testing"
)

func TestOutputFormatAndQuality(t *testing.T) {
	s := start(t)
	base := func(scene string) map[string]any {
		return map[string]any{"template": "default", "page": pageIndex, "scene": scene,
			"data": map[string]string{"nickname": "小明", "title": "输出格式"}}
	}
	fetch := func(body map[string]any) (string, []byte) {
		j := s.await(s.submit(body).ID)
		if j.Status != "succeeded" {
			t.Fatalf("job %+v", j)
		}
		resp, b := download(t, j.URL)
		img, _, err := image.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if got := scanQR(t, img); got != pageIndex+"?scene="+body["scene"].(string) {
			t.Fatalf("QR %q", got)
		}
		return resp.Header.Get("Content-Type"), b
	}

	pngBody := base("fmt-png")
	pngBody["format"] = "png"
	if ct, _ := fetch(pngBody); ct != "image/png" {
		t.Fatalf("format png gave %s", ct)
	}
	ct, hi := fetch(base("fmt-q"))
	low := base("fmt-q")
	low["quality"] = 30
	ct2, lo := fetch(low)
	if ct != "image/jpeg" || ct2 != "image/jpeg" || len(lo) >= len(hi) {
		t.Fatalf("quality 30: %s %d bytes, default: %s %d bytes", ct2, len(lo), ct, len(hi))
	}
	plain := map[string]any{"page": pageIndex, "scene": "fmt-hy", "is_hyaline": true, "format": "jpeg"}
	if ct, _ := fetch(plain); ct != "image/jpeg" {
		t.Fatalf("transparent code as jpeg gave %s", ct)
	}
	for _, bad := range []map[string]any{
		{"page": pageIndex, "scene": "x", "format": "webp"},
		{"page": pageIndex, "scene": "x", "quality": 101},
		{"template": "default", "page": pageIndex, "scene": "x", "format": "png", "quality": 80},
	} {
		code, b := s.post(bad)
		var e apiErr
		_ = json.Unmarshal(b, &e)
		if code != http.StatusBadRequest || (e.Error.Field != "format" && e.Error.Field != "quality") {
			t.Errorf("%v: %d %s", bad, code, b)
		}
	}
}
