package wechat

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// The example of 附录1-JS-SDK使用权限签名算法. WeChat's current pages (and
// WeCom's copy, developer.work.weixin.qq.com/document/path/96909) sign a URL
// with a query; older copies of the same appendix signed the bare domain.
const (
	jsTicket    = "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"
	jsNonce     = "Wm3WZYTPz0wzccnW"
	jsTimestamp = 1414587457
)

func TestSignJSSDKOfficialExample(t *testing.T) {
	tests := []struct{ url, want string }{
		{"http://mp.weixin.qq.com?params=value", "0f9de62fce790f9a083d5c99e95740ceb90c27ed"},
		{"http://mp.weixin.qq.com", "f4d90daf4b3bca3078ab155816175ba34c443a7b"},
	}
	for _, tt := range tests {
		if got := SignJSSDK(jsTicket, jsNonce, jsTimestamp, tt.url); got != tt.want {
			t.Errorf("SignJSSDK(%q) = %s, want %s", tt.url, got, tt.want)
		}
	}
}

func TestSignJSSDKRawValues(t *testing.T) {
	// sha1("jsapi_ticket=t&noncestr=n&timestamp=1&url=https://a.com/?x=1&y=<2>")
	const u = "https://a.com/?x=1&y=<2>"
	got := SignJSSDK("t", "n", 1, u)
	if got != SignJSSDK("t", "n", 1, u) || len(got) != 40 {
		t.Fatalf("signature %q is not a stable 40-char hex", got)
	}
	for _, escaped := range []string{"https://a.com/?x=1&amp;y=&lt;2&gt;", "https%3A%2F%2Fa.com%2F%3Fx%3D1%26y%3D%3C2%3E"} {
		if SignJSSDK("t", "n", 1, escaped) == got {
			t.Errorf("escaped url %q signs like the raw one", escaped)
		}
	}
}

func TestSignURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://mp.weixin.qq.com?params=value", "http://mp.weixin.qq.com/?params=value"},
		{"http://mp.weixin.qq.com", "http://mp.weixin.qq.com/"},
		{"https://example.com/", "https://example.com/"},
		{"https://example.com/share.html?id=1&from=u7#/poster?x=1", "https://example.com/share.html?id=1&from=u7"},
		{"https://example.com/a?b=1&c=2#", "https://example.com/a?b=1&c=2"},
		{"https://example.com#frag", "https://example.com/"},
		{"https://example.com/p?q=%E4%B8%AD&x=a%26b", "https://example.com/p?q=%E4%B8%AD&x=a%26b"},
		{"https://example.com/a%2Fb/../c", "https://example.com/a%2Fb/../c"},
		{"https://example.com/?from=singlemessage&isappinstalled=0", "https://example.com/?from=singlemessage&isappinstalled=0"},
		{"HTTPS://Example.COM/Path?Q=A", "https://example.com/Path?Q=A"},
		{"http://example.com:80/x", "http://example.com/x"},
		{"https://example.com:443?x", "https://example.com/?x"},
		{"https://example.com:8443/x", "https://example.com:8443/x"},
		{"https://example.com:08443/x", "https://example.com:8443/x"},
		{"http://example.com:0080/x", "http://example.com/x"},
		{"http://example.com:/x", "http://example.com/x"},
		{"http://[::1]:8080/x", "http://[::1]:8080/x"},
		{"  https://example.com/x \n", "https://example.com/x"},
		{"https://example.com/?", "https://example.com/?"},
	}
	for _, tt := range tests {
		got, err := SignURL(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("SignURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestSignURLBad(t *testing.T) {
	long := "https://example.com/?q=" + strings.Repeat("a", MaxSignURLLen)
	tests := []string{
		"",
		"   ",
		"#frag",
		"/relative/path",
		"example.com/page",
		"//example.com/page",
		"ftp://example.com/",
		"javascript:alert(1)",
		"http:example.com",
		"http:/example.com",
		"http://",
		"http:///path",
		"https://user:pw@example.com/",
		"https://example.com@evil.com/",
		"https://example.com/a b",
		"https://example.com/\x00",
		"https://example.com/中文",
		"https://example.com\\@evil.com/",
		"https://example.com:99999999/",
		"https://example.com:65536/",
		"https://example.com:0/",
		"https://example.com:port/",
		"https://exa mple.com/",
		"https://ex%61mple.com/",
		"http://[fe80::1%25en0]/",
		long,
	}
	for _, in := range tests {
		got, err := SignURL(in)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "url" {
			t.Errorf("SignURL(%.40q) = %q, %v; want a *FieldError for url", in, got, err)
		}
	}
}

func TestSignURLThenSign(t *testing.T) {
	u, err := SignURL("http://mp.weixin.qq.com/?params=value#section")
	if err != nil {
		t.Fatal(err)
	}
	// The browser's location.href of the official example's page.
	if want := SignJSSDK(jsTicket, jsNonce, jsTimestamp, "http://mp.weixin.qq.com/?params=value"); SignJSSDK(jsTicket, jsNonce, jsTimestamp, u) != want {
		t.Errorf("signed %q", u)
	}
}

func TestAllowedJSDomain(t *testing.T) {
	domains := []string{"example.com", " Share.Example.ORG ", "https://cdn.example.net/", "wx.qq.com/mp"}
	tests := []struct {
		url  string
		want bool
	}{
		{"https://example.com/poster?id=1", true},
		{"http://example.com", true},
		{"https://EXAMPLE.com:8443/x", true}, // port ignored, case-insensitive
		{"https://share.example.org/", true},
		{"https://cdn.example.net/a", true},
		{"https://example.com.#x", false}, // trailing dot is another host to WeChat
		{"https://www.example.com/", false},
		{"https://evil-example.com/", false},
		{"https://example.com.evil.com/", false},
		{"https://evilexample.com/", false},
		{"https://example.co/", false},
		{"https://example.com@evil.com/", false},
		{"https://evil.com/?u=https://example.com/", false},
		{"https://evil.com/#example.com", false},
		{"ftp://example.com/", false},
		{"example.com", false},
		{"", false},
		{"https://wx.qq.com/mp", true},
		{"https://wx.qq.com/mp/page?x=1", true},
		{"https://wx.qq.com/", false},
		{"https://wx.qq.com/mpx", false},
		{"https://wx.qq.com/other/mp", false},
	}
	for _, tt := range tests {
		if got := AllowedJSDomain(tt.url, domains); got != tt.want {
			t.Errorf("AllowedJSDomain(%q) = %v, want %v", tt.url, got, tt.want)
		}
	}
	if AllowedJSDomain("https://example.com/", nil) || AllowedJSDomain("https://example.com/", []string{"", " ", "/"}) {
		t.Error("empty domain list allows a page")
	}
}

func TestNewNonce(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9]{16}$`)
	seen := make(map[string]bool)
	counts := make(map[rune]int)
	for range 5000 {
		n := NewNonce()
		if !re.MatchString(n) {
			t.Fatalf("nonce %q is not 16 [A-Za-z0-9]", n)
		}
		if seen[n] {
			t.Fatalf("nonce %q repeated", n)
		}
		seen[n] = true
		for _, r := range n {
			counts[r]++
		}
	}
	// 80,000 characters over 62 symbols: about 1290 each. Every symbol shows
	// up, none dominates (a modulo bias or a stuck reader would).
	if len(counts) != 62 {
		t.Errorf("only %d distinct characters", len(counts))
	}
	for r, c := range counts {
		if c < 900 || c > 1700 {
			t.Errorf("character %q appeared %d times", r, c)
		}
	}
}
