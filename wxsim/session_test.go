package wxsim

import (
	"encoding/base64"
	"net/http/httptest"
	"net/url"
	"testing"
)

func code2session(t *testing.T, srv *httptest.Server, q url.Values) answer {
	t.Helper()
	return get(t, srv, PathCode2Session, q)
}

func sessionQuery(code string) url.Values {
	return url.Values{"appid": {testApp}, "secret": {testSecret}, "js_code": {code}, "grant_type": {"authorization_code"}}
}

func TestCode2Session(t *testing.T) {
	s, srv, _ := newTestSim(t)
	with := func(k, v string) url.Values {
		q := sessionQuery("code-" + k + v)
		if v == "\x00" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
		return q
	}
	tests := []struct {
		name string
		q    url.Values
		want int
	}{
		{"ok", sessionQuery("c1"), 0},
		{"with access_token", with("access_token", "tok"), 40097},
		{"with empty access_token", with("access_token", ""), 40097},
		{"empty code", with("js_code", ""), 40029},
		{"no code", with("js_code", "\x00"), 40029},
		{"unknown appid", with("appid", "wxnope"), 40013},
		{"wrong secret", with("secret", "nope"), 40125},
		{"no appid", with("appid", "\x00"), 41002},
		{"bad grant_type", with("grant_type", "client_credential"), 40002},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := code2session(t, srv, tt.q)
			if got := a.errcode(t); got != tt.want {
				t.Fatalf("errcode = %d, want %d: %s", got, tt.want, a)
			}
		})
	}

	a := code2session(t, srv, sessionQuery("c2"))
	if _, has := a.field(t, "errcode").(float64); has {
		t.Fatalf("success carries errcode: %s", a)
	}
	openid := a.str(t, "openid")
	if openid != OpenID(testApp, "c2") || len(openid) != 28 || openid[0] != 'o' || a.str(t, "unionid") == "" {
		t.Fatalf("answer: %s", a)
	}
	key, err := base64.StdEncoding.DecodeString(a.str(t, "session_key"))
	if err != nil || len(key) != 16 {
		t.Fatalf("session_key %q", a.str(t, "session_key"))
	}
	if got, ok := s.SessionKey(testApp, openid); !ok || got != a.str(t, "session_key") {
		t.Fatalf("SessionKey = %q, %v", got, ok)
	}
	if _, ok := s.SessionKey(testApp, "onobody"); ok {
		t.Fatal("SessionKey for unknown openid")
	}

	// A code works once.
	if got := code2session(t, srv, sessionQuery("c2")).errcode(t); got != 40029 {
		t.Fatalf("reused code: %d, want 40029", got)
	}
	if s.Count(PathCode2Session, 40029) != 3 || s.Count(PathCode2Session, 0) != 2 {
		t.Fatalf("stats: %v", s.Stats())
	}
}
