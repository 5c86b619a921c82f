package config

import (
	"fmt"
	"log/slog"
	"strings"
)

// Secret is a string that never prints itself: fmt, %v, %+v and slog all
// show "[redacted]". Use string(s) where the value is really needed.
type Secret string

func (Secret) String() string             { return "[redacted]" }
func (Secret) GoString() string           { return `"[redacted]"` }
func (Secret) LogValue() slog.Value       { return slog.StringValue("[redacted]") }
func (Secret) Format(f fmt.State, _ rune) { fmt.Fprint(f, "[redacted]") }

// App is one mini-program: its appid and AppSecret.
type App struct {
	AppID  string
	Secret Secret
}

// LogValue keeps the secret out of logs even if an App is logged whole.
func (a App) LogValue() slog.Value { return slog.StringValue(a.AppID) }

// Apps is WXPOSTER_APPS: comma-separated appid:secret; the first is the default.
type Apps []App

// UnmarshalText parses "appid:secret,appid2:secret2". Errors never contain
// the secret.
func (a *Apps) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "" {
		*a = nil
		return nil
	}
	var apps Apps
	seen := map[string]bool{}
	for i, item := range strings.Split(s, ",") {
		id, secret, ok := strings.Cut(strings.TrimSpace(item), ":")
		id, secret = strings.TrimSpace(id), strings.TrimSpace(secret)
		switch {
		case !ok || id == "" || secret == "":
			return &Error{"WXPOSTER_APPS", fmt.Sprintf("entry %d must be appid:secret", i+1)}
		case seen[id]:
			return &Error{"WXPOSTER_APPS", fmt.Sprintf("appid %s is listed twice", id)}
		}
		seen[id] = true
		apps = append(apps, App{AppID: id, Secret: Secret(secret)})
	}
	*a = apps
	return nil
}
