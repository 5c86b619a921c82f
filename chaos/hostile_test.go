//go:build chaos

package chaos

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wxposter/wxposter/internal/procstat"
	"github.com/wxposter/wxposter/storage"
)

// hostileImages stores the hostile files of issue 9 in the scenario's
// bucket, under a public prefix, and returns their URLs: the worker reads
// its own objects from storage (fetching from loopback is refused by the
// SSRF policy, rightly).
func hostileImages(t *testing.T, c *cluster) (gifURL, jpegURL func(job, i int) string) {
	var g bytes.Buffer
	gif.Encode(&g, image.NewPaletted(image.Rect(0, 0, 4000, 4000), color.Palette{color.White, color.Black}), nil)
	var j bytes.Buffer
	jpeg.Encode(&j, image.NewGray(image.Rect(0, 0, 64, 64)), nil)
	base := j.Bytes()
	sos := bytes.LastIndex(base, []byte{0xff, 0xda})
	var scans bytes.Buffer
	scans.Write(base[:len(base)-2])
	for range 3000 {
		scans.Write(base[sos : len(base)-2])
	}
	scans.Write([]byte{0xff, 0xd9})

	ctx := context.Background()
	bucket := "chaos-" + c.name
	st, err := storage.New(ctx, storage.Config{Endpoint: fmt.Sprintf("127.0.0.1:%d", s3Port),
		AccessKey: s3User, SecretKey: s3Pass, Bucket: bucket})
	if err != nil {
		t.Fatal(err)
	}
	url := func(kind string) func(job, i int) string {
		return func(job, i int) string { return st.URL(fmt.Sprintf("posters/hostile/%s-%d-%d", kind, job, i)) }
	}
	for job := range 6 {
		for i := range 20 {
			if err := st.Put(ctx, fmt.Sprintf("posters/hostile/gif-%d-%d", job, i), g.Bytes(), storage.PutOptions{ContentType: "image/gif"}); err != nil {
				t.Fatal(err)
			}
			if i < 3 {
				if err := st.Put(ctx, fmt.Sprintf("posters/hostile/jpeg-%d-%d", job, i), scans.Bytes(), storage.PutOptions{ContentType: "image/jpeg"}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return url("gif"), url("jpeg")
}

// imagePalette is a palette of n image views whose URLs are variables.
func imagePalette(n int) map[string]any {
	var views []map[string]any
	for i := range n {
		views = append(views, map[string]any{"type": "image", "url": fmt.Sprintf("{{img%d}}", i),
			"css": map[string]string{"width": "100rpx", "height": "100rpx", "left": fmt.Sprintf("%drpx", i*30)}})
	}
	views = append(views, map[string]any{"type": "wxacode", "css": map[string]string{"width": "200rpx", "height": "200rpx", "bottom": "0", "right": "0"}})
	return map[string]any{"width": "750rpx", "height": "1000rpx", "background": "#ffffff", "views": views}
}

func rotatedPalette() map[string]any {
	var views []map[string]any
	for i := range 10 {
		views = append(views, map[string]any{"id": fmt.Sprintf("v%d", i), "type": "rect",
			"css": map[string]string{"width": "4096rpx", "height": "4096rpx", "color": "#336699", "rotate": "33",
				"shadow": "5px 5px 50px rgba(0,0,0,0.5)"}})
	}
	return map[string]any{"width": "4096rpx", "height": "4096rpx", "views": views}
}

// The hostile inputs of issue 9, at once, next to ordinary posters, on a
// worker at concurrency 8: each hostile job ends with a permanent
// render_failed naming the view and the limit, after one attempt; the
// ordinary posters succeed; the worker's peak RSS is reported (and must
// stay under 400 MB).
func TestHostileInputs(t *testing.T) {
	const perTemplate, ordinary = 6, 16
	c := newCluster(t, "hostile")
	c.startProducer() // creates the bucket
	gifURL, jpegURL := hostileImages(t, c)
	w := c.startWorker(8)
	webp, err := os.ReadFile("../poster/imagesrc/testdata/white-4000x4000.webp")
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(webp)
	type hostile struct {
		name    string
		palette map[string]any
		data    func(job, i int) string
		n       int
		// atDoor: the template itself is refused by PUT's dry run (400
		// naming the view and the limit), so no job is ever made of it.
		atDoor bool
	}
	set := []hostile{
		{"hostile-webp", imagePalette(20), func(job, i int) string {
			return fmt.Sprintf("data:image/webp;n=%d-%d;base64,%s", job, i, b64) // data: URIs in variables
		}, 20, false},
		{"hostile-gif", imagePalette(20), gifURL, 20, false},
		{"hostile-jpeg", imagePalette(3), jpegURL, 3, false},
		{"hostile-rotate", rotatedPalette(), nil, 0, true},
	}
	refusedAtDoor := 0
	for _, h := range set {
		code, out, err := c.call("PUT", "/v1/templates/"+h.name, h.palette)
		switch {
		case err != nil:
			t.Fatalf("PUT template %s: %v", h.name, err)
		case h.atDoor:
			if code != http.StatusBadRequest || !strings.Contains(string(out), "views[") || !strings.Contains(string(out), "limit") {
				t.Fatalf("PUT template %s: %d %s, want a 400 naming the view and the limit", h.name, code, out)
			}
			refusedAtDoor++
		case code >= 300:
			t.Fatalf("PUT template %s: %d %s", h.name, code, out)
		}
	}

	var (
		mu   sync.Mutex
		peak int64
		stop = make(chan struct{})
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		tk := time.NewTicker(50 * time.Millisecond)
		defer tk.Stop()
		for {
			if rss := vmRSS(w.cmd.Process.Pid); rss > 0 {
				mu.Lock()
				peak = max(peak, rss)
				mu.Unlock()
			}
			select {
			case <-stop:
				return
			case <-tk.C:
			}
		}
	}()

	// Baseline, same worker, same sitting: ordinary posters only.
	c.awaitAll(c.submit(posters("base", 40)...), 2*time.Minute)
	mu.Lock()
	baseline := peak
	peak = 0
	mu.Unlock()

	var bodies []map[string]any
	kinds := map[int]string{}
	for _, h := range set {
		if h.atDoor {
			continue
		}
		for job := range perTemplate {
			data := map[string]string{}
			for i := range h.n {
				data[fmt.Sprintf("img%d", i)] = h.data(job, i)
			}
			kinds[len(bodies)] = h.name
			bodies = append(bodies, map[string]any{"template": h.name, "page": page,
				"scene": fmt.Sprintf("%s-%d", strings.TrimPrefix(h.name, "hostile-"), job), "data": data})
		}
	}
	nHostile := len(bodies)
	bodies = append(bodies, posters("ok", ordinary)...)

	// Submit all, then time each job from its submission to its end.
	type result struct {
		j    job
		took time.Duration
	}
	results := make([]result, len(bodies))
	var wg sync.WaitGroup
	for i, b := range bodies {
		wg.Go(func() {
			start := time.Now()
			id := c.submit(b)[0]
			var j job
			for time.Since(start) < 3*time.Minute {
				code, out, err := c.call("GET", "/v1/posters/"+id+"?wait=30", nil)
				if err == nil && code == http.StatusOK {
					json.Unmarshal(out, &j)
					if j.Status == "succeeded" || j.Status == "failed" {
						break
					}
				}
			}
			results[i] = result{j, time.Since(start)}
		})
	}
	wg.Wait()
	close(stop)
	<-done

	var hostileFailed, okSucceeded, wrong int
	var slowest time.Duration
	reasons := map[string]string{}
	for i, r := range results {
		if i < nHostile {
			e := r.j.Error
			good := r.j.Status == "failed" && r.j.Attempts == 1 && e != nil && e.Code == "render_failed" &&
				(strings.Contains(e.Message, "views[") || strings.Contains(e.Message, "too costly")) &&
				(strings.Contains(e.Message, "limit") || strings.Contains(e.Message, "scans"))
			if good {
				hostileFailed++
				reasons[kinds[i]] = e.Message
			} else {
				wrong++
				t.Errorf("%s job: %+v (error %+v), want a first-attempt render_failed naming the view and the limit", kinds[i], r.j, e)
			}
			slowest = max(slowest, r.took)
		} else if r.j.Status == "succeeded" {
			okSucceeded++
		} else {
			t.Errorf("ordinary poster: %+v", r.j)
		}
	}
	for k, v := range reasons {
		t.Logf("%s: %s", k, v)
	}
	report(t, "hostile inputs", "refused_at_put", refusedAtDoor, "hostile_jobs", nHostile, "render_failed_first_attempt", hostileFailed,
		"slowest_hostile_job", slowest.Round(time.Millisecond), "ordinary", ordinary, "ordinary_succeeded", okSucceeded,
		"worker_concurrency", 8, "peak_rss_mb", peak/1024, "baseline_peak_rss_mb", baseline/1024,
		"rss_ratio", fmt.Sprintf("%.2f", float64(peak)/float64(max(baseline, 1))),
		"code_calls", c.codeCalls()-40, "distinct_codes", len(bodies))
	if peak/1024 >= 400 {
		t.Errorf("worker peak RSS %d MB, want < 400 MB", peak/1024)
	}
	if okSucceeded != ordinary {
		t.Errorf("%d of %d ordinary posters succeeded", okSucceeded, ordinary)
	}
	if calls := c.codeCalls() - 40; calls != len(bodies) {
		t.Errorf("code calls %d, want %d (one per distinct code)", calls, len(bodies))
	}
}

// vmRSS is the resident memory of pid in KiB (0 if unknown).
func vmRSS(pid int) int64 { return procstat.RSS(pid) >> 10 }
