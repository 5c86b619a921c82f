package wxsim

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"
	"time"
)

var tokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{80,}$`)

func TestTokenErrors(t *testing.T) {
	_, srv, _ := newTestSim(t)
	tests := []struct {
		name   string
		method string
		q      url.Values
		want   int
	}{
		{"ok", http.MethodGet, url.Values{"grant_type": {"client_credential"}, "appid": {testApp}, "secret": {testSecret}}, 0},
		{"bad grant_type", http.MethodGet, url.Values{"grant_type": {"password"}, "appid": {testApp}, "secret": {testSecret}}, 40002},
		{"no grant_type", http.MethodGet, url.Values{"appid": {testApp}, "secret": {testSecret}}, 40002},
		{"no appid", http.MethodGet, url.Values{"grant_type": {"client_credential"}, "secret": {testSecret}}, 41002},
		{"no secret", http.MethodGet, url.Values{"grant_type": {"client_credential"}, "appid": {testApp}}, 41004},
		{"unknown appid", http.MethodGet, url.Values{"grant_type": {"client_credential"}, "appid": {"wxnope"}, "secret": {testSecret}}, 40013},
		{"wrong secret", http.MethodGet, url.Values{"grant_type": {"client_credential"}, "appid": {testApp}, "secret": {"nope"}}, 40125},
		{"POST", http.MethodPost, url.Values{"grant_type": {"client_credential"}, "appid": {testApp}, "secret": {testSecret}}, 43001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, tt.method, srv.URL+PathToken+"?"+tt.q.Encode(), "")
			if a.status != http.StatusOK || a.ctype != jsonContentType {
				t.Fatalf("status %d, content-type %q", a.status, a.ctype)
			}
			if got := a.errcode(t); got != tt.want {
				t.Fatalf("errcode = %d, want %d: %s", got, tt.want, a)
			}
			if tt.want != 0 {
				if !regexp.MustCompile(` rid: [0-9a-f-]+$`).MatchString(a.str(t, "errmsg")) {
					t.Fatalf("errmsg without rid: %s", a)
				}
				return
			}
			if _, has := a.field(t, "errcode").(float64); has {
				t.Fatalf("success carries errcode: %s", a)
			}
			if tok := a.str(t, "access_token"); !tokenRE.MatchString(tok) {
				t.Fatalf("token %q", tok)
			}
			if a.field(t, "expires_in") != 7200.0 {
				t.Fatalf("expires_in: %s", a)
			}
		})
	}
}

func TestTokenInvalidatesPrevious(t *testing.T) {
	s, srv, _ := newTestSim(t)
	stable := stableToken(t, srv, false)
	t1 := getToken(t, srv)
	t2 := getToken(t, srv)
	if t1 == t2 {
		t.Fatal("same token twice")
	}
	tests := []struct {
		tok  string
		want int
	}{{t1, 40001}, {t2, 0}, {stable.str(t, "access_token"), 0}}
	for i, tt := range tests {
		if got := ticket(t, srv, tt.tok, "jsapi").errcode(t); got != tt.want {
			t.Errorf("token %d: errcode = %d, want %d", i, got, tt.want)
		}
	}
	if s.Count(PathTicket, 40001) != 1 || s.Count(PathToken, 0) != 2 {
		t.Fatalf("stats: %v", s.Stats())
	}
}

func TestTokenCheck(t *testing.T) {
	_, srv, clk := newTestSim(t, WithTokenTTL(time.Minute))
	expired := stableToken(t, srv, false).str(t, "access_token")
	clk.Advance(time.Minute)
	tests := []struct {
		name string
		tok  string
		want int
	}{
		{"missing", "", 41001},
		{"unknown", "not-a-token", 40001},
		{"expired", expired, 42001},
		{"fresh", getToken(t, srv), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := post(t, srv, PathUnlimitedCode, tt.tok, `{"scene":"x"}`)
			if tt.want == 0 && a.ctype != "image/jpeg" || tt.want != 0 && a.errcode(t) != tt.want {
				t.Fatalf("code: want %d, got %s", tt.want, a)
			}
			if got := ticket(t, srv, tt.tok, "jsapi").errcode(t); got != tt.want {
				t.Fatalf("ticket errcode = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestTokenExpiresRealTime uses a tiny TTL and the real clock.
func TestTokenExpiresRealTime(t *testing.T) {
	s := New(WithApp(testApp, testSecret), WithTokenTTL(50*time.Millisecond))
	srv := newServer(t, s)
	tok := getToken(t, srv)
	if got := ticket(t, srv, tok, "jsapi").errcode(t); got != 0 {
		t.Fatalf("fresh token: %d", got)
	}
	time.Sleep(80 * time.Millisecond)
	if got := ticket(t, srv, tok, "jsapi").errcode(t); got != 42001 {
		t.Fatalf("errcode = %d, want 42001", got)
	}
}

func stableToken(t *testing.T, srv *httptest.Server, force bool) answer {
	t.Helper()
	body := fmt.Sprintf(`{"grant_type":"client_credential","appid":%q,"secret":%q,"force_refresh":%v}`, testApp, testSecret, force)
	return post(t, srv, PathStableToken, "", body)
}

func TestStableTokenNormalMode(t *testing.T) {
	_, srv, clk := newTestSim(t)
	first := stableToken(t, srv, false)
	tok := first.str(t, "access_token")
	if !tokenRE.MatchString(tok) || first.field(t, "expires_in") != 7200.0 {
		t.Fatalf("first: %s", first)
	}

	clk.Advance(time.Hour)
	again := stableToken(t, srv, false)
	if again.str(t, "access_token") != tok || again.field(t, "expires_in") != 3600.0 {
		t.Fatalf("after an hour: %s", again)
	}

	// A /cgi-bin/token call does not touch the stable token.
	getToken(t, srv)
	if got := stableToken(t, srv, false).str(t, "access_token"); got != tok {
		t.Fatal("/cgi-bin/token changed the stable token")
	}

	// In the last 5 minutes a new token is issued; the old one still works.
	clk.Advance(7200*time.Second - time.Hour - 4*time.Minute)
	renewed := stableToken(t, srv, false)
	newTok := renewed.str(t, "access_token")
	if newTok == tok || renewed.field(t, "expires_in") != 7200.0 {
		t.Fatalf("not renewed: %s", renewed)
	}
	if got := ticket(t, srv, tok, "jsapi").errcode(t); got != 0 {
		t.Fatalf("old stable token: %d", got)
	}
	clk.Advance(4 * time.Minute)
	if got := ticket(t, srv, tok, "jsapi").errcode(t); got != 42001 {
		t.Fatalf("old stable token after expiry: %d", got)
	}
	if got := ticket(t, srv, newTok, "jsapi").errcode(t); got != 0 {
		t.Fatalf("new stable token: %d", got)
	}
}

func TestStableTokenForceRefresh(t *testing.T) {
	s, srv, clk := newTestSim(t)
	plain := getToken(t, srv)
	old := stableToken(t, srv, false).str(t, "access_token")

	forced := stableToken(t, srv, true)
	tok := forced.str(t, "access_token")
	if tok == "" || tok == old {
		t.Fatalf("force_refresh: %s", forced)
	}
	if got := ticket(t, srv, old, "jsapi").errcode(t); got != 40001 {
		t.Fatalf("previous stable token: %d, want 40001", got)
	}
	if got := ticket(t, srv, plain, "jsapi").errcode(t); got != 0 {
		t.Fatalf("/cgi-bin/token token: %d, want 0", got)
	}

	// Less than 30 s since the last forced refresh.
	clk.Advance(29 * time.Second)
	if got := stableToken(t, srv, true).errcode(t); got != 45009 {
		t.Fatalf("too soon: %d, want 45009", got)
	}
	// The refused call did not touch the token.
	if got := stableToken(t, srv, false).str(t, "access_token"); got != tok {
		t.Fatal("refused force_refresh changed the token")
	}

	// 20 per day: 19 more succeed, the 21st fails.
	for i := 2; i <= 20; i++ {
		clk.Advance(30 * time.Second)
		if got := stableToken(t, srv, true).errcode(t); got != 0 {
			t.Fatalf("refresh %d: %d", i, got)
		}
	}
	clk.Advance(time.Minute)
	if got := stableToken(t, srv, true).errcode(t); got != 45009 {
		t.Fatalf("21st refresh: %d, want 45009", got)
	}

	// The count rolls over at midnight China time.
	clk.Advance(24 * time.Hour)
	if got := stableToken(t, srv, true).errcode(t); got != 0 {
		t.Fatalf("next day: %d", got)
	}

	// Reset clears the limits too.
	clk.Advance(time.Second)
	s.Reset()
	if got := stableToken(t, srv, true).errcode(t); got != 0 {
		t.Fatalf("after Reset: %d", got)
	}
}

func TestStableTokenErrors(t *testing.T) {
	_, srv, _ := newTestSim(t)
	tests := []struct {
		name string
		body string
		want int
	}{
		{"ok", `{"grant_type":"client_credential","appid":"` + testApp + `","secret":"` + testSecret + `"}`, 0},
		{"form body", `grant_type=client_credential&appid=` + testApp + `&secret=` + testSecret, 47001},
		{"empty body", ``, 47001},
		{"array", `[]`, 47001},
		{"null", `null`, 47001},
		{"truncated", `{"grant_type":`, 47001},
		{"force_refresh string", `{"grant_type":"client_credential","appid":"` + testApp + `","secret":"` + testSecret + `","force_refresh":"true"}`, 47001},
		{"appid number", `{"grant_type":"client_credential","appid":123,"secret":"x"}`, 47001},
		{"bad grant_type", `{"grant_type":"x","appid":"` + testApp + `","secret":"` + testSecret + `"}`, 40002},
		{"no appid", `{"grant_type":"client_credential","secret":"` + testSecret + `"}`, 41002},
		{"no secret", `{"grant_type":"client_credential","appid":"` + testApp + `"}`, 41004},
		{"unknown appid", `{"grant_type":"client_credential","appid":"wxnope","secret":"` + testSecret + `"}`, 40013},
		{"wrong secret", `{"grant_type":"client_credential","appid":"` + testApp + `","secret":"nope"}`, 40125},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := post(t, srv, PathStableToken, "", tt.body)
			if got := a.errcode(t); got != tt.want {
				t.Fatalf("errcode = %d, want %d: %s", got, tt.want, a)
			}
		})
	}
	if got := get(t, srv, PathStableToken, nil).errcode(t); got != 43002 {
		t.Fatalf("GET: %d, want 43002", got)
	}
}

func TestInvalidateTokens(t *testing.T) {
	s, srv, _ := newTestSim(t)
	plain := getToken(t, srv)
	stable := stableToken(t, srv, false).str(t, "access_token")
	tk := ticket(t, srv, plain, "jsapi").str(t, "ticket")

	s.InvalidateTokens()
	for _, tok := range []string{plain, stable} {
		if got := ticket(t, srv, tok, "jsapi").errcode(t); got != 40001 {
			t.Fatalf("errcode = %d, want 40001", got)
		}
	}
	if !s.ValidTicket(tk) {
		t.Fatal("tickets must survive InvalidateTokens")
	}
	// Normal mode must not hand back the revoked stable token.
	fresh := stableToken(t, srv, false).str(t, "access_token")
	if fresh == stable || ticket(t, srv, fresh, "jsapi").errcode(t) != 0 {
		t.Fatal("no usable stable token after InvalidateTokens")
	}

	// Same through the admin endpoint.
	if a := do(t, http.MethodPost, srv.URL+pathAdminInvalidate, ""); a.errcode(t) != 0 {
		t.Fatalf("admin: %s", a)
	}
	if got := ticket(t, srv, fresh, "jsapi").errcode(t); got != 40001 {
		t.Fatalf("after /sim/invalidate-tokens: %d", got)
	}
}
