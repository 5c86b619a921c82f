package config

import (
	"errors"
	"slices"
	"testing"
)

func TestOpsDefaults(t *testing.T) {
	c, err := LoadFrom(base())
	if err != nil {
		t.Fatal(err)
	}
	if c.BatchQueue != "posters-batch" || c.MetricsListen != "127.0.0.1:9465" ||
		!c.DashboardReadOnly || c.DashboardOpen || c.DashboardShowData {
		t.Fatalf("ops defaults: %+v", c)
	}
	if len(c.DashboardPasswords()) != 0 {
		t.Fatal("no keys configured, yet dashboard passwords")
	}
}

func TestDashboardPasswordsDefaultToAPIKeys(t *testing.T) {
	env := base()
	env["WXPOSTER_API_KEYS"] = "api-key-0123456789,api-key-abcdefghij"
	c, err := LoadFrom(env)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.DashboardPasswords(); !slices.Equal(got, []string{"api-key-0123456789", "api-key-abcdefghij"}) {
		t.Fatalf("passwords = %q, want the API keys", got)
	}
	env["WXPOSTER_DASHBOARD_KEYS"] = "dash-key-0123456789"
	if c, err = LoadFrom(env); err != nil {
		t.Fatal(err)
	}
	if got := c.DashboardPasswords(); !slices.Equal(got, []string{"dash-key-0123456789"}) {
		t.Fatalf("passwords = %q, want only the dashboard key", got)
	}
}

func TestMetricsListenEmptyTurnsItOff(t *testing.T) {
	env := base()
	env["WXPOSTER_METRICS_LISTEN"] = ""
	c, err := LoadFrom(env)
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricsListen != "" {
		t.Fatalf("MetricsListen = %q, want empty", c.MetricsListen)
	}
}

func TestOpsErrorsNameTheVariable(t *testing.T) {
	cases := []struct{ key, value string }{
		{"WXPOSTER_BATCH_QUEUE", "a{b}"},
		{"WXPOSTER_BATCH_QUEUE", "posters"}, // the interactive queue
		{"WXPOSTER_DASHBOARD_KEYS", "short"},
		{"WXPOSTER_DASHBOARD_OPEN", "maybe"},
		{"WXPOSTER_DASHBOARD_READONLY", "no thanks"},
		{"WXPOSTER_DASHBOARD_SHOW_DATA", "2"},
		{"WXPOSTER_METRICS_LISTEN", "9465"},
	}
	for _, tc := range cases {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			env := base()
			env[tc.key] = tc.value
			_, err := LoadFrom(env)
			var ce *Error
			if !errors.As(err, &ce) || ce.Var != tc.key || ce.Rule == "" {
				t.Fatalf("err = %v, want one naming %s", err, tc.key)
			}
		})
	}
}
