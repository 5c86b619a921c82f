//go:build chaos

package chaos

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wxposter/wxposter/wxsim"
)

// The faults port range: nothing here touches the shared 6379 or 9000.
const (
	redisPort    = 7201
	s3Port       = 7202
	simPort      = 7203
	producerPort = 7204
	imagesPort   = 7205

	appID     = "wxc0ffee0123456789"
	appSecret = "chaos-app-secret"
	s3User    = "chaosadmin"
	s3Pass    = "chaos-secret-key-0123"
	page      = "pages/index/index"
)

var (
	bin  string // the wxposter binary, built once
	work string // state of this run: Redis AOF, MinIO data, logs
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	if work, err = os.MkdirTemp("", "wxposter-chaos-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(work)
	bin = filepath.Join(work, "wxposter")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/wxposter").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// proc is a child process we started (and only we stop).
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

func startProc(t *testing.T, name string, env []string, path string, args ...string) *proc {
	t.Helper()
	logPath := filepath.Join(work, fmt.Sprintf("%s-%d.log", name, time.Now().UnixNano()))
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	t.Cleanup(func() { p.kill(syscall.SIGKILL) })
	return p
}

func (p *proc) kill(sig syscall.Signal) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(sig)
	if sig == syscall.SIGKILL {
		<-p.done
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(d time.Duration) (int, error) {
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode(), nil
	case <-time.After(d):
		return -1, fmt.Errorf("%s did not exit within %s", p.name, d)
	}
}

func (p *proc) logText() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

func waitTCP(t *testing.T, port int, what string) {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("%s did not listen on %d", what, port)
}

// cluster is one scenario's system: its own Redis, MinIO, simulator,
// producer and workers.
type cluster struct {
	t       *testing.T
	name    string
	redis   *proc
	s3      *proc
	sim     *wxsim.Sim
	simSrv  *http.Server
	rdb     *redis.Client
	prod    *proc
	workers []*proc
	env     []string
	http    *http.Client
}

func newCluster(t *testing.T, name string, simOpts ...wxsim.Option) *cluster {
	c := &cluster{t: t, name: name, http: &http.Client{Timeout: 60 * time.Second}}
	dir := filepath.Join(work, name)
	os.MkdirAll(filepath.Join(dir, "redis"), 0o755)
	os.MkdirAll(filepath.Join(dir, "s3"), 0o755)
	c.startRedis()
	c.startS3()
	c.rdb = redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", redisPort)})
	t.Cleanup(func() { c.rdb.Close() })

	c.sim = wxsim.New(append([]wxsim.Option{wxsim.WithApp(appID, appSecret), wxsim.WithPublishedPages(page),
		wxsim.WithQuotaPerMinute(0)}, simOpts...)...)
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", simPort))
	if err != nil {
		t.Fatal(err)
	}
	c.simSrv = &http.Server{Handler: c.sim}
	go c.simSrv.Serve(ln)
	t.Cleanup(func() { c.simSrv.Close() })

	c.env = append(os.Environ(),
		fmt.Sprintf("WXPOSTER_REDIS_URL=redis://127.0.0.1:%d/0", redisPort),
		fmt.Sprintf("WXPOSTER_MINIO_ENDPOINT=127.0.0.1:%d", s3Port),
		"WXPOSTER_MINIO_ACCESS_KEY="+s3User, "WXPOSTER_MINIO_SECRET_KEY="+s3Pass,
		"WXPOSTER_BUCKET=chaos-"+name,
		fmt.Sprintf("WXPOSTER_WECHAT_API_BASE=http://127.0.0.1:%d", simPort),
		"WXPOSTER_APPS="+appID+":"+appSecret,
		fmt.Sprintf("WXPOSTER_LISTEN=127.0.0.1:%d", producerPort),
		"WXPOSTER_LOG_FORMAT=json", "WXPOSTER_LOG_LEVEL=info",
		"WXPOSTER_ID_SECRET=chaos-id-secret-0123456789",
		fmt.Sprintf("WXPOSTER_IMAGE_HOSTS=127.0.0.1:%d", imagesPort),
		"WXPOSTER_JOB_TIMEOUT=60s",
	)
	t.Cleanup(func() {
		if t.Failed() {
			for _, p := range append(c.workers, c.prod) {
				if p != nil {
					t.Logf("--- %s log (tail):\n%s", p.name, tail(p.logText(), 30))
				}
			}
		}
	})
	return c
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// startRedis starts (or restarts, on the same AOF) the scenario's Redis.
func (c *cluster) startRedis() {
	dir := filepath.Join(work, c.name, "redis")
	c.redis = startProc(c.t, "redis", os.Environ(), "redis-server",
		"--port", strconv.Itoa(redisPort), "--bind", "127.0.0.1", "--dir", dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "",
		"--maxmemory-policy", "noeviction")
	waitTCP(c.t, redisPort, "redis")
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		cl := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", redisPort)})
		err := cl.Ping(context.Background()).Err()
		cl.Close()
		if err == nil {
			return
		}
	}
	c.t.Fatal("redis did not load its AOF")
}

// startS3 starts (or restarts, on the same data) the scenario's MinIO.
func (c *cluster) startS3() {
	minio := filepath.Join(os.Getenv("HOME"), "go", "bin", "minio")
	if p, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		minio = filepath.Join(strings.TrimSpace(string(p)), "bin", "minio")
	}
	env := append(os.Environ(), "MINIO_ROOT_USER="+s3User, "MINIO_ROOT_PASSWORD="+s3Pass, "MINIO_BROWSER=off")
	c.s3 = startProc(c.t, "minio", env, minio, "server", filepath.Join(work, c.name, "s3"),
		"--address", fmt.Sprintf("127.0.0.1:%d", s3Port), "--quiet")
	for end := time.Now().Add(60 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		// Ready for requests, not only alive: an anonymous bucket read is
		// refused (403/404) rather than "not initialized" (503).
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/chaos-probe/", s3Port))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable && resp.StatusCode < 500 {
				return
			}
		}
	}
	c.t.Fatal("minio did not start")
}

func (c *cluster) startProducer(extraEnv ...string) *proc {
	c.prod = startProc(c.t, "producer", append(append([]string{}, c.env...), extraEnv...), bin, "producer")
	waitTCP(c.t, producerPort, "producer")
	return c.prod
}

func (c *cluster) startWorker(concurrency int, extraEnv ...string) *proc {
	env := append(append([]string{}, c.env...), "WXPOSTER_WORKER_CONCURRENCY="+strconv.Itoa(concurrency))
	w := startProc(c.t, fmt.Sprintf("worker%d", len(c.workers)+1), append(env, extraEnv...), bin, "worker")
	c.workers = append(c.workers, w)
	// Ready once it has registered with asynq (a server entry in Redis).
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if strings.Contains(w.logText(), "worker started") {
			return w
		}
	}
	c.t.Fatalf("%s did not start:\n%s", w.name, w.logText())
	return nil
}

// job is what the API answers about a poster.
type job struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	URL      string `json:"url"`
	Attempts int    `json:"attempts"`
	Error    *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (c *cluster) base() string { return fmt.Sprintf("http://127.0.0.1:%d", producerPort) }

func (c *cluster) call(method, path string, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base()+path, r)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, nil
}

// poster is a default-template poster with a scene of its own: one
// distinct code per poster.
func poster(scene string) map[string]any {
	return map[string]any{"template": "default", "page": page, "scene": scene,
		"data": map[string]string{"nickname": "小明", "title": "故障注入 " + scene}}
}

// submit posts bodies and returns the job ids, failing on anything but 202/200.
func (c *cluster) submit(bodies ...map[string]any) []string {
	c.t.Helper()
	ids := make([]string, len(bodies))
	for i, b := range bodies {
		code, out, err := c.call("POST", "/v1/posters", b)
		if err != nil || (code != http.StatusAccepted && code != http.StatusOK) {
			c.t.Fatalf("POST /v1/posters: %d %s %v", code, out, err)
		}
		var j job
		json.Unmarshal(out, &j)
		ids[i] = j.ID
	}
	return ids
}

func posters(prefix string, n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = poster(fmt.Sprintf("%s%d", prefix, i))
	}
	return out
}

// tally is the end state of a set of jobs.
type tally struct {
	Jobs, Succeeded, Failed, Lost int
	Codes                         map[string]int // error codes of failures
	Took                          time.Duration
}

// awaitAll polls every job until it ends or the deadline passes; a job
// that is unknown (404) or still not ended then counts as lost.
func (c *cluster) awaitAll(ids []string, within time.Duration) (tally, map[string]job) {
	c.t.Helper()
	start := time.Now()
	end := start.Add(within)
	final := map[string]job{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for _, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var j job
			for time.Now().Before(end) {
				code, out, err := c.call("GET", "/v1/posters/"+id+"?wait=10", nil)
				if err == nil && code == http.StatusOK {
					json.Unmarshal(out, &j)
					if j.Status == "succeeded" || j.Status == "failed" {
						break
					}
				} else if err == nil && code == http.StatusNotFound {
					j = job{ID: id, Status: "lost"}
					break
				} else {
					time.Sleep(500 * time.Millisecond) // producer or Redis down: poll again
				}
			}
			mu.Lock()
			final[id] = j
			mu.Unlock()
		}()
	}
	wg.Wait()
	t := tally{Jobs: len(ids), Codes: map[string]int{}, Took: time.Since(start)}
	for _, j := range final {
		switch j.Status {
		case "succeeded":
			t.Succeeded++
		case "failed":
			t.Failed++
			if j.Error != nil {
				t.Codes[j.Error.Code]++
			}
		default:
			t.Lost++
		}
	}
	return t, final
}

// codeCalls is how many codes WeChat handed out (successful code calls).
func (c *cluster) codeCalls() int { return c.sim.Count("/wxa/getwxacodeunlimit", 0) }

// report prints a scenario's figures in one line (docs/reliability.md).
func report(t *testing.T, name string, kv ...any) {
	var b strings.Builder
	fmt.Fprintf(&b, "CHAOS %-22s", name)
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, " %v=%v", kv[i], kv[i+1])
	}
	t.Log(b.String())
	fmt.Println(b.String())
}

// renders counts, from the workers' JSON logs, the jobs rendered more than
// once ("poster done" without "already made" in between).
func renders(ws ...*proc) (total, twice int) {
	done := map[string]int{}
	for _, w := range ws {
		sc := bufio.NewScanner(strings.NewReader(w.logText()))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var l struct {
				Msg string `json:"msg"`
				Job string `json:"job"`
			}
			if json.Unmarshal(sc.Bytes(), &l) != nil {
				continue
			}
			switch l.Msg {
			case "poster done":
				done[l.Job]++
			case "poster was already made: not rendering it again":
				done[l.Job]--
			}
		}
	}
	for _, n := range done {
		total += n
		if n > 1 {
			twice++
		}
	}
	return total, twice
}
