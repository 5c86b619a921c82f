package imagesrc

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wxposter/wxposter/internal/testimage"
)

const secret = "access_token=SECRET"

// loopbackOK lets a Fetcher reach httptest servers, which listen on
// 127.0.0.1; without it every test server is refused as loopback.
var loopbackOK = WithAllowPrivate(netip.MustParsePrefix("127.0.0.0/8"))

func avatarPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, testimage.Poster(w, h)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// newAvatarServer serves a few paths that exercise the fetch policy.
func newAvatarServer(t *testing.T) *httptest.Server {
	t.Helper()
	small := avatarPNG(t, 64, 64)
	big := avatarPNG(t, 300, 300)
	mux := http.NewServeMux()
	mux.HandleFunc("/avatar.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(small)
	})
	mux.HandleFunc("/big.png", func(w http.ResponseWriter, r *http.Request) {
		w.Write(big)
	})
	mux.HandleFunc("/chunked.png", func(w http.ResponseWriter, r *http.Request) {
		// No Content-Length: the limit must hold while reading.
		for i := 0; i < len(big); i += 1024 {
			w.Write(big[i:min(i+1024, len(big))])
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/missing.png", http.NotFound)
	mux.HandleFunc("/text", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"errcode":40001}`))
	})
	mux.HandleFunc("/slow.png", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/to-evil", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://evil.example.com/x.png?"+secret, http.StatusFound)
	})
	mux.HandleFunc("/to-file", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
	})
	mux.HandleFunc("/to-avatar", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/avatar.png?"+secret, http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop?"+secret, http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestFetch(t *testing.T) {
	srv := newAvatarServer(t)
	host := strings.TrimPrefix(srv.URL, "http://")
	allowed := NewFetcher(WithAllowedHosts(host), WithTimeout(time.Second), loopbackOK)
	tests := []struct {
		name    string
		f       *Fetcher
		url     string
		refused bool   // errors.Is(err, ErrFetchRefused)
		errHas  string // "" means success
	}{
		{"allowed host", allowed, srv.URL + "/avatar.png?" + secret, false, ""},
		{"allowed host, upper-case scheme", allowed, strings.ToUpper(srv.URL) + "/avatar.png", false, ""},
		{"redirect within the allowed host", allowed, srv.URL + "/to-avatar?" + secret, false, ""},
		{"host not allowed", NewFetcher(), srv.URL + "/avatar.png?" + secret, true, "not allowed"},
		{"port not allowed", NewFetcher(WithAllowedHosts("127.0.0.1"), loopbackOK), srv.URL + "/avatar.png", true, "not allowed"},
		{"allowed host on loopback, by default", NewFetcher(WithAllowedHosts(host)), srv.URL + "/avatar.png?" + secret, true, "127.0.0.1 is a loopback address"},
		{"redirect to a host not allowed", allowed, srv.URL + "/to-evil?" + secret, true, "redirect to http://evil.example.com/x.png"},
		{"redirect to file", allowed, srv.URL + "/to-file", true, "scheme"},
		{"too many redirects", allowed, srv.URL + "/loop?" + secret, true, "more than 3 redirects"},
		{"body over the limit", NewFetcher(WithAllowedHosts(host), WithMaxBytes(1000), loopbackOK), srv.URL + "/big.png?" + secret, true, "exceeds the limit of 1000 bytes"},
		{"chunked body over the limit", NewFetcher(WithAllowedHosts(host), WithMaxBytes(1000), loopbackOK), srv.URL + "/chunked.png", true, "exceeds the limit of 1000 bytes"},
		{"pixels over the limit", NewFetcher(WithAllowedHosts(host), WithMaxPixels(100), loopbackOK), srv.URL + "/avatar.png?" + secret, false, "too many pixels"},
		{"not found", allowed, srv.URL + "/missing.png?" + secret, false, "404"},
		{"not an image", allowed, srv.URL + "/text?" + secret, false, "unknown image format"},
		{"timeout", NewFetcher(WithAllowedHosts(host), WithTimeout(50*time.Millisecond), loopbackOK), srv.URL + "/slow.png?" + secret, false, "deadline exceeded"},
		{"file scheme", allowed, "file:///etc/passwd", true, `scheme "file"`},
		{"ftp scheme", allowed, "ftp://" + host + "/a.png", true, `scheme "ftp"`},
		{"no scheme", allowed, host + "/a.png", true, "refused"},
		{"no host", allowed, "http:///a.png", true, "no host"},
		{"credentials", allowed, "http://user:hunter2@" + host + "/avatar.png", true, "credentials"},
		{"malformed", allowed, "http://%zz/?" + secret, true, "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := tt.f.Fetch(context.Background(), tt.url)
			if tt.errHas == "" {
				if err != nil {
					t.Fatal(err)
				}
				if img.Bounds() != image.Rect(0, 0, 64, 64) {
					t.Errorf("bounds = %v", img.Bounds())
				}
				return
			}
			if err == nil {
				t.Fatalf("Fetch(%s) succeeded, want an error containing %q", tt.url, tt.errHas)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.errHas) {
				t.Errorf("error %q does not contain %q", msg, tt.errHas)
			}
			if errors.Is(err, ErrFetchRefused) != tt.refused {
				t.Errorf("errors.Is(err, ErrFetchRefused) = %v, want %v (err: %v)", !tt.refused, tt.refused, err)
			}
			for _, leak := range []string{"SECRET", "hunter2"} {
				if strings.Contains(msg, leak) {
					t.Errorf("error leaks %q: %s", leak, msg)
				}
			}
		})
	}
}

func TestFetchAllowedHosts(t *testing.T) {
	f := NewFetcher()
	tests := []struct {
		url  string
		want bool
	}{
		{"https://thirdwx.qlogo.cn/mmopen/vi_32/abc/132", true},
		{"http://thirdwx.qlogo.cn/mmopen/vi_32/abc/0", true},
		{"https://THIRDWX.QLOGO.CN/x", true},
		{"https://wx.qlogo.cn/x", true},
		{"https://thirdwx.qlogo.cn:443/x", true},
		{"http://thirdwx.qlogo.cn:80/x", true},
		{"https://thirdwx.qlogo.cn:8443/x", false},
		{"https://evilthirdwx.qlogo.cn/x", false},
		{"https://thirdwx.qlogo.cn.evil.com/x", false},
		{"https://qlogo.cn/x", false},
		{"https://127.0.0.1/x", false},
		{"gopher://thirdwx.qlogo.cn/x", false},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.allow(u) == nil; got != tt.want {
			t.Errorf("allow(%s) = %v, want %v", tt.url, got, tt.want)
		}
	}
}

func TestFetchLeavesClientAlone(t *testing.T) {
	c := &http.Client{Timeout: time.Second}
	NewFetcher(WithHTTPClient(c))
	if c.CheckRedirect != nil {
		t.Error("NewFetcher changed the caller's http.Client")
	}
}

func TestFetchContextCancelled(t *testing.T) {
	srv := newAvatarServer(t)
	f := NewFetcher(WithAllowedHosts(strings.TrimPrefix(srv.URL, "http://")), loopbackOK)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.Fetch(ctx, srv.URL+"/avatar.png"); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}
