// Package e2e tests wxposter end to end: HTTP producer → asynq on real
// Redis → worker → WeChat simulator → renderer → real MinIO → polled URL.
package e2e

import (
	"bytes"
	"encoding/json"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wxposter/wxposter/tasks"
	"github.com/wxposter/wxposter/wechat"
)

func TestPosterEndToEnd(t *testing.T) {
	s := start(t)
	cases := []struct {
		name, contentType string
		body              map[string]any
	}{
		{"default template with avatar", "image/jpeg", map[string]any{
			"template": "default", "page": pageDetail, "scene": "id:42;from:u7",
			"data": map[string]string{
				"nickname": "小明", "title": "周末亲子活动：一起去植物园认识一百种花", "avatar": s.avatar.URL + "/a.png",
			},
		}},
		{"plain code (share to Moments)", "image/jpeg", map[string]any{"page": pageIndex, "scene": "a=1&b=2"}},
		{"transparent code", "image/png", map[string]any{"page": pageIndex, "scene": "hyaline", "is_hyaline": true, "width": 600}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := s.submit(tc.body)
			if j.Status != "queued" || j.StatusURL != "/v1/posters/"+j.ID {
				t.Fatalf("submit = %+v, want queued with status_url", j)
			}
			done := s.await(j.ID)
			if done.Status != "succeeded" || done.Attempts != 1 {
				t.Fatalf("job = %+v, want succeeded after 1 attempt", done)
			}
			if !strings.HasPrefix(done.URL, s.store.URL("posters/")) {
				t.Fatalf("url %s is not under the public base", done.URL)
			}
			resp, body := download(t, done.URL)
			if ct := resp.Header.Get("Content-Type"); ct != tc.contentType {
				t.Errorf("Content-Type = %q, want %q", ct, tc.contentType)
			}
			if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age") {
				t.Errorf("Cache-Control = %q, want a max-age", cc)
			}
			img, format, err := image.Decode(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("decode poster: %v", err)
			}
			if tc.body["template"] == "default" && (format != "jpeg" || img.Bounds().Dx() != 750 || img.Bounds().Dy() != 1334) {
				t.Errorf("poster is %s %v, want a 750×1334 jpeg", format, img.Bounds())
			}
			want := tc.body["page"].(string) + "?scene=" + tc.body["scene"].(string)
			if got := scanQR(t, img); got != want {
				t.Errorf("QR = %q, want %q", got, want)
			}
		})
	}
}

func TestSameRequestIsOneJob(t *testing.T) {
	s := start(t)
	body := map[string]any{"template": "default", "page": pageIndex, "scene": "dup:1",
		"data": map[string]string{"nickname": "同一个人", "title": "同一张海报"}}

	const n = 20
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { ids[i] = s.submit(body).ID })
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("concurrent submits gave ids %s and %s", ids[0], id)
		}
	}
	if j := s.await(ids[0]); j.Status != "succeeded" {
		t.Fatalf("job = %+v", j)
	}
	// A request after completion is answered from storage, without a job.
	code, b := s.post(body)
	var again job
	_ = json.Unmarshal(b, &again)
	if code != http.StatusOK || again.Status != "succeeded" || again.ID != ids[0] || again.URL == "" {
		t.Fatalf("repeat = %d %s, want 200 succeeded with url", code, b)
	}
	if got := s.sim.Total("/wxa/getwxacodeunlimit"); got != 1 {
		t.Errorf("code calls = %d, want exactly 1", got)
	}
	// Same code, another template variant: a new poster, but no new code call.
	body["data"] = map[string]string{"nickname": "另一个人"}
	if j := s.await(s.submit(body).ID); j.Status != "succeeded" {
		t.Fatalf("second poster = %+v", j)
	}
	if got := s.sim.Total("/wxa/getwxacodeunlimit"); got != 1 {
		t.Errorf("code calls after a second poster with the same code = %d, want 1", got)
	}
}

func TestUnpublishedPageFailsOnce(t *testing.T) {
	s := start(t, withMaxRetry(5))
	body := map[string]any{"template": "default", "page": "pages/secret/unpublished", "scene": "x"}
	j := s.await(s.submit(body).ID)
	if j.Status != "failed" || j.Attempts != 1 {
		t.Fatalf("job = %+v, want failed after 1 attempt", j)
	}
	if j.Error == nil || j.Error.Code != "41030" || j.Error.Errcode == nil || *j.Error.Errcode != 41030 ||
		!strings.Contains(j.Error.Message, "not published") {
		t.Fatalf("error = %+v, want code 41030 saying the page is not published", j.Error)
	}
	if got := s.sim.Count("/wxa/getwxacodeunlimit", 41030); got != 1 {
		t.Errorf("41030 answers = %d, want 1 (no retries)", got)
	}
	// The JSON error WeChat sent with HTTP 200 must not have been stored as a code.
	key := tasks.CodeKey(s.app.AppID, wechat.UnlimitedCode{Page: "pages/secret/unpublished", Scene: "x"})
	if ok, err := s.store.Exists(ctxT(t), key); err != nil || ok {
		t.Errorf("code object exists=%v err=%v, want nothing stored", ok, err)
	}

	// Asking again after publishing the page retries the failed job.
	s.sim.SetPublishedPages(pageIndex, pageDetail, "pages/secret/unpublished")
	j2 := s.submit(body)
	if j2.ID != j.ID || j2.Status != "queued" {
		t.Fatalf("resubmit = %+v, want the same job queued again", j2)
	}
	if j := s.await(j2.ID); j.Status != "succeeded" {
		t.Fatalf("after publishing: %+v", j)
	}
}

func TestTransientErrorsRetry(t *testing.T) {
	s := start(t)
	s.sim.SetErrorRatio(1) // WeChat answers -1 "system busy"
	j := s.submit(map[string]any{"page": pageIndex, "scene": "busy"})
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, cur := s.get(j.ID, 0)
		if cur.Status == "retrying" {
			if cur.Error == nil || cur.Error.Code != "-1" {
				t.Fatalf("retrying job error = %+v, want -1", cur.Error)
			}
			break
		}
		if (cur.Status != "queued" && cur.Status != "running") || time.Now().After(deadline) {
			t.Fatalf("job = %+v, want it retrying", cur)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.sim.SetErrorRatio(0)
	done := s.await(j.ID)
	// However many busy answers came before the switch, the job waited them
	// out without spending a retry (an outage, issue 9), and succeeded.
	busy := s.sim.Count("/wxa/getwxacodeunlimit", -1)
	if done.Status != "succeeded" || busy < 1 || done.Attempts != 1 {
		t.Fatalf("job = %+v after %d busy answers, want succeeded with no retry spent", done, busy)
	}
}

func TestTokenInvalidatedMidway(t *testing.T) {
	s := start(t)
	if j := s.await(s.submit(map[string]any{"page": pageIndex, "scene": "t1"}).ID); j.Status != "succeeded" {
		t.Fatal(j)
	}
	s.sim.InvalidateTokens()
	if j := s.await(s.submit(map[string]any{"page": pageIndex, "scene": "t2"}).ID); j.Status != "succeeded" || j.Attempts != 1 {
		t.Fatalf("after invalidation: %+v, want success on the first attempt", j)
	}
	if got := s.sim.Count("/cgi-bin/stable_token", 0); got != 2 {
		t.Errorf("stable_token calls = %d, want 2 (one refetch)", got)
	}
	if got := s.sim.Count("/wxa/getwxacodeunlimit", 40001); got != 1 {
		t.Errorf("40001 answers = %d, want 1", got)
	}
}

func TestBadRequests(t *testing.T) {
	s := start(t)
	cases := []struct {
		name  string
		body  any
		field string
	}{
		{"bad scene chars", map[string]any{"page": pageIndex, "scene": "名字"}, "scene"},
		{"scene with percent", map[string]any{"page": pageIndex, "scene": "a%20b"}, "scene"},
		{"33-char scene", map[string]any{"page": pageIndex, "scene": strings.Repeat("a", 33)}, "scene"},
		{"empty scene", map[string]any{"page": pageIndex, "scene": ""}, "scene"},
		{"leading slash", map[string]any{"page": "/pages/x", "scene": "a"}, "page"},
		{"query in page", map[string]any{"page": "pages/x?id=1", "scene": "a"}, "page"},
		{"width 100", map[string]any{"page": pageIndex, "scene": "a", "width": 100}, "width"},
		{"width 2000", map[string]any{"page": pageIndex, "scene": "a", "width": 2000}, "width"},
		{"width as string", map[string]any{"page": pageIndex, "scene": "a", "width": "430"}, "width"},
		{"env_version", map[string]any{"page": pageIndex, "scene": "a", "env_version": "prod"}, "env_version"},
		{"unknown app", map[string]any{"app": "wxnope", "page": pageIndex, "scene": "a"}, "app"},
		{"unknown template", map[string]any{"template": "nope", "page": pageIndex, "scene": "a"}, "template"},
		{"unknown field", map[string]any{"page": pageIndex, "scene": "a", "senc": "b"}, "senc"},
		{"data without template", map[string]any{"page": pageIndex, "scene": "a", "data": map[string]string{"a": "b"}}, "data"},
		{"avatar host", map[string]any{"template": "default", "page": pageIndex, "scene": "a",
			"data": map[string]string{"avatar": "http://169.254.169.254/latest"}}, "data.avatar"},
		{"avatar scheme", map[string]any{"template": "default", "page": pageIndex, "scene": "a",
			"data": map[string]string{"avatar": "file:///etc/passwd"}}, "data.avatar"},
		{"malformed JSON", []byte(`{"page": "pages/index/index", "scene": `), "body"},
		{"not an object", []byte(`[1,2]`), "body"},
		{"empty body", []byte(``), "body"},
		{"two objects", []byte(`{"scene":"a"}{"scene":"b"}`), "body"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, b := s.post(tc.body)
			var e apiErr
			if err := json.Unmarshal(b, &e); err != nil {
				t.Fatalf("body %s is not JSON: %v", b, err)
			}
			if code != http.StatusBadRequest || e.Error.Field != tc.field || e.Error.Message == "" {
				t.Fatalf("got %d %s, want 400 naming field %q", code, b, tc.field)
			}
		})
	}
	if n := s.sim.Total("/wxa/getwxacodeunlimit"); n != 0 {
		t.Errorf("bad requests reached WeChat %d times", n)
	}
}

func TestStatusErrors(t *testing.T) {
	s := start(t)
	for _, tc := range []struct {
		path string
		code int
	}{
		{"/v1/posters/0123456789abcdef0123456789abcdef", http.StatusNotFound},
		{"/v1/posters/not-an-id", http.StatusNotFound},
		{"/v1/posters/0123456789abcdef0123456789abcdef?wait=31", http.StatusBadRequest},
		{"/v1/posters/0123456789abcdef0123456789abcdef?wait=x", http.StatusBadRequest},
		{"/healthz", http.StatusOK},
		{"/readyz", http.StatusOK},
	} {
		resp, err := http.Get(s.api.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("GET %s = %d, want %d", tc.path, resp.StatusCode, tc.code)
		}
	}
}

// No secret (AppSecret, access_token, jsapi_ticket, session_key) may reach
// the logs, even at debug level where every WeChat call is logged.
func TestNoSecretsInLogs(t *testing.T) {
	s := start(t)
	s.await(s.submit(map[string]any{"page": pageIndex, "scene": "s1"}).ID)
	s.await(s.submit(map[string]any{"page": "pages/not/there", "scene": "s2"}).ID)
	s.sim.InvalidateTokens()
	s.await(s.submit(map[string]any{"page": pageIndex, "scene": "s3"}).ID)
	s.call(http.MethodPost, "/v1/jssdk/config", map[string]string{"url": "https://" + jsDomain + "/p"})
	user, sessionKey := s.login(t, "secret-code")
	data, iv := encryptFor(t, sessionKey, []byte(`{"openGId":"g","watermark":{"appid":"`+s.app.AppID+`","timestamp":1}}`))
	s.call(http.MethodPost, "/v1/share/group", map[string]string{"session": user.Session, "encryptedData": data, "iv": iv})
	s.call(http.MethodPost, "/v1/share/group", map[string]string{"session": user.Session, "encryptedData": data[:len(data)-4], "iv": iv})

	secrets := map[string]string{"AppSecret": s.app.Secret, "session_key": sessionKey, "login code": "secret-code", "session token": user.Session}
	for name, key := range map[string]string{"access_token": ":stable_token", "jsapi_ticket": ":jsapi_ticket"} {
		v, err := s.rdb.HGet(ctxT(t), "wxposter:wx:"+s.app.AppID+key, "value").Result()
		if err != nil || v == "" {
			t.Fatalf("no cached %s to look for: %v", name, err)
		}
		secrets[name] = v
	}
	logs := s.logs.String()
	if !strings.Contains(logs, "access_token=REDACTED") {
		t.Fatal("debug logs of WeChat calls were not captured")
	}
	for name, secret := range secrets {
		if s.logs.Contains(secret) {
			t.Errorf("%s appears in the logs", name)
		}
	}
}
