package e2e

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"image"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wxposter/wxposter/scene"
	"github.com/wxposter/wxposter/wechat"
	"github.com/wxposter/wxposter/wxsim"
)

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("answer %s: %v", b, err)
	}
	return v
}

func TestPosterWithParams(t *testing.T) {
	s := start(t)
	for _, tc := range []struct {
		name   string
		params map[string]string
		inline string // expected inline scene, "" for a stored reference
	}{
		{"fits inline", map[string]string{"id": "42", "from": "u7"}, "from:u7;id:42"},
		{"too long: stored", map[string]string{"activity": "2026-spring-campaign", "from": "user-7f3a9c", "ch": "moments"}, ""},
		{"chinese: stored", map[string]string{"城市": "广州"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := s.await(s.submit(map[string]any{"page": pageIndex, "params": tc.params}).ID)
			if j.Status != "succeeded" {
				t.Fatalf("job %+v", j)
			}
			_, body := download(t, j.URL)
			img, _, err := image.Decode(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			qr := scanQR(t, img)
			sc, ok := strings.CutPrefix(qr, pageIndex+"?scene=")
			if !ok || len(sc) > 32 {
				t.Fatalf("QR %q", qr)
			}
			if tc.inline != "" && sc != tc.inline {
				t.Fatalf("scene %q, want inline %q", sc, tc.inline)
			}
			if tc.inline == "" && !scene.IsRef(sc) {
				t.Fatalf("scene %q, want a stored reference", sc)
			}
			// What the mini-program page does with options.scene.
			code, b := s.call(http.MethodGet, "/v1/scenes/"+url.PathEscape(sc), nil)
			got := decode[struct {
				Scene  string            `json:"scene"`
				Params map[string]string `json:"params"`
			}](t, b)
			if code != http.StatusOK || got.Scene != sc || len(got.Params) != len(tc.params) {
				t.Fatalf("GET /v1/scenes = %d %s", code, b)
			}
			for k, v := range tc.params {
				if got.Params[k] != v {
					t.Fatalf("param %s = %q, want %q", k, got.Params[k], v)
				}
			}
		})
	}
	code, b := s.post(map[string]any{"page": pageIndex, "scene": "a", "params": map[string]string{"a": "b"}})
	if e := decode[apiErr](t, b); code != http.StatusBadRequest || e.Error.Field != "params" {
		t.Fatalf("scene and params: %d %s", code, b)
	}
	if code, _ := s.call(http.MethodGet, "/v1/scenes/"+scene.RefPrefix+"0000000000000000", nil); code != http.StatusNotFound {
		t.Fatalf("unknown reference: %d, want 404", code)
	}
}

func TestJSSDKConfig(t *testing.T) {
	s := start(t)
	page := "https://" + jsDomain + "/activity?id=7&from=share"
	code, b := s.call(http.MethodPost, "/v1/jssdk/config", map[string]string{"app": "shop", "url": page + "#/detail"})
	if code != http.StatusOK {
		t.Fatalf("%d %s", code, b)
	}
	cfg := decode[wechat.JSConfig](t, b)
	if cfg.AppID != s.app.AppID || len(cfg.NonceStr) < 16 || time.Since(time.Unix(cfg.Timestamp, 0)) > time.Minute {
		t.Fatalf("config %+v", cfg)
	}
	ticket, err := s.rdb.HGet(ctxT(t), "wxposter:wx:"+s.app.AppID+":jsapi_ticket", "value").Result()
	if err != nil || !s.sim.ValidTicket(ticket) {
		t.Fatalf("no valid cached ticket: %v", err)
	}
	// Signed over the URL without its fragment, as WeChat requires.
	if want := wechat.SignJSSDK(ticket, cfg.NonceStr, cfg.Timestamp, page); cfg.Signature != want {
		t.Fatalf("signature %s, want %s", cfg.Signature, want)
	}
	if strings.Contains(string(b), ticket) {
		t.Fatal("the answer contains the jsapi_ticket")
	}
	for i := range 5 { // the ticket is cached: one getticket for many pages
		s.call(http.MethodPost, "/v1/jssdk/config", map[string]string{"url": page + "&n=" + string(rune('0'+i))})
	}
	if n := s.sim.Total("/cgi-bin/ticket/getticket"); n != 1 {
		t.Fatalf("getticket calls = %d, want 1", n)
	}
	for _, bad := range []map[string]string{
		{"url": "https://evil.example.org/x"},
		{"url": "https://" + jsDomain + ".evil.org/x"},
		{"url": "/relative"},
		{"url": "javascript:alert(1)"},
		{"url": ""},
	} {
		code, b := s.call(http.MethodPost, "/v1/jssdk/config", bad)
		if e := decode[apiErr](t, b); code != http.StatusBadRequest || e.Error.Field != "url" {
			t.Errorf("%v: %d %s, want 400 naming url", bad, code, b)
		}
	}
}

// encryptFor encrypts plaintext as WeChat does for open data.
func encryptFor(t *testing.T, sessionKey string, plain []byte) (data, iv string) {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(sessionKey)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(key)
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	plain = append(plain, bytes.Repeat([]byte{byte(pad)}, pad)...)
	ivb := make([]byte, aes.BlockSize)
	_, _ = rand.Read(ivb)
	out := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, ivb).CryptBlocks(out, plain)
	return base64.StdEncoding.EncodeToString(out), base64.StdEncoding.EncodeToString(ivb)
}

type loginAnswer struct {
	Session string `json:"session"`
	OpenID  string `json:"openid"`
}

func (s *system) login(t *testing.T, jsCode string) (loginAnswer, string) {
	t.Helper()
	code, b := s.call(http.MethodPost, "/v1/wx/login", map[string]string{"code": jsCode})
	if code != http.StatusOK {
		t.Fatalf("login: %d %s", code, b)
	}
	l := decode[loginAnswer](t, b)
	key, ok := s.sim.SessionKey(s.app.AppID, l.OpenID)
	if !ok || l.Session == "" || l.OpenID != wxsim.OpenID(s.app.AppID, jsCode) {
		t.Fatalf("login answer %s", b)
	}
	if strings.Contains(string(b), key) {
		t.Fatal("the login answer contains the session_key")
	}
	return l, key
}

func TestGroupShare(t *testing.T) {
	s := start(t)
	watermark := `"watermark":{"appid":"` + s.app.AppID + `","timestamp":` + strconv.FormatInt(time.Now().Unix(), 10) + `}`

	// Member 1 shares via wx.getShareInfo (openGId), member 2 enters via
	// wx.getGroupEnterInfo (opengid): the same group.
	alice, aliceKey := s.login(t, "code-alice")
	data, iv := encryptFor(t, aliceKey, []byte(`{"openGId":"tGgroup1",`+watermark+`}`))
	code, b := s.call(http.MethodPost, "/v1/share/group", map[string]string{
		"session": alice.Session, "encryptedData": data, "iv": iv, "nickname": "爱丽丝 🌸", "avatarUrl": "https://thirdwx.qlogo.cn/a/132"})
	if code != http.StatusOK || decode[map[string]string](t, b)["openGId"] != "tGgroup1" {
		t.Fatalf("share: %d %s", code, b)
	}
	bob, bobKey := s.login(t, "code-bob")
	data, iv = encryptFor(t, bobKey, []byte(`{"opengid":"tGgroup1","chat_type":1,`+watermark+`}`))
	if code, b := s.call(http.MethodPost, "/v1/share/group", map[string]string{"session": bob.Session, "encryptedData": data, "iv": iv}); code != http.StatusOK {
		t.Fatalf("share 2: %d %s", code, b)
	}

	code, b = s.call(http.MethodGet, "/v1/groups/tGgroup1/members?session="+url.QueryEscape(bob.Session), nil)
	list := decode[struct {
		Total   int `json:"total"`
		Members []struct {
			OpenID   string `json:"openid"`
			Nickname string `json:"nickname"`
		} `json:"members"`
	}](t, b)
	names := map[string]string{}
	for _, m := range list.Members {
		names[m.OpenID] = m.Nickname
	}
	// Both shares may land in the same millisecond, so order is not checked.
	if nick, ok := names[alice.OpenID]; code != http.StatusOK || list.Total != 2 || !ok || nick != "爱丽丝 🌸" {
		t.Fatalf("members: %d %s", code, b)
	}
	if _, ok := names[bob.OpenID]; !ok {
		t.Fatalf("members: %d %s, want bob too", code, b)
	}

	// Someone outside the group may not list it.
	eve, _ := s.login(t, "code-eve")
	if code, _ := s.call(http.MethodGet, "/v1/groups/tGgroup1/members?session="+url.QueryEscape(eve.Session), nil); code != http.StatusForbidden {
		t.Fatalf("non-member listing: %d, want 403", code)
	}

	// Every decrypt failure is "session expired, log in again", never a 500.
	otherApp := `{"openGId":"x","watermark":{"appid":"wxsomeoneelse","timestamp":1}}`
	wrongApp, wrongIV := encryptFor(t, aliceKey, []byte(otherApp))
	for name, req := range map[string]map[string]string{
		"garbage":       {"session": alice.Session, "encryptedData": "not base64!", "iv": iv},
		"partial block": {"session": alice.Session, "encryptedData": base64.StdEncoding.EncodeToString([]byte("short")), "iv": iv},
		"wrong key":     {"session": alice.Session, "encryptedData": data, "iv": iv}, // bob's data
		"other appid":   {"session": alice.Session, "encryptedData": wrongApp, "iv": wrongIV},
		"unknown":       {"session": "nope", "encryptedData": data, "iv": iv},
		"short iv":      {"session": alice.Session, "encryptedData": data, "iv": "AAAA"},
	} {
		code, b := s.call(http.MethodPost, "/v1/share/group", req)
		if e := decode[apiErr](t, b); code != http.StatusUnauthorized || e.Error.Code != "session_expired" {
			t.Errorf("%s: %d %s, want 401 session_expired", name, code, b)
		}
	}
	// issue 9: share data from 1970, javascript: avatars.
	old, oldIV := encryptFor(t, aliceKey, []byte(`{"openGId":"tGgroup1","watermark":{"appid":"`+s.app.AppID+`","timestamp":1700000000}}`))
	if code, b := s.call(http.MethodPost, "/v1/share/group", map[string]string{"session": alice.Session, "encryptedData": old, "iv": oldIV}); code != http.StatusBadRequest {
		t.Errorf("stale share data: %d %s, want 400", code, b)
	}
	data, iv = encryptFor(t, aliceKey, []byte(`{"openGId":"tGgroup1",`+watermark+`}`))
	if code, b := s.call(http.MethodPost, "/v1/share/group", map[string]string{"session": alice.Session, "encryptedData": data, "iv": iv,
		"avatarUrl": "javascript:alert(1)"}); code != http.StatusBadRequest {
		t.Errorf("javascript: avatar: %d %s, want 400", code, b)
	}
	if code, b := s.call(http.MethodPost, "/v1/share/group", map[string]string{"session": alice.Session}); code != http.StatusBadRequest {
		t.Fatalf("missing encryptedData: %d %s", code, b)
	}
	// A login code works once.
	if code, _ := s.call(http.MethodPost, "/v1/wx/login", map[string]string{"code": "code-alice"}); code != http.StatusUnauthorized {
		t.Fatalf("reused login code: %d, want 401", code)
	}
}
