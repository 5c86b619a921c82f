package e2e

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	_ "image/jpeg" // posters
	_ "image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wxposter/wxposter/clients/callback"
	"github.com/wxposter/wxposter/scene"
	"github.com/wxposter/wxposter/wxsim"
)

// requireBatchRoutes skips while the API has no batch routes (the producer
// answers "no such endpoint" for them), and only then.
func requireBatchRoutes(t *testing.T, s *system, key string) {
	t.Helper()
	code, body := s.callAs(key, http.MethodGet, "/v1/batches", nil)
	if code == http.StatusNotFound && strings.Contains(string(body), "no such endpoint") {
		t.Skip("the batch API (issue 7) is not on this branch yet: GET /v1/batches = 404 no such endpoint")
	}
}

// buildCLI builds ./cmd/wxposter, to run it as an operator would.
func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "wxposter")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	if out, err := exec.Command(gobin, "build", "-o", bin, "../cmd/wxposter").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type cliRun struct {
	code           int
	stdout, stderr string
}

// cli runs `wxposter batch args…` against the system, stdout a pipe.
func (s *system) cli(t *testing.T, bin, key string, args ...string) cliRun {
	t.Helper()
	cmd := exec.CommandContext(ctxT(t), bin, append([]string{"batch"}, args...)...)
	cmd.Env = append(os.Environ(), "WXPOSTER_API_URL="+s.api.URL, "WXPOSTER_API_KEY="+key)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := cliRun{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.stdout+r.stderr, key) {
		t.Fatalf("the CLI printed the API key:\n%s\n%s", r.stdout, r.stderr)
	}
	t.Logf("wxposter batch %s → %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	return r
}

func readManifest(t *testing.T, path string) map[string]map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != "key,id,status,url,error_code,error_message" {
		t.Fatalf("manifest header %v", rows)
	}
	byKey := map[string]map[string]string{}
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			m[h] = r[i]
		}
		byKey[m["key"]] = m
	}
	if len(byKey) != len(rows)-1 {
		t.Fatalf("manifest has %d rows for %d keys", len(rows)-1, len(byKey))
	}
	return byKey
}

// The operators' CLI on a CSV file, end to end on the real producer and
// worker (Redis, MinIO, the simulator): a campaign whose rows on an
// unpublished page fail; publish it, retry, every poster is made, the
// manifest's URLs download and the archive holds each poster by key with
// the QR code of its row.
func TestBatchCLIEndToEnd(t *testing.T) {
	const key = "e2e-batch-cli-key-0123456789"
	const draft = "pages/draft/draft" // not published until the retry
	const secret = "e2e-batch-cli-callback-secret"
	hook := newVerifyingReceiver(t, secret)
	s := start(t, withAPIKeys(key), withCallbacks(secret, mustURL(t, hook.srv.URL).Host))
	requireBatchRoutes(t, s, key)
	bin := buildCLI(t)
	dir := t.TempDir()

	csvPath := filepath.Join(dir, "campaign.csv")
	rows := "key,page,scene,param.from,param.ch,data.nickname\n" +
		"u1,,id:1;from:u1,,,小明\n" +
		"u2,,,u2,group,\"Li, Lei\"\n" +
		"u3," + draft + ",id:3,,,小红\n" +
		"u4,,id:4,,,\"多行\n昵称\"\n" +
		"u5," + draft + ",,u5,moments,小刚\n"
	if err := os.WriteFile(csvPath, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	scenes := map[string]string{"u1": "id:1;from:u1", "u3": "id:3", "u4": "id:4"}
	for k, params := range map[string]map[string]string{"u2": {"from": "u2", "ch": "group"}, "u5": {"from": "u5", "ch": "moments"}} {
		ref, err := scene.NewStore(s.rdb).Scene(ctxT(t), params) // deterministic: the item's scene
		if err != nil {
			t.Fatal(err)
		}
		scenes[k] = ref
	}
	pages := map[string]string{"u1": pageIndex, "u2": pageIndex, "u3": draft, "u4": pageIndex, "u5": draft}

	// Malformed CSV: exit 3 naming the line, and nothing reaches the API.
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("key,scene,param.from\nk1,a,\nk2,b,u2\n"), 0o644)
	if r := s.cli(t, bin, key, "create", bad, "--template", "default"); r.code != 3 ||
		!strings.Contains(r.stderr, bad+":3: scene and param.* are both set") {
		t.Fatalf("malformed CSV: exit %d, stderr %s", r.code, r.stderr)
	}

	// Items the API refuses: exit 3, shown as lines of the file (the
	// quoted line break puts the third row on line 5), nothing enqueued.
	refused := filepath.Join(dir, "refused.csv")
	os.WriteFile(refused, []byte("key,scene,data.nickname\nk1,id:1,\"two\nlines\"\nk2,"+strings.Repeat("x", 40)+",\nk3,id:3,\n"), 0o644)
	if r := s.cli(t, bin, key, "create", refused, "--template", "default", "--page", pageIndex); r.code != 3 ||
		!strings.Contains(r.stderr, refused+`:4 (key "k2"): scene: `) || !strings.Contains(r.stderr, "nothing was enqueued") {
		t.Fatalf("refused items: exit %d, stderr %s", r.code, r.stderr)
	}
	if r := s.cli(t, bin, key, "list"); r.code != 0 || r.stdout != "" {
		t.Fatalf("a batch was made from bad input: %s", r.stdout)
	}

	manifest := filepath.Join(dir, "manifest.csv")
	r := s.cli(t, bin, key, "create", csvPath, "--template", "default", "--page", pageIndex,
		"--data", "title=周末一起去爬山", "--name", "e2e-campaign", "--callback", hook.srv.URL+"/hooks/wxposter",
		"--wait", "--interval", "1s", "-o", manifest)
	if r.code != 4 {
		t.Fatalf("create --wait: exit %d, want 4 (two items on an unpublished page)", r.code)
	}
	var id string
	if _, err := fmt.Sscanf(r.stdout, "batch %s created: 5 items", &id); err != nil {
		t.Fatalf("no batch id in %q", r.stdout)
	}
	for _, want := range []string{" completed: 5/5 done (100%), 2 failed", "3 succeeded, 2 failed, 0 cancelled (of 5)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if !strings.Contains(r.stderr, "41030") || !strings.Contains(r.stderr, "u3") || !strings.Contains(r.stderr, "wxposter batch retry "+id) {
		t.Errorf("stderr does not show the failures: %s", r.stderr)
	}
	m := readManifest(t, manifest)
	if len(m) != 5 {
		t.Fatalf("manifest has %d rows, want 5", len(m))
	}
	for k, row := range m {
		want := "succeeded"
		if pages[k] == draft {
			want = "failed"
		}
		if row["status"] != want {
			t.Errorf("%s: %v, want %s", k, row, want)
		}
	}
	// WeChat's 41030 after one attempt: not retried.
	if n := s.sim.Count("/wxa/getwxacodeunlimit", 41030); n != 2 {
		t.Errorf("the simulator answered 41030 %d times, want 2", n)
	}

	// Publish the page; retry runs the failed items only.
	s.sim.SetPublishedPages(pageIndex, pageDetail, draft)
	manifest2 := filepath.Join(dir, "manifest2.csv")
	if r := s.cli(t, bin, key, "retry", id, "--wait", "--interval", "1s", "-o", manifest2); r.code != 0 {
		t.Fatalf("retry --wait: exit %d", r.code)
	}
	m = readManifest(t, manifest2)
	for k, row := range m {
		if row["status"] != "succeeded" || row["url"] == "" {
			t.Fatalf("%s after retry: %v", k, row)
		}
		download(t, row["url"])
	}
	if r := s.cli(t, bin, key, "status", id); r.code != 0 || !strings.Contains(r.stdout, "completed, 5/5 done") ||
		!strings.Contains(r.stdout, "succeeded 5, failed 0") {
		t.Fatalf("status: %d %s", r.code, r.stdout)
	}

	// Each completion was called back once, signed as clients/callback
	// verifies it: the first with 2 failed, the retry's with none.
	got := hook.await(t, 2)
	if got[0].Batch.ID != id || got[0].Batch.Counts.Failed != 2 || got[1].Batch.Counts.Failed != 0 ||
		got[1].Batch.Counts.Succeeded != 5 || got[0].DeliveryID == got[1].DeliveryID {
		t.Fatalf("callbacks %+v", got)
	}

	// The archive: one poster per key, each with its row's code, and the manifest.
	zipPath := filepath.Join(dir, "campaign.zip")
	if r := s.cli(t, bin, key, "archive", id, "-o", zipPath); r.code != 0 {
		t.Fatalf("archive: exit %d", r.code)
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	posters := 0
	for _, f := range zr.File {
		k := strings.TrimSuffix(f.Name, filepath.Ext(f.Name))
		sc, ok := scenes[k]
		if !ok {
			if !strings.Contains(f.Name, "manifest") {
				t.Errorf("unexpected file %q in the archive", f.Name)
			}
			continue
		}
		posters++
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		img, _, err := image.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if got, want := scanQR(t, img), pages[k]+"?scene="+sc; got != want {
			t.Errorf("%s: QR %q, want %q", f.Name, got, want)
		}
	}
	if posters != 5 {
		t.Errorf("%d posters in the archive, want 5", posters)
	}

	// items --json lists every item; the list shows the batch.
	if r := s.cli(t, bin, key, "items", id, "--json"); r.code != 0 || strings.Count(r.stdout, "\n") != 5 {
		t.Fatalf("items: %d %s", r.code, r.stdout)
	}
	if r := s.cli(t, bin, key, "list"); r.code != 0 || !strings.Contains(r.stdout, id+"\tcompleted\t5/5 done") {
		t.Fatalf("list: %d %s", r.code, r.stdout)
	}
	// A wrong key is an error, not a usage error.
	if r := s.cli(t, bin, "wrong-key-0123456789abcdef", "status", id); r.code != 1 || !strings.Contains(r.stderr, "401") {
		t.Fatalf("wrong key: %d %s", r.code, r.stderr)
	}
}

// verifyingReceiver takes batch callbacks and keeps those that
// clients/callback verifies (it refuses the others with a 400).
type verifyingReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	events []callbackEvent
	bad    int
}

type callbackEvent struct {
	Event      string `json:"event"`
	DeliveryID string `json:"delivery_id"`
	Batch      struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Counts struct {
			Succeeded int `json:"succeeded"`
			Failed    int `json:"failed"`
		} `json:"counts"`
	} `json:"batch"`
}

func newVerifyingReceiver(t *testing.T, secret string) *verifyingReceiver {
	r := &verifyingReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		err := callback.Verify([]byte(secret), body, req.Header.Get(callback.Header), time.Now(), callback.DefaultTolerance)
		var ev callbackEvent
		if err == nil {
			err = json.Unmarshal(body, &ev)
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if err != nil || ev.Event != "batch.completed" {
			r.bad++
			http.Error(w, fmt.Sprint(err), http.StatusBadRequest)
			return
		}
		r.events = append(r.events, ev)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// await returns the first n verified callbacks, in order (at most 30 s).
func (r *verifyingReceiver) await(t *testing.T, n int) []callbackEvent {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		got, bad := append([]callbackEvent(nil), r.events...), r.bad
		r.mu.Unlock()
		if bad > 0 {
			t.Fatalf("%d callbacks did not verify", bad)
		}
		if len(got) >= n {
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("fewer than %d callbacks in 30 s", n)
	return nil
}

// The documented Node receiver (clients/callback/receiver.js) verifies a
// real callback of a batch created with the CLI's --callback.
func TestBatchCLICallbackToNodeReceiver(t *testing.T) {
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; the Node receiver is tested where it is")
	}
	const key = "e2e-batch-cli-key-0123456789"
	const secret = "e2e-batch-cli-node-secret"
	cmd := exec.Command(nodeBin, "../clients/callback/receiver.js", "0")
	cmd.Env = append(os.Environ(), "WXPOSTER_CALLBACK_SECRET="+secret)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var l struct{ Listening int }
	if err := json.Unmarshal([]byte(<-lines), &l); err != nil || l.Listening == 0 {
		t.Fatalf("receiver did not start: %v", err)
	}
	host := fmt.Sprintf("127.0.0.1:%d", l.Listening)

	s := start(t, withAPIKeys(key), withCallbacks(secret, host))
	requireBatchRoutes(t, s, key)
	bin := buildCLI(t)
	csvPath := filepath.Join(t.TempDir(), "node.csv")
	os.WriteFile(csvPath, []byte("key,scene\nn1,node:1\nn2,node:2\n"), 0o644)
	r := s.cli(t, bin, key, "create", csvPath, "--template", "default", "--page", pageIndex,
		"--callback", "http://"+host+"/hooks", "--wait", "--interval", "1s")
	if r.code != 0 {
		t.Fatalf("create --wait: exit %d", r.code)
	}
	var id string
	fmt.Sscanf(r.stdout, "batch %s created", &id)
	select {
	case line := <-lines:
		var got struct {
			DeliveryID string `json:"delivery_id"`
			Batch      string `json:"batch"`
			Status     string `json:"status"`
		}
		if err := json.Unmarshal([]byte(line), &got); err != nil || got.Batch != id || got.Status != "completed" || got.DeliveryID == "" {
			t.Fatalf("the Node receiver handled %q, want batch %s completed", line, id)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the Node receiver got no verified callback in 30 s")
	}
}

// `wxposter batch cancel` stops a running campaign: `status --wait` then
// ends with cancelled items (exit 4), and the simulator's code calls stop.
func TestBatchCLICancel(t *testing.T) {
	const key = "e2e-batch-cli-key-0123456789"
	s := start(t, withAPIKeys(key), withWorkerConcurrency(2), withSim(wxsim.WithLatency(150*time.Millisecond)))
	requireBatchRoutes(t, s, key)
	bin := buildCLI(t)
	var sb strings.Builder
	sb.WriteString("key,scene\n")
	for i := range 60 {
		fmt.Fprintf(&sb, "c%02d,cancel:%d\n", i, i)
	}
	csvPath := filepath.Join(t.TempDir(), "long.csv")
	os.WriteFile(csvPath, []byte(sb.String()), 0o644)
	r := s.cli(t, bin, key, "create", csvPath, "--template", "default", "--page", pageIndex, "-q")
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || id == "" || strings.Contains(id, " ") {
		t.Fatalf("create -q: exit %d, printed %q", r.code, r.stdout)
	}
	deadline := time.Now().Add(30 * time.Second)
	for s.sim.Total("/wxa/getwxacodeunlimit") < 3 {
		if time.Now().After(deadline) {
			t.Fatal("the batch did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r := s.cli(t, bin, key, "cancel", id); r.code != 0 || !strings.Contains(r.stdout, "batch "+id+": cancelled") {
		t.Fatalf("cancel: exit %d", r.code)
	}
	r = s.cli(t, bin, key, "status", id, "--wait", "--interval", "1s")
	if r.code != 4 || !strings.Contains(r.stdout, "batch "+id+" cancelled") || !strings.Contains(r.stderr, " cancelled items of 60") {
		t.Fatalf("status --wait after cancel: exit %d", r.code)
	}
	calls := s.sim.Total("/wxa/getwxacodeunlimit")
	time.Sleep(time.Second)
	if got := s.sim.Total("/wxa/getwxacodeunlimit"); got != calls || calls >= 60 {
		t.Fatalf("code calls: %d at the end, %d a second later, of 60 items", calls, got)
	}
	// Cancelling again is refused: the batch has ended.
	if r := s.cli(t, bin, key, "cancel", id); r.code != 1 || !strings.Contains(r.stderr, "409") {
		t.Fatalf("second cancel: exit %d", r.code)
	}
}
