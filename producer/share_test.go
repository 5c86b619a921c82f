package producer

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wxposter/wxposter/wechat"
)

func TestCheckShareAge(t *testing.T) {
	s := &Server{shareMaxAge: 24 * time.Hour}
	now := time.Now()
	for _, tc := range []struct {
		name string
		ts   int64
		ok   bool
	}{
		{"fresh", now.Add(-time.Minute).Unix(), true},
		{"just inside", now.Add(-23 * time.Hour).Unix(), true},
		{"1970 (issue 9)", 1, false},
		{"missing", 0, false},
		{"older than the max age", now.Add(-25 * time.Hour).Unix(), false},
		{"from the future", now.Add(time.Hour).Unix(), false},
	} {
		if got := s.checkShareAge(tc.ts, now); (got == "") != tc.ok {
			t.Errorf("%s: rule %q, want ok=%v", tc.name, got, tc.ok)
		}
	}
}

func TestCheckAvatarAndNickname(t *testing.T) {
	for v, ok := range map[string]bool{
		"": true, "https://thirdwx.qlogo.cn/a/132": true,
		"javascript:alert(1)": false, "http://thirdwx.qlogo.cn/a": false, "data:image/png;base64,AAAA": false,
		"https://": false, "https://user:pw@example.com/": false, "//example.com/a": false,
	} {
		if got := checkAvatarURL(v); (got == "") != ok {
			t.Errorf("avatar %q: rule %q, want ok=%v", v, got, ok)
		}
	}
	// Nicknames are text: markup is allowed (and served back as text).
	for v, ok := range map[string]bool{
		"爱丽丝 🌸": true, "<script>alert(1)</script>": true, "a\x00b": false, "a\nb": false, "\xff": false,
	} {
		if got := checkNickname(v); (got == "") != ok {
			t.Errorf("nickname %q: rule %q, want ok=%v", v, got, ok)
		}
	}
}

// fakeWeChat answers every login.
type fakeWeChat struct{ logins int }

func (f *fakeWeChat) JSAPITicket(context.Context, wechat.App) (string, error) { return "", nil }
func (f *fakeWeChat) ForceRefreshToken(context.Context, wechat.App) error     { return nil }
func (f *fakeWeChat) Code2Session(context.Context, wechat.App, string) (*wechat.Session, error) {
	f.logins++
	return &wechat.Session{OpenID: "o1", SessionKey: "k"}, nil
}

// issue 9: /v1/wx/login called WeChat for every unauthenticated request.
func TestLoginIsRateLimited(t *testing.T) {
	wx := &fakeWeChat{}
	_, ts, _ := faultServer(t, WithWeChat(wx), WithLoginRate(3, 0))
	var codes []int
	for range 5 {
		code, _ := do(t, "POST", ts.URL+"/v1/wx/login", `{"code":"c"}`)
		codes = append(codes, code)
	}
	if codes[2] != http.StatusOK || codes[3] != http.StatusTooManyRequests || wx.logins != 3 {
		t.Fatalf("answers %v, WeChat calls %d; want 3 logins then 429s", codes, wx.logins)
	}
}

// issue 9: with the API open (no keys), anyone could list a group's
// members; now a session is required.
func TestOpenAPINeverListsMembersWithoutSession(t *testing.T) {
	_, ts, _ := faultServer(t)
	code, body := do(t, "GET", ts.URL+"/v1/groups/tGgroup1/members", "")
	if code != http.StatusUnauthorized || !strings.Contains(body["error"].(map[string]any)["code"].(string), "session") {
		t.Fatalf("%d %v; want 401 asking for a session", code, body)
	}
}
