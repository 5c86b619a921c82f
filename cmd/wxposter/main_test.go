package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/storage"
)

func TestUnknownSubcommand(t *testing.T) {
	if err := run(context.Background(), []string{"bogus"}, io.Discard); err == nil {
		t.Fatal("want an error")
	}
	if err := run(context.Background(), nil, io.Discard); err == nil {
		t.Fatal("want an error")
	}
}

func TestConfigErrorNamesVariable(t *testing.T) {
	t.Setenv("WXPOSTER_APPS", "")
	t.Setenv("WXPOSTER_MINIO_ACCESS_KEY", "k")
	t.Setenv("WXPOSTER_MINIO_SECRET_KEY", "s")
	err := run(context.Background(), []string{"worker"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "WXPOSTER_APPS") {
		t.Fatalf("err = %v, want it to name WXPOSTER_APPS", err)
	}
}

// `wxposter dev -demo` (what `make run` starts) makes a poster whose URL serves a JPEG.
func TestDevDemo(t *testing.T) {
	bucket := "wxtest-dev-" + testenv.ID(6)
	t.Setenv("WXPOSTER_LISTEN", "127.0.0.1:0")
	t.Setenv("WXPOSTER_SIM_LISTEN", "127.0.0.1:0")
	t.Setenv("WXPOSTER_WECHAT_API_BASE", "")
	t.Setenv("WXPOSTER_BUCKET", bucket)
	queue := "dev-" + testenv.ID(6)
	t.Setenv("WXPOSTER_QUEUE", queue)
	t.Setenv("WXPOSTER_BATCH_QUEUE", queue+"-batch") // dev's dashboard lists it
	insp := asynq.NewInspectorFromRedisClient(testenv.Redis(t))
	t.Cleanup(func() {
		insp.DeleteQueue(queue, true)
		insp.DeleteQueue(queue+"-batch", true)
	})
	t.Setenv("WXPOSTER_MINIO_ACCESS_KEY", testenv.MinIOKey)
	t.Setenv("WXPOSTER_MINIO_SECRET_KEY", testenv.MinIOSecret)
	t.Setenv("WXPOSTER_LOG_LEVEL", "warn")
	t.Setenv("WXPOSTER_APPS", "") // dev fills in its demo app; restored after the test
	t.Setenv("WXPOSTER_TEMPLATE_DIR", "../../examples/templates")
	t.Cleanup(func() {
		s, err := storage.New(context.Background(), storage.Config{Endpoint: testenv.MinIOServer,
			AccessKey: testenv.MinIOKey, SecretKey: testenv.MinIOSecret, Bucket: bucket})
		if err == nil {
			_ = s.RemoveAll(context.Background())
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"dev", "-demo"}, pw); pw.Close() }()

	// The default template's poster, then the activity example's.
	var urls []string
	sc := bufio.NewScanner(pr)
	for sc.Scan() && len(urls) < 2 {
		for _, prefix := range []string{"demo poster: ", "template poster: "} {
			if u, ok := strings.CutPrefix(sc.Text(), prefix); ok {
				urls = append(urls, u)
			}
		}
	}
	go io.Copy(io.Discard, pr)
	if len(urls) < 2 {
		cancel()
		t.Fatalf("demo poster URLs %v, want 2; run: %v", urls, <-done)
	}
	for _, url := range urls {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" {
			t.Fatalf("GET %s = %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("dev exited with %v", err)
	}
}
