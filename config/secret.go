package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// Secret is a string that never prints itself: fmt, %v, %+v and slog all
// show "[redacted]". Use string(s) where the value is really needed.
type Secret string

func (Secret) String() string             { return "[redacted]" }
func (Secret) GoString() string           { return `"[redacted]"` }
func (Secret) LogValue() slog.Value       { return slog.StringValue("[redacted]") }
func (Secret) Format(f fmt.State, _ rune) { fmt.Fprint(f, "[redacted]") }

// App is one WeChat app (a mini-program, or an official account for JS-SDK).
type App struct {
	// Name is how API requests may refer to the app; default its appid.
	Name   string
	AppID  string
	Secret Secret
	// JSDomains are the JS-SDK safe domains: the hosts a signed page may be on.
	JSDomains []string
	// CodeRatePerMinute caps code calls to WeChat for this app across the
	// cluster; 0 means WXPOSTER_CODE_RATE_PER_MINUTE.
	CodeRatePerMinute int
}

// LogValue keeps the secret out of logs even if an App is logged whole.
func (a App) LogValue() slog.Value { return slog.StringValue(a.AppID) }

// Apps is WXPOSTER_APPS: comma-separated appid:secret, or @path to a JSON
// file of app objects (see docs/apps.md). The first app is the default.
type Apps []App

// UnmarshalText parses WXPOSTER_APPS. Errors never contain a secret.
func (a *Apps) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	var apps Apps
	var err error
	switch {
	case s == "":
		*a = nil
		return nil
	case strings.HasPrefix(s, "@"):
		apps, err = readAppsFile(strings.TrimPrefix(s, "@"))
	default:
		apps, err = parseAppList(s)
	}
	if err != nil {
		return err
	}
	if err := apps.check(); err != nil {
		return err
	}
	*a = apps
	return nil
}

func parseAppList(s string) (Apps, error) {
	var apps Apps
	for i, item := range strings.Split(s, ",") {
		id, secret, ok := strings.Cut(strings.TrimSpace(item), ":")
		id, secret = strings.TrimSpace(id), strings.TrimSpace(secret)
		if !ok || id == "" || secret == "" {
			return nil, &Error{"WXPOSTER_APPS", fmt.Sprintf("entry %d must be appid:secret (or use @/path/to/apps.json)", i+1)}
		}
		apps = append(apps, App{AppID: id, Secret: Secret(secret)})
	}
	return apps, nil
}

// appFile is one app in an apps file.
type appFile struct {
	Name              string   `json:"name"`
	AppID             string   `json:"appid"`
	Secret            string   `json:"secret"`
	SecretEnv         string   `json:"secret_env"`
	JSDomains         []string `json:"js_domains"`
	CodeRatePerMinute int      `json:"code_rate_per_minute"`
}

func readAppsFile(path string) (Apps, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{"WXPOSTER_APPS", "cannot read apps file: " + err.Error()}
	}
	var doc struct {
		Apps []appFile `json:"apps"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, &Error{"WXPOSTER_APPS", fmt.Sprintf("apps file %s is not valid: %v", path, redactJSONErr(err))}
	}
	var apps Apps
	for i, f := range doc.Apps {
		secret := f.Secret
		if f.SecretEnv != "" {
			secret = os.Getenv(f.SecretEnv)
			if secret == "" {
				return nil, &Error{"WXPOSTER_APPS", fmt.Sprintf("app %d (%s): environment variable %s named by secret_env is empty", i+1, f.AppID, f.SecretEnv)}
			}
		}
		if f.AppID == "" || secret == "" {
			return nil, &Error{"WXPOSTER_APPS", fmt.Sprintf("app %d in %s needs appid and secret (or secret_env)", i+1, path)}
		}
		if f.CodeRatePerMinute < 0 {
			return nil, &Error{"WXPOSTER_APPS", fmt.Sprintf("app %s: code_rate_per_minute must be >= 0", f.AppID)}
		}
		for _, d := range f.JSDomains {
			if d == "" || strings.ContainsAny(d, "/:?# ") {
				return nil, &Error{"WXPOSTER_APPS", fmt.Sprintf("app %s: js_domains entries are host names like m.example.com", f.AppID)}
			}
		}
		apps = append(apps, App{Name: f.Name, AppID: f.AppID, Secret: Secret(secret),
			JSDomains: f.JSDomains, CodeRatePerMinute: f.CodeRatePerMinute})
	}
	if len(apps) == 0 {
		return nil, &Error{"WXPOSTER_APPS", "apps file " + path + ` has no apps (want {"apps":[…]})`}
	}
	return apps, nil
}

// redactJSONErr keeps only the position/type of a JSON error: the message of
// a syntax error never quotes the input, but a type error may name a value.
func redactJSONErr(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q has the wrong type", te.Field)
	}
	return err.Error()
}

// check fills default names and rejects an appid or name used twice.
func (a Apps) check() error {
	seen := map[string]bool{}
	for i := range a {
		if a[i].Name == "" {
			a[i].Name = a[i].AppID
		}
		keys := []string{a[i].AppID}
		if a[i].Name != a[i].AppID {
			keys = append(keys, a[i].Name)
		}
		for _, k := range keys {
			if seen[k] {
				return &Error{"WXPOSTER_APPS", fmt.Sprintf("%s is listed twice", k)}
			}
			seen[k] = true
		}
	}
	return nil
}

// Find returns the app whose name or appid is key; "" is the default app.
func (a Apps) Find(key string) (App, bool) {
	if len(a) == 0 {
		return App{}, false
	}
	if key == "" {
		return a[0], true
	}
	for _, app := range a {
		if app.AppID == key || app.Name == key {
			return app, true
		}
	}
	return App{}, false
}
