package e2e

import (
	"net/http"
	"testing"
)

// A template that draws no mini-program code never asks WeChat for one: no
// quota is spent, an unpublished page does not matter, and page and scene
// are not part of the job id.
func TestTextOnlyTemplateMakesNoCodeCall(t *testing.T) {
	s := start(t)
	textOnly := []byte(`{"width":"600rpx","height":"300rpx","background":"#fff",
		"views":[{"type":"text","text":"{{greeting}}","css":{"left":"40rpx","top":"100rpx","fontSize":"48rpx"}}]}`)
	s.putTemplate("greeting", textOnly, http.StatusCreated)

	body := map[string]any{"template": "greeting", "page": "pages/secret/unpublished", "scene": "x",
		"data": map[string]string{"greeting": "新年快乐"}}
	j := s.await(s.submit(body).ID)
	if j.Status != "succeeded" {
		t.Fatalf("job = %+v (error %+v), want succeeded on an unpublished page", j, j.Error)
	}
	if n := s.sim.Total("/wxa/getwxacodeunlimit"); n != 0 {
		t.Errorf("code calls = %d, want 0", n)
	}
	resp, _ := download(t, j.URL)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("poster download: %s", resp.Status)
	}
	// Another page and scene, the same data: the same poster.
	body["page"], body["scene"] = pageIndex, "other"
	if again := s.submit(body); again.ID != j.ID {
		t.Errorf("another page gave job %s, want %s: page and scene are unused", again.ID, j.ID)
	}
	// No page or scene at all is fine too.
	delete(body, "page")
	delete(body, "scene")
	if again := s.submit(body); again.ID != j.ID {
		t.Errorf("no page gave job %s, want %s", again.ID, j.ID)
	}
	if n := s.sim.Total("/wxa/getwxacodeunlimit"); n != 0 {
		t.Errorf("code calls = %d, want 0", n)
	}
}
