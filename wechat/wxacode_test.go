package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wxposter/wxposter/internal/testenv"
)

func tinyImage(tb testing.TB, format string) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.Black)
	var buf bytes.Buffer
	var err error
	if format == "png" {
		err = png.Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, nil)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// fakeWeChat answers stable_token with a fixed token and the code endpoint
// with whatever code() returns; it records the code request bodies.
type fakeWeChat struct {
	mu     sync.Mutex
	bodies [][]byte
	tokens int
	code   func(w http.ResponseWriter)
}

func (f *fakeWeChat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/cgi-bin/stable_token":
		f.tokens++
		w.Header().Set("Content-Type", "application/json; encoding=utf-8")
		_, _ = w.Write([]byte(`{"access_token":"TOKEN-` + strings.Repeat("x", 40) + `","expires_in":7200}`))
	case "/wxa/getwxacodeunlimit":
		f.bodies = append(f.bodies, b)
		f.code(w)
	default:
		http.NotFound(w, r)
	}
}

func newTestClient(t *testing.T, h http.Handler) (*Client, App) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return New(testenv.Redis(t), WithBaseURL(srv.URL)), App{AppID: testenv.AppID(), Secret: "s3cr3t"}
}

func TestGetUnlimitedCodeClassifiesAnswers(t *testing.T) {
	jpg, pngb := tinyImage(t, "jpeg"), tinyImage(t, "png")
	cases := []struct {
		name        string
		status      int
		contentType string
		body        []byte
		wantType    string // on success
		wantCode    int    // errcode expected
		wantErr     error
		permanent   bool
	}{
		{"jpeg", 200, "image/jpeg", jpg, "image/jpeg", 0, nil, false},
		{"jpeg with params", 200, "image/jpeg; charset=binary", jpg, "image/jpeg", 0, nil, false},
		{"transparent png", 200, "image/png", pngb, "image/png", 0, nil, false},
		{"png labelled jpeg", 200, "image/jpeg", pngb, "image/png", 0, nil, false},
		{"json error, odd header", 200, "application/json; encoding=utf-8", []byte(`{"errcode":41030,"errmsg":"invalid page rid: 1"}`), "", 41030, nil, true},
		{"json error as text/plain", 200, "text/plain", []byte(`{"errcode":-1,"errmsg":"system error"}`), "", -1, nil, false},
		{"json error disguised as image", 200, "image/jpeg", []byte(` {"errcode":45009,"errmsg":"reach max api daily quota limit"}`), "", 45009, nil, false},
		{"html from a proxy", 200, "text/html", []byte(`<html>bad gateway</html>`), "", 0, ErrUnexpectedPayload, false},
		{"image header, garbage body", 200, "image/jpeg", []byte(`GIF89a...`), "", 0, ErrUnexpectedPayload, false},
		{"jpeg bytes, json header", 200, "application/json", jpg, "", 0, ErrUnexpectedPayload, false},
		{"5xx", 502, "text/html", []byte(`bad gateway`), "", 0, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, app := newTestClient(t, &fakeWeChat{code: func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", tc.contentType)
				w.WriteHeader(tc.status)
				_, _ = w.Write(tc.body)
			}})
			img, err := c.GetUnlimitedCode(context.Background(), app, UnlimitedCode{Scene: "a", Page: "pages/index/index"})
			var we *Error
			var se *StatusError
			switch {
			case tc.wantType != "":
				if err != nil || img.ContentType != tc.wantType {
					t.Fatalf("got %v, %v; want %s", img, err, tc.wantType)
				}
			case tc.wantCode != 0:
				if !errors.As(err, &we) || we.Code != tc.wantCode || IsPermanent(err) != tc.permanent {
					t.Fatalf("err = %v; want errcode %d permanent=%v", err, tc.wantCode, tc.permanent)
				}
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) || IsPermanent(err) {
					t.Fatalf("err = %v; want %v (transient)", err, tc.wantErr)
				}
			case tc.status != 200:
				if !errors.As(err, &se) || se.Status != tc.status || IsPermanent(err) {
					t.Fatalf("err = %v; want transient HTTP %d", err, tc.status)
				}
			}
		})
	}
}

func TestGetUnlimitedCodeSendsRealJSONTypes(t *testing.T) {
	f := &fakeWeChat{code: func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write(tinyImage(t, "jpeg"))
	}}
	c, app := newTestClient(t, f)
	no := false
	req := UnlimitedCode{Scene: "a=1&b=2", Page: "pages/index/index", CheckPath: &no, EnvVersion: EnvTrial,
		Width: 600, LineColor: &Color{R: 7, G: 193, B: 96}, IsHyaline: true}
	if _, err := c.GetUnlimitedCode(context.Background(), app, req); err != nil {
		t.Fatal(err)
	}
	body := string(f.bodies[0])
	for _, want := range []string{`"scene":"a=1&b=2"`, `"check_path":false`, `"width":600`, `"env_version":"trial"`,
		`"auto_color":false`, `"line_color":{"r":7,"g":193,"b":96}`, `"is_hyaline":true`} {
		if !strings.Contains(body, want) {
			t.Errorf("body %s lacks %s", body, want)
		}
	}
	var m map[string]any
	if err := json.Unmarshal(f.bodies[0], &m); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
}

func TestGetUnlimitedCodeValidatesFirst(t *testing.T) {
	f := &fakeWeChat{code: func(w http.ResponseWriter) { t.Error("WeChat was called") }}
	c, app := newTestClient(t, f)
	_, err := c.GetUnlimitedCode(context.Background(), app, UnlimitedCode{Scene: strings.Repeat("x", 33)})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "scene" {
		t.Fatalf("err = %v, want a scene FieldError", err)
	}
}

func TestTokenErrorRetriesOnceWithSameBody(t *testing.T) {
	calls := 0
	f := &fakeWeChat{}
	f.code = func(w http.ResponseWriter) {
		calls++
		if calls == 1 {
			_, _ = w.Write([]byte(`{"errcode":40001,"errmsg":"invalid credential"}`))
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write(tinyImage(t, "jpeg"))
	}
	c, app := newTestClient(t, f)
	if _, err := c.GetUnlimitedCode(context.Background(), app, UnlimitedCode{Scene: "retry", Page: "p"}); err != nil {
		t.Fatal(err)
	}
	if calls != 2 || f.tokens != 2 {
		t.Fatalf("code calls = %d, token fetches = %d; want 2 and 2", calls, f.tokens)
	}
	if !bytes.Equal(f.bodies[0], f.bodies[1]) || len(f.bodies[1]) == 0 {
		t.Fatalf("retry body %q differs from original %q", f.bodies[1], f.bodies[0])
	}
}

func TestTokenErrorTwiceGivesUp(t *testing.T) {
	f := &fakeWeChat{code: func(w http.ResponseWriter) {
		_, _ = w.Write([]byte(`{"errcode":42001,"errmsg":"access_token expired"}`))
	}}
	c, app := newTestClient(t, f)
	_, err := c.GetUnlimitedCode(context.Background(), app, UnlimitedCode{Scene: "x"})
	var we *Error
	if !errors.As(err, &we) || we.Code != 42001 || IsPermanent(err) {
		t.Fatalf("err = %v, want transient 42001", err)
	}
	if len(f.bodies) != 2 {
		t.Fatalf("code calls = %d, want 2 (one retry only)", len(f.bodies))
	}
}

func TestErrorsNeverContainSecrets(t *testing.T) {
	rdb := testenv.Redis(t)
	app := App{AppID: testenv.AppID(), Secret: "the-app-secret"}
	// A cached token, and a WeChat that is down: the network error names the URL.
	const token = "CACHED-TOKEN-VALUE-0123456789"
	c := New(rdb, WithBaseURL("http://127.0.0.1:1"))
	if err := c.tokens.cache.store(context.Background(), app.AppID, token, 7200); err != nil {
		t.Fatal(err)
	}
	_, err := c.GetUnlimitedCode(context.Background(), app, UnlimitedCode{Scene: "x"})
	if err == nil {
		t.Fatal("want an error")
	}
	if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), app.Secret) {
		t.Fatalf("error leaks a secret: %v", err)
	}
	if !strings.Contains(err.Error(), "access_token=REDACTED") {
		t.Errorf("error %v should show the redacted URL", err)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.weixin.qq.com/wxa/getwxacodeunlimit?access_token=abc": "https://api.weixin.qq.com/wxa/getwxacodeunlimit?access_token=REDACTED",
		"https://x/sns/jscode2session?appid=wx1&js_code=c&secret=s":        "https://x/sns/jscode2session?appid=wx1&js_code=REDACTED&secret=REDACTED",
		"https://x/cgi-bin/ticket/getticket?type=jsapi":                    "https://x/cgi-bin/ticket/getticket?type=jsapi",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%s) = %s, want %s", in, got, want)
		}
	}
}

// A code call slower than the client's usual timeout is waited for (up to
// the code timeout): giving up would pay for the same code again on the
// retry.
func TestCodeCallOutlastsTheHTTPTimeout(t *testing.T) {
	jpg := tinyImage(t, "jpeg")
	for _, tc := range []struct {
		name        string
		codeTimeout time.Duration
		wantErr     bool
	}{
		{"code timeout longer than the answer", 5 * time.Second, false},
		{"code timeout shorter than the HTTP timeout: the HTTP timeout", 10 * time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeWeChat{code: func(w http.ResponseWriter) {
				time.Sleep(600 * time.Millisecond) // a slow WeChat
				w.Header().Set("Content-Type", "image/jpeg")
				_, _ = w.Write(jpg)
			}}
			srv := httptest.NewServer(f)
			t.Cleanup(srv.Close)
			c := New(testenv.Redis(t), WithBaseURL(srv.URL), WithHTTPClient(&http.Client{Timeout: 200 * time.Millisecond}),
				WithCodeTimeout(tc.codeTimeout))
			img, err := c.GetUnlimitedCode(context.Background(), App{AppID: testenv.AppID(), Secret: "s3cr3t"},
				UnlimitedCode{Scene: "slow", Page: "pages/index/index"})
			if tc.wantErr != (err != nil) || (err == nil && img.ContentType != "image/jpeg") {
				t.Fatalf("code call = %v, %v; want error %v", img, err, tc.wantErr)
			}
			f.mu.Lock() // the handler of a call given up on may still run
			tokens, codes := f.tokens, len(f.bodies)
			f.mu.Unlock()
			if tokens != 1 || codes != 1 {
				t.Errorf("calls: %d tokens, %d codes; want 1 and 1", tokens, codes)
			}
		})
	}
}
