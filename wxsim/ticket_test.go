package wxsim

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

func ticket(t *testing.T, srv *httptest.Server, tok, typ string) answer {
	t.Helper()
	q := url.Values{"type": {typ}}
	if tok != "" {
		q.Set("access_token", tok)
	}
	return get(t, srv, PathTicket, q)
}

func TestTicket(t *testing.T) {
	s, srv, clk := newTestSim(t)
	tok := getToken(t, srv)
	tests := []struct {
		name string
		typ  string
		want int
	}{
		{"jsapi", "jsapi", 0},
		{"wx_card", "wx_card", 0},
		{"other type", "oauth", 40097},
		{"no type", "", 40097},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := ticket(t, srv, tok, tt.typ)
			if got := a.errcode(t); got != tt.want {
				t.Fatalf("errcode = %d, want %d: %s", got, tt.want, a)
			}
			if tt.want != 0 {
				return
			}
			tk := a.str(t, "ticket")
			if a.str(t, "errmsg") != "ok" || a.field(t, "expires_in") != 7200.0 || !tokenRE.MatchString(tk) {
				t.Fatalf("answer: %s", a)
			}
			if !s.ValidTicket(tk) {
				t.Fatal("issued ticket not valid")
			}
		})
	}

	t1 := ticket(t, srv, tok, "jsapi").str(t, "ticket")
	t2 := ticket(t, srv, tok, "jsapi").str(t, "ticket")
	if t1 == t2 || !s.ValidTicket(t1) || !s.ValidTicket(t2) {
		t.Fatal("each call must issue a new ticket and keep the previous")
	}
	if s.ValidTicket("forged") || s.ValidTicket("") {
		t.Fatal("unknown ticket reported valid")
	}
	clk.Advance(7200 * time.Second)
	if s.ValidTicket(t2) {
		t.Fatal("expired ticket reported valid")
	}
	if got := do(t, http.MethodPost, srv.URL+PathTicket+"?type=jsapi&access_token="+tok, "").errcode(t); got != 43001 {
		t.Fatalf("POST: %d, want 43001", got)
	}
}
