package wxsim

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
)

type sessionAnswer struct {
	OpenID     string `json:"openid"`
	SessionKey string `json:"session_key"`
	UnionID    string `json:"unionid"`
}

// serveCode2Session is GET /sns/jscode2session. Any non-empty js_code is
// accepted once per app; openid and unionid are derived from it so a test
// can predict them.
func (s *Sim) serveCode2Session(r *http.Request) reply {
	if r.Method != http.MethodGet {
		return errReply(errRequireGET)
	}
	q := r.URL.Query()
	// WeChat ignores an access_token here; refusing it catches clients that
	// mix up the credential-free login call with the token-based APIs.
	if q.Has("access_token") {
		return errReply(errInvalidArgs)
	}
	if q.Get("grant_type") != "authorization_code" {
		return errReply(errInvalidGrantType)
	}
	appid, code := q.Get("appid"), q.Get("js_code")

	s.mu.Lock()
	defer s.mu.Unlock()
	if _, e := s.authApp(appid, q.Get("secret")); e != nil {
		return errReply(e)
	}
	used := appid + "|" + code
	if code == "" || s.usedCodes[used] {
		return errReply(errInvalidCode)
	}
	s.usedCodes[used] = true

	var key [16]byte
	_, _ = rand.Read(key[:])
	ans := sessionAnswer{
		OpenID:     OpenID(appid, code),
		SessionKey: base64.StdEncoding.EncodeToString(key[:]),
		UnionID:    derivedID("oU", "unionid|"+code, 26),
	}
	s.sessions[appid+"|"+ans.OpenID] = ans.SessionKey
	return jsonReply(ans)
}

// OpenID returns the openid jscode2session answers for (appid, js_code).
func OpenID(appid, jsCode string) string {
	return derivedID("o", appid+"|"+jsCode, 27)
}

func derivedID(prefix, seed string, n int) string {
	sum := sha256.Sum256([]byte(seed))
	return prefix + base64.RawURLEncoding.EncodeToString(sum[:])[:n]
}

// SessionKey returns the latest session_key issued to openid of appid, so a
// test can encrypt user data the way WeChat would.
func (s *Sim) SessionKey(appid, openid string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.sessions[appid+"|"+openid]
	return k, ok
}
