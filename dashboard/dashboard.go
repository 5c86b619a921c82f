// Package dashboard mounts asynqmon, asynq's web UI, at /monitoring/ behind
// HTTP Basic auth, read-only by default, with job data hidden.
package dashboard

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/redis/go-redis/v9"
)

// RootPath is where the dashboard lives. asynqmon is given the whole path
// (it answers 400 to a prefix-stripped request), so it is mounted as
// Pattern on a ServeMux.
const RootPath = "/monitoring"

// Pattern is the ServeMux pattern to mount a Dashboard on.
const Pattern = RootPath + "/"

// Dashboard is the http.Handler of /monitoring/.
type Dashboard struct {
	mon       *asynqmon.HTTPHandler // nil when disabled
	passwords [][]byte
	open      bool
	readOnly  bool
	showData  bool
	queues    []string
	log       *slog.Logger
}

// Option configures a Dashboard.
type Option func(*Dashboard)

// WithPasswords sets the Basic-auth passwords (any user name goes). With
// none the dashboard answers 404, unless WithOpen.
func WithPasswords(keys ...string) Option {
	return func(d *Dashboard) {
		for _, k := range keys {
			if k != "" {
				d.passwords = append(d.passwords, []byte(k))
			}
		}
	}
}

// WithOpen serves the dashboard to anyone when no password is set (for
// wxposter dev on a developer's machine).
func WithOpen(open bool) Option { return func(d *Dashboard) { d.open = open } }

// WithReadOnly(false) allows changes (delete, run, archive, pause) through
// the dashboard; it is read-only by default.
func WithReadOnly(ro bool) Option { return func(d *Dashboard) { d.readOnly = ro } }

// WithShowData shows the values of a job's data, which are personal data
// (nicknames, avatars); hidden by default.
func WithShowData(show bool) Option { return func(d *Dashboard) { d.showData = show } }

// WithQueues names queues to list even before their first job: asynq only
// knows a queue once something was enqueued in it.
func WithQueues(q ...string) Option { return func(d *Dashboard) { d.queues = append(d.queues, q...) } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(d *Dashboard) { d.log = l } }

// New returns the dashboard on the Redis of conn (asynqmon opens its own
// connection pool from it). Close it to release that pool.
func New(ctx context.Context, conn asynq.RedisConnOpt, opts ...Option) (*Dashboard, error) {
	d := &Dashboard{readOnly: true, log: slog.Default()}
	for _, o := range opts {
		o(d)
	}
	if !d.Enabled() {
		d.log.Info("dashboard off: no WXPOSTER_DASHBOARD_KEYS or WXPOSTER_API_KEYS (set WXPOSTER_DASHBOARD_OPEN=true to serve it without a password)")
		return d, nil
	}
	if len(d.passwords) == 0 {
		d.log.Warn("dashboard open to anyone who can reach " + Pattern + " (WXPOSTER_DASHBOARD_OPEN=true)")
	}
	if err := registerQueues(ctx, conn, d.queues); err != nil {
		return nil, err
	}
	d.mon = asynqmon.New(asynqmon.Options{
		RootPath:         RootPath,
		RedisConnOpt:     conn,
		ReadOnly:         d.readOnly,
		PayloadFormatter: asynqmon.PayloadFormatterFunc(d.formatPayload),
		ResultFormatter:  asynqmon.ResultFormatterFunc(formatResult),
	})
	return d, nil
}

// Enabled reports whether the dashboard is served (else it answers 404).
func (d *Dashboard) Enabled() bool { return len(d.passwords) > 0 || d.open }

// Close releases asynqmon's Redis connections.
func (d *Dashboard) Close() error {
	if d.mon == nil {
		return nil
	}
	return d.mon.Close()
}

// ServeHTTP checks the password, then hands the request to asynqmon.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d.mon == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error":{"code":"not_found","message":"the dashboard is off: set WXPOSTER_DASHBOARD_KEYS or WXPOSTER_API_KEYS"}}`+"\n")
		return
	}
	if !d.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="wxposter dashboard", charset="UTF-8"`)
		http.Error(w, "401 unauthorized: any user name, and a dashboard key as the password", http.StatusUnauthorized)
		return
	}
	d.mon.ServeHTTP(w, r)
}

// authorized accepts any user name with one of the passwords, compared in
// constant time.
func (d *Dashboard) authorized(r *http.Request) bool {
	if len(d.passwords) == 0 {
		return d.open
	}
	_, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	found := 0
	for _, k := range d.passwords {
		found |= subtle.ConstantTimeCompare([]byte(pass), k)
	}
	return found == 1
}

// queuesKey is the Redis set in which asynq lists its queues (asynq's
// internal/base.AllQueues); Enqueue adds to it the same way.
const queuesKey = "asynq:queues"

func registerQueues(ctx context.Context, conn asynq.RedisConnOpt, queues []string) error {
	if len(queues) == 0 {
		return nil
	}
	rdb, ok := conn.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return fmt.Errorf("dashboard: unsupported Redis connection %T", conn)
	}
	defer rdb.Close()
	members := make([]any, len(queues))
	for i, q := range queues {
		members[i] = q
	}
	if err := rdb.SAdd(ctx, queuesKey, members...).Err(); err != nil {
		return fmt.Errorf("dashboard: register queues: %w", err)
	}
	return nil
}

// hidden replaces each value of a job's data unless WithShowData.
const hidden = "(hidden)"

// formatPayload shows a job's JSON payload with the values of every "data"
// object hidden (nicknames and avatars are personal data).
func (d *Dashboard) formatPayload(_ string, payload []byte) string {
	var v any
	if err := json.Unmarshal(payload, &v); err != nil {
		return fmt.Sprintf("(%d bytes, not JSON)", len(payload))
	}
	if !d.showData {
		v = redactData(v)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// redactData hides the values of every object named "data", at any depth
// (a batch job may carry several items).
func redactData(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if m, ok := x.(map[string]any); ok && k == "data" {
				for dk := range m {
					m[dk] = hidden
				}
				continue
			}
			v[k] = redactData(x)
		}
	case []any:
		for i, x := range v {
			v[i] = redactData(x)
		}
	}
	return v
}

// formatResult shows a finished job's URL, or its error.
func formatResult(_ string, result []byte) string {
	var r struct {
		URL   string `json:"url"`
		Final bool   `json:"final"`
		Error *struct {
			Code    string `json:"code"`
			Errcode *int   `json:"errcode"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(result, &r); err != nil {
		return fmt.Sprintf("(%d bytes, not JSON)", len(result))
	}
	switch {
	case r.URL != "":
		return r.URL
	case r.Error != nil:
		var b strings.Builder
		b.WriteString("error " + r.Error.Code)
		if r.Error.Errcode != nil {
			fmt.Fprintf(&b, " (errcode %d)", *r.Error.Errcode)
		}
		b.WriteString(": " + r.Error.Message)
		if !r.Final {
			b.WriteString(" (will retry)")
		}
		return b.String()
	}
	return string(result)
}
