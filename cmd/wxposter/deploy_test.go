package main

import (
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
		"WXPOSTER_MINIO_SECRET_KEY", "WXPOSTER_APPS", "WXPOSTER_PUBLIC_BASE_URL", "WXPOSTER_SIM_LISTEN"} {
		if !regexp.MustCompile(`(?m)^\s+` + v + `:`).Match(b) {
			t.Errorf("compose.yaml does not set %s", v)
		}
	}
}
