package producer

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/wxposter/wxposter/poster/palette"
	"github.com/wxposter/wxposter/templates"
)

func TestDecodeJSON(t *testing.T) {
	for _, tc := range []struct {
		name, body, contentType, field string
	}{
		{"ok", `{"scene":"a","width":430}`, "application/json", ""},
		{"ok with charset", `{"scene":"a"}`, "application/json; charset=utf-8", ""},
		{"no content type", `{"scene":"a"}`, "", ""},
		{"form post", `scene=a`, "application/x-www-form-urlencoded", "body"},
		{"width as string", `{"width":"430"}`, "application/json", "width"},
		{"check_path as string", `{"check_path":"true"}`, "application/json", "check_path"},
		{"data not strings", `{"data":{"a":1}}`, "application/json", "data"},
		{"unknown field", `{"sceen":"a"}`, "application/json", "sceen"},
		{"truncated", `{"scene":`, "application/json", "body"},
		{"array", `[]`, "application/json", "body"},
		{"empty", ``, "application/json", "body"},
		{"trailing", `{"scene":"a"} x`, "application/json", "body"},
		{"too large", `{"scene":"` + strings.Repeat("a", maxBody) + `"}`, "application/json", "body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/v1/posters", strings.NewReader(tc.body))
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			var req posterRequest
			field, rule, ok := decodeJSON(httptest.NewRecorder(), r, &req)
			if ok != (tc.field == "") || field != tc.field {
				t.Fatalf("got field %q rule %q ok %v, want field %q", field, rule, ok, tc.field)
			}
			if !ok && rule == "" {
				t.Fatal("a rejection must say the rule")
			}
		})
	}
}

func TestView(t *testing.T) {
	s := &Server{}
	for _, tc := range []struct {
		name     string
		info     asynq.TaskInfo
		status   string
		attempts int
		url      string
		errCode  string
	}{
		{"pending", asynq.TaskInfo{State: asynq.TaskStatePending}, "queued", 0, "", ""},
		{"pending after a retry", asynq.TaskInfo{State: asynq.TaskStatePending, Retried: 1,
			Result: []byte(`{"error":{"code":"-1","message":"busy"}}`)}, "retrying", 1, "", "-1"},
		{"active", asynq.TaskInfo{State: asynq.TaskStateActive}, "running", 1, "", ""},
		{"active with url", asynq.TaskInfo{State: asynq.TaskStateActive, Result: []byte(`{"url":"u"}`)}, "succeeded", 1, "u", ""},
		{"active with final error", asynq.TaskInfo{State: asynq.TaskStateActive,
			Result: []byte(`{"error":{"code":"41030","message":"m"},"final":true}`)}, "failed", 1, "", "41030"},
		{"retry", asynq.TaskInfo{State: asynq.TaskStateRetry, Retried: 2,
			Result: []byte(`{"error":{"code":"unavailable","message":"m"}}`)}, "retrying", 2, "", "unavailable"},
		{"completed", asynq.TaskInfo{State: asynq.TaskStateCompleted, Retried: 1, Result: []byte(`{"url":"u"}`)}, "succeeded", 2, "u", ""},
		{"archived", asynq.TaskInfo{State: asynq.TaskStateArchived,
			Result: []byte(`{"error":{"code":"41030","message":"m"},"final":true}`)}, "failed", 1, "", "41030"},
		{"archived without result", asynq.TaskInfo{State: asynq.TaskStateArchived, LastErr: "boom"}, "failed", 1, "", "failed"},
		// issue 9: a timed-out job said "failed" with "context deadline exceeded".
		{"archived by its deadline", asynq.TaskInfo{State: asynq.TaskStateArchived, LastErr: "context deadline exceeded"}, "failed", 1, "", "timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := s.view(&tc.info)
			got := ""
			if v.Error != nil {
				got = v.Error.Code
			}
			if v.Status != tc.status || v.Attempts != tc.attempts || v.URL != tc.url || got != tc.errCode {
				t.Fatalf("view = %+v (error %q), want %s attempts=%d url=%q error=%q", v, got, tc.status, tc.attempts, tc.url, tc.errCode)
			}
		})
	}
}

func TestValidateData(t *testing.T) {
	s := &Server{imageHosts: map[string]bool{"thirdwx.qlogo.cn": true, "127.0.0.1:9000": true}}
	p, err := palette.Parse([]byte(`{"width":"750rpx","height":"750rpx","views":[
		{"type":"image","url":"{{avatar}}","css":{"width":"100rpx","height":"100rpx"}},
		{"type":"text","text":"{{nickname}}"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	palette := &templates.Template{Name: "invite", Palette: p, Variables: []string{"avatar", "nickname"}, ImageVariables: []string{"avatar"}}
	def, _ := BuiltinTemplates{}.Get(context.Background(), "default")
	const avatar = "https://thirdwx.qlogo.cn/mmopen/x/132"
	for _, tc := range []struct {
		name  string
		t     *templates.Template
		data  map[string]string
		field string
	}{
		{"ok", palette, map[string]string{"avatar": avatar, "nickname": "n"}, ""},
		{"extra keys are fine", palette, map[string]string{"avatar": avatar, "nickname": "n", "x": "y"}, ""},
		{"own objects", palette, map[string]string{"avatar": "http://127.0.0.1:9000/wxposter/posters/a.jpg", "nickname": "n"}, ""},
		{"data URI in a palette", palette, map[string]string{"avatar": "data:image/png;base64,iVBORw0KGgo=", "nickname": "n"}, ""},
		{"missing", palette, map[string]string{"avatar": avatar}, "data.nickname"},
		{"empty", palette, map[string]string{"avatar": avatar, "nickname": ""}, "data.nickname"},
		{"image host", palette, map[string]string{"avatar": "https://evil.example.com/a.png", "nickname": "n"}, "data.avatar"},
		{"image not a URL", palette, map[string]string{"avatar": "a.png", "nickname": "n"}, "data.avatar"},
		{"data URI not an image", palette, map[string]string{"avatar": "data:text/html;base64,PGgxPg==", "nickname": "n"}, "data.avatar"},
		{"default: all optional", def, nil, ""},
		{"default: avatar host", def, map[string]string{"avatar": "http://169.254.169.254/"}, "data.avatar"},
		{"default: no data URI", def, map[string]string{"avatar": "data:image/png;base64,iVBORw0KGgo="}, "data.avatar"},
		{"value too long", def, map[string]string{"title": strings.Repeat("长", maxValueLen+1)}, "data.title"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			field, rule := s.validateData(tc.data, tc.t)
			if field != tc.field || (field != "" && rule == "") {
				t.Fatalf("got %q %q, want field %q", field, rule, tc.field)
			}
		})
	}
}
