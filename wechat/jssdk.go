package wechat

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// JSConfig is what an official-account page passes to wx.config (with its
// jsApiList). Timestamp and NonceStr are exactly the values signed.
type JSConfig struct {
	AppID     string `json:"appId"`
	Timestamp int64  `json:"timestamp"`
	NonceStr  string `json:"nonceStr"`
	Signature string `json:"signature"`
}

// SignJSSDK is the JS-SDK signature (附录1-JS-SDK使用权限签名算法): the
// lower-case hex SHA-1 of
//
//	jsapi_ticket=T&noncestr=N&timestamp=TS&url=U
//
// with the fields in ASCII order and raw values: nothing is URL- or
// HTML-escaped, since WeChat signs the page's location.href as is. Prepare
// url with SignURL.
func SignJSSDK(ticket, nonceStr string, timestamp int64, url string) string {
	s := "jsapi_ticket=" + ticket + "&noncestr=" + nonceStr +
		"&timestamp=" + strconv.FormatInt(timestamp, 10) + "&url=" + url
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// MaxSignURLLen bounds the page URLs SignURL accepts.
const MaxSignURLLen = 4096

// SignURL turns a page URL into the string WeChat compares the signature
// with: what location.href.split('#')[0] gives on that page. It must be an
// absolute http or https URL with a host. The #fragment is cut; scheme and
// host are lower-cased, a default port (:80, :443) is dropped and an empty
// path becomes "/" (http://example.com?a=1 -> http://example.com/?a=1), as a
// browser does. Path and query are kept byte for byte: never unescaped,
// re-escaped or HTML-escaped (&amp; breaks the signature).
//
// Characters a browser would have percent-encoded (spaces, controls,
// non-ASCII, '\') and user:password@ are refused rather than guessed at.
func SignURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", &FieldError{"url", "is required"}
	}
	if len(raw) > MaxSignURLLen {
		return "", &FieldError{"url", "must be at most " + strconv.Itoa(MaxSignURLLen) + " bytes"}
	}
	raw, _, _ = strings.Cut(raw, "#")
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return "", &FieldError{"url", "must be percent-encoded as location.href gives it (no spaces, control, non-ASCII or '\\' characters)"}
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", &FieldError{"url", "is not a valid URL"}
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", &FieldError{"url", "must be an absolute http or https URL"}
	}
	if u.Opaque != "" || u.Hostname() == "" || strings.Contains(u.Host, "%") {
		return "", &FieldError{"url", "must have a host (http://example.com/page)"}
	}
	if u.User != nil {
		return "", &FieldError{"url", "must not contain user info"}
	}
	// The authority ends at the first '/' or '?' after "scheme://"; everything
	// from there on is signed untouched.
	rest := raw[len(u.Scheme)+len("://"):]
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		rest = rest[i:]
	} else {
		rest = ""
	}
	if !strings.HasPrefix(rest, "/") {
		rest = "/" + rest
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6 literal
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return "", &FieldError{"url", "has a bad port"}
		}
		if !(scheme == "http" && n == 80) && !(scheme == "https" && n == 443) {
			host = net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(n)) // 0080 -> 80, like a browser
		}
	}
	return scheme + "://" + host + rest, nil
}

// AllowedJSDomain reports whether pageURL is on one of domains, the JS
// 接口安全域名 configured for the official account. The page's host (without
// port, case-insensitive) must equal an entry exactly: WeChat's documentation
// does not say that an entry covers its subdomains (and says the opposite for
// the similar 网页授权域名), so "example.com" allows neither
// "www.example.com" nor "evil-example.com"; list each host. An entry may
// name a path, as WeChat's settings allow ("wx.qq.com/mp"): the page's path
// must then be that path or below it. Entries are written without a scheme;
// a stray "https://" or trailing "/" is ignored.
func AllowedJSDomain(pageURL string, domains []string) bool {
	page, err := SignURL(pageURL)
	if err != nil {
		return false
	}
	u, err := url.Parse(page)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	if host == "" || strings.HasSuffix(host, ".") {
		return false
	}
	for _, d := range domains {
		d = strings.ToLower(strings.TrimSpace(d))
		for _, p := range []string{"https://", "http://"} {
			d = strings.TrimPrefix(d, p)
		}
		d = strings.TrimRight(d, "/")
		dh, dp, hasPath := strings.Cut(d, "/")
		if dh == "" || dh != host {
			continue
		}
		if !hasPath {
			return true
		}
		prefix := "/" + dp
		if u.EscapedPath() == prefix || strings.HasPrefix(u.EscapedPath(), prefix+"/") {
			return true
		}
	}
	return false
}

const nonceAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewNonce returns a 16-character [A-Za-z0-9] nonce from crypto/rand.
func NewNonce() string {
	const n = 16
	out := make([]byte, 0, n)
	var buf [32]byte
	for len(out) < n {
		_, _ = rand.Read(buf[:]) // never fails since Go 1.24
		for _, b := range buf {
			// 248 = 4*62: rejecting larger bytes keeps every character equally likely.
			if b < 248 && len(out) < n {
				out = append(out, nonceAlphabet[b%62])
			}
		}
	}
	return string(out)
}
