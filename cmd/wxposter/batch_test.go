package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wxposter/wxposter/batchclient"
)

// fakeClock advances by step on every reading.
type fakeClock struct {
	t    time.Time
	step time.Duration
}

func (c *fakeClock) now() time.Time { c.t = c.t.Add(c.step); return c.t }

func batchAt(status string, total int, n batchclient.Counts, eta *float64) *batchclient.Batch {
	return &batchclient.Batch{ID: "b1", Status: status, Total: total, Counts: n, ETASeconds: eta}
}

func TestPlainProgress(t *testing.T) {
	eta := 40.0
	tests := []struct {
		name    string
		answers []*batchclient.Batch
		want    []string
	}{
		{"counts, rate from the first answer, the API's ETA", []*batchclient.Batch{
			batchAt("running", 100, batchclient.Counts{Queued: 100}, nil),
			batchAt("running", 100, batchclient.Counts{Queued: 80, Succeeded: 18, Failed: 2}, nil),
			batchAt("running", 100, batchclient.Counts{Queued: 40, Running: 4, Succeeded: 54, Failed: 2}, &eta),
			batchAt("completed", 100, batchclient.Counts{Succeeded: 97, Failed: 3}, nil),
		}, []string{
			"2026-11-26T13:00:10Z batch b1 running: 0/100 done (0%), 0 failed, 0 cancelled, -, ETA -",
			"2026-11-26T13:00:20Z batch b1 running: 20/100 done (20%), 2 failed, 0 cancelled, 2.0/s, ETA 40s",
			"2026-11-26T13:00:30Z batch b1 running: 56/100 done (56%), 2 failed, 0 cancelled, 2.8/s, ETA 40s",
			"2026-11-26T13:00:40Z batch b1 completed: 100/100 done (100%), 3 failed, 0 cancelled, 3.3/s, ETA -",
		}},
		{"unchanged counts are not repeated", []*batchclient.Batch{
			batchAt("running", 10, batchclient.Counts{Queued: 10}, nil),
			batchAt("running", 10, batchclient.Counts{Queued: 10}, nil),
			batchAt("running", 10, batchclient.Counts{Queued: 10}, nil),
			batchAt("cancelled", 10, batchclient.Counts{Succeeded: 1, Cancelled: 9}, nil),
		}, []string{
			"2026-11-26T13:00:10Z batch b1 running: 0/10 done (0%), 0 failed, 0 cancelled, -, ETA -",
			"2026-11-26T13:00:40Z batch b1 cancelled: 10/10 done (100%), 0 failed, 9 cancelled, 0.3/s, ETA -",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Date(2026, 11, 26, 13, 0, 0, 0, time.UTC), step: 10 * time.Second}
			var out bytes.Buffer
			p := newPlainProgress(&out, "b1", clock.now)
			for _, b := range tt.answers {
				p.update(b)
			}
			p.finish(tt.answers[len(tt.answers)-1])
			if got := strings.Split(strings.TrimSpace(out.String()), "\n"); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// A line at least every heartbeat even when nothing moves, so that a log
// shows the CLI is alive.
func TestPlainProgressHeartbeat(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 26, 13, 0, 0, 0, time.UTC), step: 25 * time.Second}
	var out bytes.Buffer
	p := newPlainProgress(&out, "b1", clock.now)
	for range 7 {
		p.update(batchAt("running", 5, batchclient.Counts{Queued: 5}, nil))
	}
	if n := strings.Count(out.String(), "\n"); n != 3 { // at 25 s, 100 s, 175 s
		t.Fatalf("%d lines:\n%s", n, out.String())
	}
}

func TestFmtDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		850 * time.Millisecond: "850ms", 42 * time.Second: "42s", 185 * time.Second: "3m05s", 130 * time.Minute: "2h10m",
	} {
		if got := fmtDuration(d); got != want {
			t.Errorf("fmtDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// cliAPI answers the batch routes as docs/batches.md specifies them, for
// a batch whose items all succeed except those whose scene starts "bad".
type cliAPI struct {
	mu      sync.Mutex
	body    map[string]any
	polls   int
	auth    []string
	created bool
	never   bool // the batch never ends
}

func (a *cliAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.auth = append(a.auth, r.Header.Get("Authorization"))
	items, _ := a.body["items"].([]any)
	failed := 0
	for _, it := range items {
		if s, _ := it.(map[string]any)["scene"].(string); strings.HasPrefix(s, "bad") {
			failed++
		}
	}
	switch r.Method + " " + r.URL.Path {
	case "POST /v1/batches":
		if err := json.NewDecoder(r.Body).Decode(&a.body); err != nil {
			writeJSONTest(w, 400, map[string]any{"error": map[string]any{"code": "invalid_request", "message": "body " + err.Error(), "field": "body"}})
			return
		}
		items, _ := a.body["items"].([]any)
		var bad []map[string]any
		for i, it := range items {
			if p, _ := it.(map[string]any)["page"].(string); p == "pages/nope" {
				bad = append(bad, map[string]any{"index": i, "key": it.(map[string]any)["key"], "field": "page", "message": "page must be a page path"})
			}
		}
		if len(bad) > 0 {
			writeJSONTest(w, 400, map[string]any{"error": map[string]any{"code": "invalid_request", "message": "2 items are invalid", "items": bad}})
			return
		}
		a.created = true
		writeJSONTest(w, 202, map[string]any{"id": "b1", "status": "running", "total": len(items), "status_url": "/v1/batches/b1"})
	case "GET /v1/batches/b1":
		a.polls++
		total := len(items)
		b := map[string]any{"id": "b1", "status": "running", "total": total, "created_at": "2026-11-26T13:00:00Z",
			"counts": map[string]int{"queued": total}}
		if a.polls >= 3 && !a.never {
			b["status"], b["finished_at"] = "completed", "2026-11-26T13:00:03Z"
			b["counts"] = map[string]int{"succeeded": total - failed, "failed": failed}
		}
		writeJSONTest(w, 200, b)
	case "GET /v1/batches/b1/manifest":
		fmt.Fprint(w, "key,id,status,url,error_code,error_message\n")
		for i, it := range items {
			m := it.(map[string]any)
			if s, _ := m["scene"].(string); strings.HasPrefix(s, "bad") {
				fmt.Fprintf(w, "%v,j%d,failed,,wechat,page not published\n", m["key"], i)
			} else {
				fmt.Fprintf(w, "%v,j%d,succeeded,http://s/p/j%d.jpg,,\n", m["key"], i, i)
			}
		}
	case "GET /v1/batches/b1/items":
		if r.URL.Query().Get("cursor") == "" { // a filtered page may be empty with more to come
			writeJSONTest(w, 200, map[string]any{"items": []any{}, "next_cursor": "c2"})
			return
		}
		writeJSONTest(w, 200, map[string]any{"items": []map[string]any{{"key": "k3", "id": "j2", "status": "failed",
			"error": map[string]any{"code": "wechat", "errcode": 41030, "message": "page not published"}}}})
	case "GET /v1/batches/b1/archive":
		w.Write([]byte("PK\x03\x04zip"))
	default:
		writeJSONTest(w, 404, map[string]any{"error": map[string]any{"code": "not_found", "message": "no such batch"}})
	}
}

func writeJSONTest(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

const cliKey = "cli-test-key-0123456789"

// runCLI runs `wxposter batch args…` against api, stdout not a terminal.
func runCLI(t *testing.T, apiURL string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := map[string]string{"WXPOSTER_API_URL": apiURL, "WXPOSTER_API_KEY": cliKey}
	c := &batchCmd{stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] },
		terminal: func(io.Writer) bool { return false }, now: time.Now, pollFloor: time.Millisecond}
	err := c.run(context.Background(), args)
	if err != nil {
		fmt.Fprintln(&errb, "wxposter:", err)
		code = exitCode(err)
	}
	if strings.Contains(out.String()+errb.String(), cliKey) {
		t.Fatalf("the API key was printed:\n%s%s", out.String(), errb.String())
	}
	return code, out.String(), errb.String()
}

func writeCSV(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "spring.csv")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestBatchCreateWait(t *testing.T) {
	api := &cliAPI{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	csvPath := writeCSV(t, "key,scene,data.nickname\nk1,id:1,小明\nk2,id:2,小红\n")
	manifest := filepath.Join(t.TempDir(), "manifest.csv")
	code, out, errOut := runCLI(t, srv.URL, "create", csvPath, "--template", "invite", "--page", "pages/index/index",
		"--data", "title=周末", "--wait", "--interval", "1s", "-o", manifest)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"batch b1 created: 2 items", "batch b1 running: 0/2 done", "batch b1 completed: 2/2 done (100%)",
		"batch b1 completed in "} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	b, _ := os.ReadFile(manifest)
	if strings.Count(string(b), "\n") != 3 || !strings.Contains(string(b), "k2,j1,succeeded,http://s/p/j1.jpg") {
		t.Fatalf("manifest:\n%s", b)
	}
	if api.body["name"] != "spring" || api.body["template"] != "invite" || api.body["page"] != "pages/index/index" ||
		api.body["data"].(map[string]any)["title"] != "周末" {
		t.Fatalf("body %v", api.body)
	}
	for _, a := range api.auth {
		if a != "Bearer "+cliKey {
			t.Fatalf("Authorization %q", a)
		}
	}
}

func TestBatchCreateExitCodes(t *testing.T) {
	tests := []struct {
		name   string
		csv    string
		args   []string
		code   int
		stderr []string // parts of stderr
		sent   bool     // whether a batch reached the API
	}{
		{"failed items", "key,scene\nk1,id:1\nk2,id:2\nk3,bad:3\n", []string{"--wait"}, exitItemsFailed,
			[]string{"failed items:", "k3\twechat 41030: page not published", "batch b1 completed with 1 failed and 0 cancelled items of 3", "wxposter batch retry b1 --wait"}, true},
		{"no wait", "key,scene\nk1,id:1\n", nil, 0, nil, true},
		{"malformed CSV", "key,scene\nk1,id:1\nk2,\"id:2\n", nil, exitInvalid, []string{"spring.csv:3: bad quoting"}, false},
		{"scene and params", "key,scene,param.a\nk1,id:1,x\n", nil, exitInvalid, []string{"spring.csv:2: scene and param.* are both set"}, false},
		{"API rejects items, shown as lines", "key,page,scene\nk1,pages/a,x\nk2,pages/nope,\"multi\nline\"\nk3,pages/nope,z\n", nil, exitInvalid,
			[]string{`spring.csv:3 (key "k2"): page: must be a page path`, `spring.csv:5 (key "k3"): page:`, "the API rejected the batch, nothing was enqueued: POST /v1/batches: 400 2 items are invalid"}, false},
		{"missing template", "scene\na\n", []string{"--template", ""}, exitUsage, []string{"--template is required"}, false},
		{"bad flag", "scene\na\n", []string{"--bogus"}, exitUsage, []string{"flag provided but not defined: -bogus"}, false},
		{"-o without --wait", "scene\na\n", []string{"-o", "m.csv"}, exitUsage, []string{"-o and --timeout need --wait"}, false},
		{"bad --data", "scene\na\n", []string{"--data", "novalue"}, exitUsage, []string{"want name=value"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &cliAPI{}
			srv := httptest.NewServer(api)
			defer srv.Close()
			args := append([]string{"create", writeCSV(t, tt.csv), "--template", "invite", "--interval", "1s"}, tt.args...)
			code, out, errOut := runCLI(t, srv.URL, args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, out, errOut)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
			if api.created != tt.sent {
				t.Errorf("batch created = %v, want %v", api.created, tt.sent)
			}
		})
	}
}

func TestBatchUsage(t *testing.T) {
	for _, args := range [][]string{
		nil, {"bogus"}, {"status"}, {"status", "b1", "b2"}, {"create"}, {"manifest", "b1", "--format", "xml"},
	} {
		code, _, errOut := runCLI(t, "http://127.0.0.1:1", args...)
		if code != exitUsage {
			t.Errorf("%q: exit %d, want %d\n%s", args, code, exitUsage, errOut)
		}
	}
	if code, _, errOut := runCLI(t, "127.0.0.1:8080", "status", "b1"); code != exitUsage || !strings.Contains(errOut, "WXPOSTER_API_URL") {
		t.Errorf("bad URL: exit %d %s", code, errOut)
	}
	if code, out, _ := runCLI(t, "", "help"); code != 0 || !strings.Contains(out, "Exit codes") {
		t.Errorf("help: %d %s", code, out)
	}
	// The API is unreachable: 1, not a usage error.
	if code, _, _ := runCLI(t, "http://127.0.0.1:1", "cancel", "b1"); code != exitError {
		t.Errorf("unreachable: exit %d", code)
	}
}

func TestBatchStatusManifestArchive(t *testing.T) {
	api := &cliAPI{body: map[string]any{"items": []any{map[string]any{"key": "k1", "scene": "a"}}}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	code, out, _ := runCLI(t, srv.URL, "status", "b1")
	if code != 0 || !strings.Contains(out, "batch b1: running, 0/1 done") || !strings.Contains(out, "queued 1") {
		t.Fatalf("status: %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, srv.URL, "status", "b1", "--json")
	if code != 0 || !json.Valid([]byte(out)) {
		t.Fatalf("status --json: %d %s", code, out)
	}
	code, out, _ = runCLI(t, srv.URL, "status", "b1", "--wait", "--json", "--interval", "1s")
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.Contains(out, `"status":"completed"`) {
		t.Fatalf("status --wait --json: %d %s", code, out)
	}
	code, out, _ = runCLI(t, srv.URL, "items", "b1")
	if code != 0 || out != "k3\tj2\tfailed\twechat 41030: page not published\n" {
		t.Fatalf("items: %d %q", code, out)
	}
	code, out, _ = runCLI(t, srv.URL, "manifest", "b1")
	if code != 0 || out != "key,id,status,url,error_code,error_message\nk1,j0,succeeded,http://s/p/j0.jpg,,\n" {
		t.Fatalf("manifest: %d %q", code, out)
	}
	zipPath := filepath.Join(t.TempDir(), "out.zip")
	code, _, errOut := runCLI(t, srv.URL, "archive", "b1", "-o", zipPath)
	if b, _ := os.ReadFile(zipPath); code != 0 || string(b) != "PK\x03\x04zip" || !strings.Contains(errOut, "wrote "+zipPath+" (7 bytes)") {
		t.Fatalf("archive: %d %q %s", code, b, errOut)
	}
	if code, _, errOut := runCLI(t, srv.URL, "status", "nope"); code != exitError || !strings.Contains(errOut, "404 no such batch") {
		t.Fatalf("unknown batch: %d %s", code, errOut)
	}
}

// --timeout stops waiting (exit 5), not the batch, and says how to follow it.
func TestBatchWaitTimeout(t *testing.T) {
	api := &cliAPI{never: true, body: map[string]any{"items": []any{map[string]any{"key": "k1", "scene": "a"}}}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	code, out, errOut := runCLI(t, srv.URL, "status", "b1", "--wait", "--interval", "1s", "--timeout", "300ms")
	if code != exitUnfinished || !strings.Contains(errOut, "batch b1 still running after --timeout 300ms") ||
		!strings.Contains(errOut, "wxposter batch status b1 --wait") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
}

// The bar shows done/total, the rate since the first answer, the ETA and
// the failures.
func TestBarProgress(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 26, 13, 0, 0, 0, time.UTC), step: 5 * time.Second}
	var out bytes.Buffer
	p := newBarProgress(&out, clock.now)
	p.update(batchAt("running", 100, batchclient.Counts{Queued: 100}, nil))
	p.update(batchAt("running", 100, batchclient.Counts{Queued: 50, Succeeded: 49, Failed: 1}, nil))
	last := batchAt("completed", 100, batchclient.Counts{Succeeded: 98, Failed: 2}, nil)
	p.update(last)
	p.finish(last)
	for _, want := range []string{"(50/100)", "10.0/s, ETA 5s, 1 failed", "100%", "(100/100)", "10.0/s, ETA -, 2 failed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("bar lacks %q:\n%q", want, out.String())
		}
	}
}
