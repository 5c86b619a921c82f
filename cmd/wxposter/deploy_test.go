package main

import (
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/wxposter/wxposter/config"
	"github.com/wxposter/wxposter/poster/text"
)

// The deployment files and docs/deploy.md cannot drift from the
// configuration: every WXPOSTER_ variable they use is one wxposter reads.
func TestDeployFilesUseKnownVariables(t *testing.T) {
	known := append(config.Variables(), text.FontDirEnv)
	re := regexp.MustCompile(`WXPOSTER_[A-Z0-9_]*[A-Z0-9](_\*)?`) // WXPOSTER_MINIO_* names a family
	for _, f := range []string{"../../compose.yaml", "../../Dockerfile", "../../docs/deploy.md"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for _, v := range re.FindAllString(string(b), -1) {
			seen++
			if prefix, family := strings.CutSuffix(v, "*"); family {
				if !slices.ContainsFunc(known, func(k string) bool { return strings.HasPrefix(k, prefix) }) {
					t.Errorf("%s names %s, but wxposter reads no such variable", f, v)
				}
				continue
			}
			if !slices.Contains(known, v) {
				t.Errorf("%s uses %s, which wxposter does not read", f, v)
			}
		}
		if seen == 0 {
			t.Errorf("%s uses no WXPOSTER_ variable; is the pattern right?", f)
		}
	}
}

// compose.yaml gives every service what start-up requires.
func TestComposeSetsRequiredVariables(t *testing.T) {
	b, err := os.ReadFile("../../compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"WXPOSTER_REDIS_URL", "WXPOSTER_MINIO_ENDPOINT", "WXPOSTER_MINIO_ACCESS_KEY",
		"WXPOSTER_MINIO_SECRET_KEY", "WXPOSTER_APPS", "WXPOSTER_PUBLIC_BASE_URL", "WXPOSTER_ID_SECRET", "WXPOSTER_SIM_LISTEN"} {
		if !regexp.MustCompile(`(?m)^\s+` + v + `:`).Match(b) {
			t.Errorf("compose.yaml does not set %s", v)
		}
	}
}

// Bad Redis and S3 settings stop start-up, before anything connects, with a
// message naming the variable and the rule and never the password.
func TestBadScaleSettingsStopStartUp(t *testing.T) {
	cases := []struct{ key, value, want string }{
		{"WXPOSTER_REDIS_URL", "redis+sentinel://:hunter2pw@10.0.0.1:26379,10.0.0.2:26379",
			"WXPOSTER_REDIS_URL: needs the master name as the path"},
		{"WXPOSTER_REDIS_URL", "redis+cluster://:hunter2pw@10.0.0.1:6379/3",
			"WXPOSTER_REDIS_URL: must have no database: Redis Cluster has only database 0"},
		{"WXPOSTER_S3_BUCKET_LOOKUP", "virtual-host", "WXPOSTER_S3_BUCKET_LOOKUP: must be auto, path or dns"},
		{"WXPOSTER_S3_CHECKSUM", "sha256", "WXPOSTER_S3_CHECKSUM: must be auto, md5 or crc32c"},
	}
	for _, sub := range []string{"producer", "worker"} {
		for _, tc := range cases {
			t.Run(sub+"/"+tc.key, func(t *testing.T) {
				t.Setenv("WXPOSTER_APPS", "wx0123456789abcdef:secret")
				t.Setenv("WXPOSTER_MINIO_ACCESS_KEY", "k")
				t.Setenv("WXPOSTER_MINIO_SECRET_KEY", "s")
				t.Setenv(tc.key, tc.value)
				err := run(t.Context(), []string{sub}, io.Discard)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want %q", err, tc.want)
				}
				if strings.Contains(err.Error(), "hunter2pw") {
					t.Fatalf("err shows the password: %v", err)
				}
			})
		}
	}
}
