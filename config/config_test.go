package config

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func base() map[string]string {
	return map[string]string{
		"WXPOSTER_MINIO_ACCESS_KEY": "ak",
		"WXPOSTER_MINIO_SECRET_KEY": "sk-very-secret",
		"WXPOSTER_APPS":             "wx1:secret-one, wx2:secret-two",
	}
}

func TestLoadDefaults(t *testing.T) {
	c, err := LoadFrom(base())
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8080" || c.MinIOEndpoint != "127.0.0.1:9000" || c.Bucket != "wxposter" ||
		c.WeChatAPIBase != "https://api.weixin.qq.com" || c.WorkerConcurrency != 10 ||
		c.PublicBaseURL != "http://127.0.0.1:9000/wxposter" || c.WorkerPollInterval != 100*time.Millisecond {
		t.Fatalf("defaults: %+v", c)
	}
	if len(c.Apps) != 2 || c.Apps[0].AppID != "wx1" || string(c.Apps[1].Secret) != "secret-two" {
		t.Fatalf("apps: %+v", c.Apps)
	}
	if a, ok := c.App(""); !ok || a.AppID != "wx1" {
		t.Fatal("the first app is the default")
	}
}

func TestLoadErrorsNameTheVariable(t *testing.T) {
	cases := []struct{ key, value, wantVar string }{
		{"WXPOSTER_LISTEN", "8080", "WXPOSTER_LISTEN"},
		{"WXPOSTER_REDIS_URL", "localhost:6379", "WXPOSTER_REDIS_URL"},
		{"WXPOSTER_MINIO_ENDPOINT", "http://minio:9000", "WXPOSTER_MINIO_ENDPOINT"},
		{"WXPOSTER_MINIO_ACCESS_KEY", "", "WXPOSTER_MINIO_ACCESS_KEY"},
		{"WXPOSTER_MINIO_SECURE", "yes please", "WXPOSTER_MINIO_SECURE"},
		{"WXPOSTER_BUCKET", "Bad_Bucket", "WXPOSTER_BUCKET"},
		{"WXPOSTER_PUBLIC_BASE_URL", "cdn.example.com", "WXPOSTER_PUBLIC_BASE_URL"},
		{"WXPOSTER_WECHAT_API_BASE", "ftp://x", "WXPOSTER_WECHAT_API_BASE"},
		{"WXPOSTER_APPS", "", "WXPOSTER_APPS"},
		{"WXPOSTER_APPS", "wx1", "WXPOSTER_APPS"},
		{"WXPOSTER_APPS", "wx1:a,wx1:b", "WXPOSTER_APPS"},
		{"WXPOSTER_API_KEYS", "short", "WXPOSTER_API_KEYS"},
		{"WXPOSTER_WORKER_CONCURRENCY", "0", "WXPOSTER_WORKER_CONCURRENCY"},
		{"WXPOSTER_WORKER_CONCURRENCY", "ten", "WXPOSTER_WORKER_CONCURRENCY"},
		{"WXPOSTER_WORKER_POLL_INTERVAL", "1", "WXPOSTER_WORKER_POLL_INTERVAL"},
		{"WXPOSTER_LOG_FORMAT", "xml", "WXPOSTER_LOG_FORMAT"},
		{"WXPOSTER_TEMPLATE_DIR", "/nonexistent/templates", "WXPOSTER_TEMPLATE_DIR"},
		{"WXPOSTER_TEMPLATE_DIR", "config_test.go", "WXPOSTER_TEMPLATE_DIR"},
		// issue 9: 1-5 s was accepted, and jobs then never ran.
		{"WXPOSTER_JOB_TIMEOUT", "5s", "WXPOSTER_JOB_TIMEOUT"},
		{"WXPOSTER_OUTAGE_TOLERANCE", "-1m", "WXPOSTER_OUTAGE_TOLERANCE"},
		{"WXPOSTER_SHARE_MAX_AGE", "10s", "WXPOSTER_SHARE_MAX_AGE"},
		{"WXPOSTER_ID_SECRET", "short", "WXPOSTER_ID_SECRET"},
		{"WXPOSTER_PPROF_LISTEN", "0.0.0.0:6060", "WXPOSTER_PPROF_LISTEN"},
		{"WXPOSTER_PPROF_LISTEN", "6060", "WXPOSTER_PPROF_LISTEN"},
		{"WXPOSTER_RENDER_CONCURRENCY", "-1", "WXPOSTER_RENDER_CONCURRENCY"},
	}
	for _, tc := range cases {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			env := base()
			env[tc.key] = tc.value
			_, err := LoadFrom(env)
			var ce *Error
			if !errors.As(err, &ce) || ce.Var != tc.wantVar || ce.Rule == "" {
				t.Fatalf("err = %v, want one naming %s", err, tc.wantVar)
			}
			if strings.Contains(err.Error(), "secret-one") || strings.Contains(err.Error(), "sk-very-secret") {
				t.Fatalf("error leaks a secret: %v", err)
			}
		})
	}
}

func TestTemplateDir(t *testing.T) {
	env := base()
	if c, err := LoadFrom(env); err != nil || c.TemplateDir != "" {
		t.Fatalf("default = %q %v, want none", c.TemplateDir, err)
	}
	env["WXPOSTER_TEMPLATE_DIR"] = t.TempDir()
	if c, err := LoadFrom(env); err != nil || c.TemplateDir != env["WXPOSTER_TEMPLATE_DIR"] {
		t.Fatalf("got %+v %v", c, err)
	}
}

func TestSecretsDoNotPrint(t *testing.T) {
	c, err := LoadFrom(base())
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	slog.New(slog.NewTextHandler(&sb, nil)).Info("cfg", "cfg", c, "apps", c.Apps, "app", c.Apps[0])
	out := sb.String() + fmt.Sprintf("%v %+v %#v %s", c, c, c, c.MinIOSecretKey)
	for _, s := range []string{"secret-one", "secret-two", "sk-very-secret"} {
		if strings.Contains(out, s) {
			t.Fatalf("%q printed in %s", s, out)
		}
	}
}

func TestLoadSim(t *testing.T) {
	c, err := LoadSim(map[string]string{"WXPOSTER_APPS": "wx1:s"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9400" || len(c.Apps) != 1 || len(c.Pages) != 3 || c.QuotaPerMinute != 5000 {
		t.Fatalf("%+v", c)
	}
	_, err = LoadSim(map[string]string{"WXPOSTER_APPS": "wx1:s", "WXPOSTER_SIM_ERROR_RATIO": "2"})
	var ce *Error
	if !errors.As(err, &ce) || ce.Var != "WXPOSTER_SIM_ERROR_RATIO" {
		t.Fatalf("err = %v", err)
	}
}
