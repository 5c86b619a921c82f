package producer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/wxposter/wxposter/poster"
	"github.com/wxposter/wxposter/scene"
	"github.com/wxposter/wxposter/tasks"
	"github.com/wxposter/wxposter/templates"
	"github.com/wxposter/wxposter/wechat"
)

// posterRequest is the body of POST /v1/posters.
type posterRequest struct {
	App        string            `json:"app"`
	Template   string            `json:"template"`
	Page       string            `json:"page"`
	Scene      string            `json:"scene"`
	Params     map[string]string `json:"params"`
	EnvVersion string            `json:"env_version"`
	Width      int               `json:"width"`
	CheckPath  *bool             `json:"check_path"`
	AutoColor  bool              `json:"auto_color"`
	LineColor  *wechat.Color     `json:"line_color"`
	IsHyaline  bool              `json:"is_hyaline"`
	Data       map[string]string `json:"data"`
	Format     string            `json:"format"`
	Quality    int               `json:"quality"`
}

// Limits on data, so that one request cannot make a huge payload.
const (
	maxBody     = 64 << 10
	maxDataKeys = 32
	maxKeyLen   = 64
	maxValueLen = 1024
)

// jobView is a job as the API shows it.
type jobView struct {
	ID        string          `json:"id"`
	Status    string          `json:"status"`
	URL       string          `json:"url,omitempty"`
	Error     *tasks.JobError `json:"error,omitempty"`
	Attempts  int             `json:"attempts"`
	StatusURL string          `json:"status_url,omitempty"`
}

func (s *Server) createPoster(w http.ResponseWriter, r *http.Request) {
	wait, ok := s.waitParam(w, r)
	if !ok {
		return
	}
	body := getBody()
	defer putBody(body)
	if field, rule, ok := readJSONBody(w, r, body, maxBody); !ok {
		invalid(w, field, rule)
		return
	}
	ctx := r.Context()
	// The same body again (the button pressed twice): its job is known,
	// and a poster already made is answered without decoding it again.
	var notMade string // the job this request was found not made by
	if id, key, ok := s.memo.job(ctx, body.Bytes(), s.template); ok {
		if s.alreadyMade(ctx, id, key) {
			writeJSON(w, http.StatusOK, jobView{ID: id, Status: statusSucceeded, URL: s.store.URL(key)})
			return
		}
		notMade = id
	}
	var req posterRequest
	if field, rule, ok := unmarshalStrict(body.Bytes(), &req); !ok {
		invalid(w, field, rule)
		return
	}
	if field, rule, err := s.resolveParams(ctx, &req); err != nil {
		s.unavailable(w, r, "store the scene params", err)
		return
	} else if field != "" {
		invalid(w, field, rule)
		return
	}
	payload, field, rule, err := s.payload(ctx, &req)
	if err != nil {
		s.unavailable(w, r, "look up the template", err)
		return
	}
	if field != "" {
		invalid(w, field, rule)
		return
	}
	if field, rule, err := s.storeParams(ctx, &req); err != nil {
		s.unavailable(w, r, "store the scene params", err)
		return
	} else if field != "" {
		invalid(w, field, rule)
		return
	}
	id := payload.JobID()
	key := tasks.PosterKey(id, payload.PosterExt())
	if req.Params == nil {
		s.memo.remember(body.Bytes(), payload, id, key)
	}

	// A poster already made is answered at once (from memory, the finished
	// record, else storage): no job, no WeChat call.
	if id != notMade && s.alreadyMade(ctx, id, key) {
		writeJSON(w, http.StatusOK, jobView{ID: id, Status: statusSucceeded, URL: s.store.URL(key)})
		return
	}
	// ?wait=N: answer when the job ends (or after N seconds), in the same
	// request. The waiter is registered before the job can end.
	var woken <-chan string
	if wait > 0 && !s.draining() {
		ch, stop := s.hub.wait(id)
		defer stop()
		woken = ch
	}
	view, err := s.enqueue(ctx, id, payload)
	if err != nil {
		s.unavailable(w, r, "enqueue", err)
		return
	}
	if woken != nil && !view.ended() {
		if view, err = s.waitEnd(ctx, id, wait, woken, view); err != nil {
			s.unavailable(w, r, "read job", err)
			return
		}
	}
	view.StatusURL = "/v1/posters/" + id
	code := http.StatusAccepted
	if view.ended() {
		code = http.StatusOK
	}
	writeJSON(w, code, view)
}

// enqueue submits the job once (tasks.Enqueuer: the same job id is the
// same job, a failed one is replaced) and shows its state.
func (s *Server) enqueue(ctx context.Context, id string, p tasks.PosterPayload) (*jobView, error) {
	info, replaced, err := s.enqueuer().Enqueue(ctx, s.queueOf(id), id, p)
	if err != nil {
		return nil, err
	}
	if replaced {
		s.log.InfoContext(ctx, "retrying failed job on new request", "job", id)
	}
	if info != nil {
		return s.view(info), nil
	}
	// A new job: wake an idle worker rather than wait for its poll.
	if err := tasks.Wake(ctx, s.rdb, s.queueOf(id), 1); err != nil {
		s.log.WarnContext(ctx, "could not wake a worker; the job starts at the next poll", "job", id, "err", err)
	}
	return &jobView{ID: id, Status: statusQueued}, nil
}

func (s *Server) enqueuer() *tasks.Enqueuer {
	return &tasks.Enqueuer{Client: s.client, Inspector: s.inspector, Retention: s.retention,
		Timeout: s.timeout, MaxRetry: s.maxRetry}
}

// resolveParams turns req.Params into req.Scene without storing anything:
// the params are stored (storeParams) only once the whole request is
// valid, so that a rejected request keeps nothing. It returns the
// offending field and rule on bad input.
func (s *Server) resolveParams(_ context.Context, req *posterRequest) (field, rule string, err error) {
	if req.Params == nil {
		return "", "", nil
	}
	if req.Scene != "" {
		return "params", "cannot be combined with scene: send one of them", nil
	}
	sc, err := s.scenes.Peek(req.Params)
	if err != nil {
		return "params", strings.TrimPrefix(err.Error(), "scene: invalid params: "), nil
	}
	req.Scene = sc
	return "", "", nil
}

// storeParams keeps req.Params under the reference resolveParams gave
// req.Scene (when they are too long to be inline), once the request is
// valid. It returns an error if they could not be stored.
func (s *Server) storeParams(ctx context.Context, req *posterRequest) (field, rule string, err error) {
	if req.Params == nil {
		return "", "", nil
	}
	switch _, err := s.scenes.Scene(ctx, req.Params); {
	case errors.Is(err, scene.ErrInvalidParams):
		return "params", strings.TrimPrefix(err.Error(), "scene: invalid params: "), nil
	case err != nil:
		return "", "", err
	}
	return "", "", nil
}

// templateFunc looks up a template by name.
type templateFunc func(ctx context.Context, name string) (*templates.Template, error)

// payload validates req and turns it into the job's payload. It returns the
// offending field and rule on bad input, and an error if the template could
// not be looked up.
func (s *Server) payload(ctx context.Context, req *posterRequest) (p tasks.PosterPayload, field, rule string, err error) {
	return s.payloadWith(ctx, req, s.template)
}

// payloadWith is payload with the template looked up by lookup (a batch
// looks its one template up once).
func (s *Server) payloadWith(ctx context.Context, req *posterRequest, lookup templateFunc) (p tasks.PosterPayload, field, rule string, err error) {
	app, ok := s.app(req.App)
	if !ok {
		return p, "app", ruleUnknownApp, nil
	}
	p.AppID = app.AppID
	p.RendererVersion = poster.RendererVersion
	p.Code = wechat.UnlimitedCode{
		Scene: req.Scene, Page: req.Page, CheckPath: req.CheckPath, EnvVersion: req.EnvVersion,
		Width: req.Width, AutoColor: req.AutoColor, LineColor: req.LineColor, IsHyaline: req.IsHyaline,
	}
	switch req.Format {
	case "", tasks.FormatJPEG, tasks.FormatPNG:
	default:
		return p, "format", "must be jpeg or png", nil
	}
	switch {
	case req.Quality < 0 || req.Quality > 100:
		return p, "quality", "must be between 1 and 100", nil
	case req.Quality > 0 && (req.Format == tasks.FormatPNG || (req.Format == "" && req.Template == "" && req.IsHyaline)):
		return p, "quality", "only applies to JPEG output", nil
	}
	p.Format, p.Quality = req.Format, req.Quality
	validateCode := func() (string, string) {
		if err := p.Code.Validate(); err != nil {
			var fe *wechat.FieldError
			if errors.As(err, &fe) {
				return fe.Field, fe.Rule
			}
			return "body", err.Error()
		}
		return "", ""
	}
	if req.Template == "" {
		if len(req.Data) > 0 {
			return p, "data", "is only used with a template", nil
		}
		field, rule := validateCode()
		return p, field, rule, nil
	}
	t, err := lookup(ctx, req.Template)
	switch {
	case errors.Is(err, templates.ErrNotFound):
		return p, "template", "is not a known template", nil
	case err != nil:
		return p, "", "", err
	}
	if t.Palette != nil && !t.Palette.DrawsCode() {
		// No view draws the code: none is asked of WeChat, so the code
		// parameters (page, scene, ...) mean nothing and stay out of the
		// job id: the same data is the same poster whatever the page.
		p.Code = wechat.UnlimitedCode{}
	} else if field, rule := validateCode(); field != "" {
		return p, field, rule, nil
	}
	// The version is part of the job id: an edited template is a new poster.
	p.Template, p.TemplateVersion = t.Name, t.Version
	if field, rule := s.validateData(req.Data, t); field != "" {
		return p, field, rule, nil
	}
	p.Data = req.Data
	return p, "", "", nil
}

// validateData checks data against the limits and the template: every
// variable it uses must be given (a missing one would render a blank), and
// every image URL must be on an allowed host.
func (s *Server) validateData(data map[string]string, t *templates.Template) (string, string) {
	if len(data) > maxDataKeys {
		return "data", fmt.Sprintf("must have at most %d keys", maxDataKeys)
	}
	for k, v := range data {
		switch {
		case k == "" || len(k) > maxKeyLen:
			return "data", fmt.Sprintf("keys must be 1-%d characters", maxKeyLen)
		case utf8.RuneCountInString(v) > maxValueLen:
			return "data." + k, fmt.Sprintf("must be at most %d characters", maxValueLen)
		}
	}
	for _, k := range t.Variables {
		if data[k] == "" {
			return "data." + k, "is required by template " + t.Name
		}
	}
	for _, k := range t.ImageVariables {
		// Palettes load images with imagesrc.Loader, which also decodes data: URIs.
		if rule := s.checkImageURL(data[k], t.Palette != nil); data[k] != "" && rule != "" {
			return "data." + k, rule
		}
	}
	return "", ""
}

// checkImageURL returns why v may not be loaded as an image, or "".
func (s *Server) checkImageURL(v string, dataURI bool) string {
	if dataURI && len(v) > 11 && strings.EqualFold(v[:11], "data:image/") {
		return ""
	}
	u, err := url.Parse(v)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		if dataURI {
			return "must be an http(s) URL or a data:image/ URI"
		}
		return "must be an http(s) URL"
	case !s.imageHosts[strings.ToLower(u.Host)] && !s.imageHosts[strings.ToLower(u.Hostname())]:
		return "host is not an allowed image host (WXPOSTER_IMAGE_HOSTS)"
	}
	return ""
}

// ruleUnknownApp is the 400 rule for an app no configuration names.
const ruleUnknownApp = "is not a configured app (use its name or appid)"

// requestApp resolves the app a request names, or answers 400 naming app.
func (s *Server) requestApp(w http.ResponseWriter, name string) (wechat.App, bool) {
	app, ok := s.app(name)
	if !ok {
		invalid(w, "app", ruleUnknownApp)
	}
	return app, ok
}

func (s *Server) app(name string) (wechat.App, bool) {
	if len(s.apps) == 0 {
		return wechat.App{}, false
	}
	if name == "" {
		return s.apps[0], true
	}
	for _, a := range s.apps {
		if a.AppID == name || (a.Name != "" && a.Name == name) {
			return a, true
		}
	}
	return wechat.App{}, false
}

// decodeJSON reads a JSON body strictly: one object, known fields only,
// right types. On failure it returns the field to blame and the rule.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) (field, rule string, ok bool) {
	return decodeJSONLimit(w, r, v, maxBody)
}

// decodeJSONLimit is decodeJSON for a body of at most limit bytes.
func decodeJSONLimit(w http.ResponseWriter, r *http.Request, v any, limit int64) (field, rule string, ok bool) {
	buf := getBody()
	defer putBody(buf)
	if field, rule, ok := readJSONBody(w, r, buf, limit); !ok {
		return field, rule, false
	}
	return unmarshalStrict(buf.Bytes(), v)
}

// readJSONBody reads r's body, which must be JSON (or untyped) and at most
// limit bytes, into buf. On failure it returns the field to blame and the
// rule.
func readJSONBody(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer, limit int64) (field, rule string, ok bool) {
	if mt := r.Header.Get("Content-Type"); mt != "" && !strings.HasPrefix(mt, "application/json") {
		return "body", "must be JSON (Content-Type: application/json)", false
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit)); err != nil {
		if maxErr := (*http.MaxBytesError)(nil); errors.As(err, &maxErr) {
			return "body", fmt.Sprintf("must be at most %d bytes", limit), false
		}
		return "body", "could not be read: " + err.Error(), false
	}
	return "", "", true
}

// unmarshalStrict decodes b into v strictly: one object, known fields only,
// right types. On failure it returns the field to blame and the rule.
func unmarshalStrict(b []byte, v any) (field, rule string, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("trailing data")
	}
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("trailing data")
		}
	}
	if err == nil {
		return "", "", true
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return "body", "must be a JSON object", false
	case errors.As(err, &typeErr) && typeErr.Field == "data":
		return "data", "must be an object whose values are JSON strings", false
	case errors.As(err, &typeErr):
		return typeErr.Field, "must be a JSON " + jsonKind(typeErr.Type.Kind().String()), false
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return name, "is not a known field", false
	case errors.Is(err, io.EOF):
		return "body", "must be a JSON object", false
	}
	return "body", "is not valid JSON: " + err.Error(), false
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int64", "float64":
		return "number"
	case "bool":
		return "boolean"
	case "map", "struct":
		return "object"
	case "ptr":
		return "value of the right type"
	}
	return goKind
}
