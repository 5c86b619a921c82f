package dashboard

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/hibiken/asynq"

	"github.com/wxposter/wxposter/internal/browser"
	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/tasks"
)

const key = "dashboard-key-0123456789"

// fixture is a dashboard on the test Redis with one poster job pending in
// a queue of its own, and an empty batch queue.
type fixture struct {
	srv          *httptest.Server
	queue, batch string
	jobID        string
}

func start(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	conn, err := asynq.ParseRedisURI(testenv.RedisURL)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{queue: "dash-" + testenv.ID(4)}
	f.batch = f.queue + "-batch"
	rdb := testenv.Redis(t)
	insp := asynq.NewInspectorFromRedisClient(rdb)
	t.Cleanup(func() {
		insp.DeleteQueue(f.queue, true)
		insp.DeleteQueue(f.batch, true)
	})

	// A job nobody works on stays pending and shows in the queue.
	p := tasks.PosterPayload{AppID: testenv.AppID(), Template: "default",
		Data: map[string]string{"nickname": "小明", "avatar": "https://thirdwx.qlogo.cn/a.png"}}
	p.Code.Page, p.Code.Scene = "pages/index/index", "id:7"
	body, _ := json.Marshal(p)
	f.jobID = p.JobID()
	client := asynq.NewClientFromRedisClient(rdb)
	defer client.Close()
	if _, err := client.Enqueue(asynq.NewTask(tasks.TypeGeneratePoster, body),
		asynq.Queue(f.queue), asynq.TaskID(f.jobID)); err != nil {
		t.Fatal(err)
	}

	d, err := New(context.Background(), conn, append([]Option{WithQueues(f.queue, f.batch)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	mux := http.NewServeMux()
	mux.Handle(Pattern, d)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) get(t *testing.T, method, path, user, pass string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, nil)
	if user != "" || pass != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAuth(t *testing.T) {
	f := start(t, WithPasswords(key, "second-key-0123456789"))
	cases := []struct {
		name, path, user, pass string
		want                   int
	}{
		{"no credentials", "/monitoring/", "", "", http.StatusUnauthorized},
		{"wrong key", "/monitoring/", "ops", "not-the-key-0123456789", http.StatusUnauthorized},
		{"key as user name", "/monitoring/", key, "", http.StatusUnauthorized},
		{"api without credentials", "/monitoring/api/queues", "", "", http.StatusUnauthorized},
		{"any user, the key", "/monitoring/", "anyone", key, http.StatusOK},
		{"empty user, second key", "/monitoring/", "", "second-key-0123456789", http.StatusOK},
		{"a page deep in the UI", "/monitoring/queues/" + f.queue, "ops", key, http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if code, body := f.get(t, "GET", tc.path, tc.user, tc.pass); code != tc.want {
				t.Fatalf("GET %s = %d %s, want %d", tc.path, code, body, tc.want)
			}
		})
	}
	code, body := f.get(t, "GET", "/monitoring/", "ops", key)
	// html/template writes "/" as "\/" in scripts.
	if code != http.StatusOK || !strings.Contains(body, `window.FLAG_ROOT_PATH="\/monitoring"`) ||
		!strings.Contains(body, `window.FLAG_READ_ONLY="true"`) {
		t.Fatalf("index page: %d %.300s", code, body)
	}
}

func TestQueuesAndHiddenData(t *testing.T) {
	f := start(t, WithPasswords(key))
	code, body := f.get(t, "GET", "/monitoring/api/queues", "ops", key)
	if code != http.StatusOK {
		t.Fatalf("api/queues = %d %s", code, body)
	}
	var qs struct {
		Queues []struct {
			Queue   string `json:"queue"`
			Size    int    `json:"size"`
			Pending int    `json:"pending"`
		} `json:"queues"`
	}
	if err := json.Unmarshal([]byte(body), &qs); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, q := range qs.Queues {
		seen[q.Queue] = q.Pending + 1
	}
	if seen[f.queue] != 2 || seen[f.batch] != 1 {
		t.Fatalf("queues %v: want %s with 1 pending and the empty %s", seen, f.queue, f.batch)
	}

	code, body = f.get(t, "GET", "/monitoring/api/queues/"+f.queue+"/pending_tasks", "ops", key)
	if code != http.StatusOK || !strings.Contains(body, f.jobID) {
		t.Fatalf("pending_tasks = %d %s", code, body)
	}
	if strings.Contains(body, "小明") || strings.Contains(body, "qlogo") || !strings.Contains(body, "(hidden)") ||
		!strings.Contains(body, "nickname") || !strings.Contains(body, "pages/index/index") {
		t.Fatalf("payload must show keys and page but hide data values: %s", body)
	}

	// Read-only: asynqmon refuses changes.
	code, body = f.get(t, "DELETE", "/monitoring/api/queues/"+f.queue+"/pending_tasks/"+f.jobID, "ops", key)
	if code != http.StatusMethodNotAllowed {
		t.Fatalf("DELETE on a read-only dashboard = %d %s, want 405", code, body)
	}
}

func TestShowDataAndWritable(t *testing.T) {
	f := start(t, WithPasswords(key), WithShowData(true), WithReadOnly(false))
	code, body := f.get(t, "GET", "/monitoring/api/queues/"+f.queue+"/pending_tasks", "ops", key)
	if code != http.StatusOK || !strings.Contains(body, "小明") {
		t.Fatalf("with WithShowData the data is shown: %d %s", code, body)
	}
	code, body = f.get(t, "DELETE", "/monitoring/api/queues/"+f.queue+"/pending_tasks/"+f.jobID, "ops", key)
	if code != http.StatusNoContent {
		t.Fatalf("DELETE on a writable dashboard = %d %s, want 204", code, body)
	}
}

func TestOffWithoutKeysUnlessOpen(t *testing.T) {
	f := start(t)
	if code, body := f.get(t, "GET", "/monitoring/", "", ""); code != http.StatusNotFound {
		t.Fatalf("no keys: GET /monitoring/ = %d %s, want 404", code, body)
	}
	f = start(t, WithOpen(true))
	if code, body := f.get(t, "GET", "/monitoring/api/queues", "", ""); code != http.StatusOK || !strings.Contains(body, f.queue) {
		t.Fatalf("open: GET /monitoring/api/queues = %d %.200s", code, body)
	}
	// Keys win over open.
	f = start(t, WithOpen(true), WithPasswords(key))
	if code, _ := f.get(t, "GET", "/monitoring/", "", ""); code != http.StatusUnauthorized {
		t.Fatalf("open with keys: GET /monitoring/ = %d, want 401", code)
	}
}

// TestChromiumShowsTheQueue loads the dashboard in headless Chromium, as an
// operator would, and checks the queue table and its screenshot.
func TestChromiumShowsTheQueue(t *testing.T) {
	f := start(t, WithPasswords(key))
	ctx := browser.New(t, 90*time.Second)
	// The queue table lists every queue of the shared Redis; ours is the row
	// whose first cell links to it.
	rowSel := `//table//tr[.//a[text()="` + f.queue + `"]]`
	err := chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
				Headers: network.Headers{"Authorization": "Basic " + basic("ops", key)}})
			return err
		}),
		chromedp.Navigate(f.srv.URL+"/monitoring/"),
		chromedp.WaitVisible(rowSel),
		chromedp.ScrollIntoView(rowSel),
	)
	if err != nil {
		t.Fatalf("dashboard in Chromium: %v", err)
	}
	row, err := chromedp.Run(ctx, chromedp.Text(rowSel))
	if err != nil {
		t.Fatal(err)
	}
	title, _ := chromedp.Run(ctx, chromedp.Title())
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("title %q, queue row %q", title, row)
	// Cells: queue, state, size, memory, latency, processed, failed, error rate.
	if cells := strings.Split(row, "\t"); len(cells) < 3 || cells[0] != f.queue || cells[1] != "run" || cells[2] != "1" {
		t.Fatalf("queue row %q: want %s, run, size 1", row, f.queue)
	}
	batchRow := `//table//tr[.//a[text()="` + f.batch + `"]]`
	if _, err := chromedp.Run(ctx, chromedp.Text(batchRow)); err != nil {
		t.Fatalf("batch queue %s not in the table: %v", f.batch, err)
	}
	browser.Check(t, "dashboard-queues", shot, 1000, 600)
}

func basic(user, pass string) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(user, pass)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}
