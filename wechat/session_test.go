package wechat

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/wxsim"
)

func TestCode2Session(t *testing.T) {
	app := newApp()
	sim := wxsim.New(wxsim.WithApp(app.AppID, app.Secret))
	srv := httptest.NewServer(sim)
	defer srv.Close()
	c := New(testenv.Redis(t), WithBaseURL(srv.URL))
	ctx := context.Background()

	code := "081a&b=c+d" // characters that must be escaped in the query
	s, err := c.Code2Session(ctx, app, code)
	if err != nil {
		t.Fatal(err) // the simulator answers 40097 if an access_token is sent
	}
	if s.OpenID != wxsim.OpenID(app.AppID, code) {
		t.Fatalf("openid %s, want the one for the exact code", s.OpenID)
	}
	if key, ok := sim.SessionKey(app.AppID, s.OpenID); !ok || key != string(s.SessionKey) {
		t.Fatal("session_key differs from the simulator's")
	}
	if out := fmt.Sprintf("%v %+v %#v", s, s, s); strings.Contains(out, string(s.SessionKey)) {
		t.Fatalf("session_key printed: %s", out)
	}
	_, err = c.Code2Session(ctx, app, code) // codes work once
	var we *Error
	if !errors.As(err, &we) || we.Code != 40029 {
		t.Fatalf("reused code: %v, want 40029", err)
	}
	if n := sim.Total("/cgi-bin/stable_token"); n != 0 {
		t.Fatalf("login fetched %d tokens; it needs none", n)
	}
}
