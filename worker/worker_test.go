package worker

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/wxposter/wxposter/poster/imagesrc"
	"github.com/wxposter/wxposter/wechat"
)

func TestRetryDelay(t *testing.T) {
	for n, want := range map[int]time.Duration{0: time.Second, 1: 2 * time.Second, 3: 8 * time.Second, 6: time.Minute, 20: time.Minute} {
		got := RetryDelay(n, errors.New("x"), nil)
		if got < want || got > want+want/4 {
			t.Errorf("RetryDelay(%d) = %s, want %s plus up to 25%% jitter", n, got, want)
		}
	}
	quota := &wechat.Error{Code: wechat.CodeMinuteQuota}
	if d := RetryDelay(0, fmt.Errorf("wrapped: %w", quota), nil); d < time.Second || d > 61*time.Second {
		t.Errorf("45011 delay %s should reach into the next minute", d)
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		code      string
		permanent bool
	}{
		{"unpublished page", &wechat.Error{Code: 41030, Message: "invalid page"}, "41030", true},
		{"busy", fmt.Errorf("call: %w", &wechat.Error{Code: -1}), "-1", false},
		{"expired token", &wechat.Error{Code: 42001}, "42001", false},
		{"field", &wechat.FieldError{Field: "scene", Rule: "bad"}, "invalid_request", true},
		{"timeout", context.DeadlineExceeded, "timeout", false},
		{"network", errors.New("connection refused"), "unavailable", false},
		{"wrapped jobErr", fmt.Errorf("x: %w", &jobErr{code: "render_failed"}), "render_failed", false},
	} {
		je := classify(tc.err)
		if je.code != tc.code || je.permanent != tc.permanent {
			t.Errorf("%s: got %s permanent=%v, want %s permanent=%v", tc.name, je.code, je.permanent, tc.code, tc.permanent)
		}
	}
	je := classify(&wechat.Error{Code: 41030, Message: "invalid page rid: 1"})
	if je.errcode == nil || *je.errcode != 41030 || je.public().Message == "" {
		t.Fatalf("public error %+v", je.public())
	}
}

// A transparent code asked for as JPEG comes out white where it was
// transparent (JPEG has no alpha), not black.
func TestPlainCodeTranscodesOverWhite(t *testing.T) {
	h := &Handler{maxPixels: 16_000_000}
	data, ct, err := h.plainCode(&wechat.Image{Data: transparentPNG(t), ContentType: "image/png"}, "jpg", 85)
	if err != nil || ct != "image/jpeg" {
		t.Fatalf("plainCode: %s, %v", ct, err)
	}
	img, format, err := imagesrc.Decode(data, 0)
	if err != nil || format != "jpeg" {
		t.Fatalf("decode: %s, %v", format, err)
	}
	r, g, b, _ := img.At(0, 0).RGBA()
	if r>>8 < 250 || g>>8 < 250 || b>>8 < 250 {
		t.Fatalf("transparent pixel became %d %d %d, want white", r>>8, g>>8, b>>8)
	}
}
