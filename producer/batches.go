package producer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wxposter/wxposter/batch"
	"github.com/wxposter/wxposter/tasks"
	"github.com/wxposter/wxposter/templates"
)

// maxBatchBody bounds POST /v1/batches: 100,000 items of some 300 bytes.
const maxBatchBody = 48 << 20

// maxBadItems is how many bad items a 400 lists.
const maxBadItems = 100

// Batches is the batch configuration of the API.
type Batches struct {
	Store *batch.Store
	// Hosts is the callback allow list (WXPOSTER_CALLBACK_HOSTS).
	Hosts *batch.Hosts
	// Signing reports whether WXPOSTER_CALLBACK_SECRET is set; without it a
	// batch with a callback URL is refused.
	Signing bool
}

// WithBatches enables /v1/batches.
func WithBatches(b Batches) Option { return func(s *Server) { s.batches = &b } }

// batchRequest is the body of POST /v1/batches: the fields of a single
// poster shared by every item, and the items.
type batchRequest struct {
	Name           string            `json:"name"`
	App            string            `json:"app"`
	Template       string            `json:"template"`
	Page           string            `json:"page"`
	EnvVersion     string            `json:"env_version"`
	Width          int               `json:"width"`
	Format         string            `json:"format"`
	Quality        int               `json:"quality"`
	Data           map[string]string `json:"data"`
	Items          []batchItem       `json:"items"`
	CallbackURL    string            `json:"callback_url"`
	IdempotencyKey string            `json:"idempotency_key"`
}

type batchItem struct {
	Key    string            `json:"key"`
	Scene  string            `json:"scene"`
	Params map[string]string `json:"params"`
	Page   string            `json:"page"`
	Data   map[string]string `json:"data"`
}

// badItem is one entry of a 400's list of bad items.
type badItem struct {
	Index   int    `json:"index"`
	Key     string `json:"key,omitempty"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// batchCreated is the answer to POST /v1/batches.
type batchCreated struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Total     int    `json:"total"`
	StatusURL string `json:"status_url"`
}

func (s *Server) needBatches(h http.HandlerFunc) http.Handler {
	return s.auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.batches == nil {
			writeError(w, http.StatusServiceUnavailable, "unavailable", "batches are not configured on this server", "")
			return
		}
		h(w, r)
	}))
}

func (s *Server) createBatch(w http.ResponseWriter, r *http.Request) {
	var req batchRequest
	if field, rule, ok := decodeJSONLimit(w, r, &req, maxBatchBody); !ok {
		if strings.HasPrefix(field, "items.") {
			field = "items[]." + strings.TrimPrefix(field, "items.")
		}
		invalid(w, field, rule)
		return
	}
	ctx := r.Context()
	if field, rule := s.checkBatch(&req); field != "" {
		invalid(w, field, rule)
		return
	}
	spec, bad, nbad, err := s.batchSpec(ctx, &req)
	if err != nil {
		s.unavailable(w, r, "validate the items", err)
		return
	}
	if nbad > 0 {
		msg := fmt.Sprintf("%d of %d items are invalid; nothing was enqueued", nbad, len(req.Items))
		if nbad > len(bad) {
			msg += fmt.Sprintf(" (the first %d are listed)", len(bad))
		}
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{
			"code": "invalid_items", "message": msg, "field": "items", "items": bad,
		}})
		return
	}
	id, existing, err := s.batches.Store.Create(ctx, *spec)
	if err != nil {
		s.unavailable(w, r, "create the batch", err)
		return
	}
	out := batchCreated{ID: id, Status: batch.StatusRunning, Total: len(spec.Items), StatusURL: "/v1/batches/" + id}
	if existing {
		if v, err := s.batches.Store.Get(ctx, id); err == nil {
			out.Status, out.Total = v.Status, v.Total
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	s.log.InfoContext(ctx, "batch created", "batch", id, "items", len(spec.Items), "jobs", len(spec.Payloads))
	writeJSON(w, http.StatusAccepted, out)
}

// checkBatch validates what is not per item.
func (s *Server) checkBatch(req *batchRequest) (field, rule string) {
	switch {
	case utf8.RuneCountInString(req.Name) > 200:
		return "name", "must be at most 200 characters"
	case len(req.IdempotencyKey) > 200:
		return "idempotency_key", "must be at most 200 bytes"
	case len(req.Items) == 0:
		return "items", "must list at least one item"
	case len(req.Items) > batch.MaxItems:
		return "items", fmt.Sprintf("must list at most %d items (got %d); split the campaign", batch.MaxItems, len(req.Items))
	}
	if _, ok := s.app(req.App); !ok {
		return "app", ruleUnknownApp
	}
	if req.CallbackURL != "" {
		if !s.batches.Signing {
			return "callback_url", "cannot be used: the server has no WXPOSTER_CALLBACK_SECRET to sign callbacks with"
		}
		if rule := s.batches.Hosts.Check(req.CallbackURL); rule != "" {
			return "callback_url", rule
		}
	}
	return "", ""
}

// batchSpec validates every item as the single poster it stands for (the
// same code as POST /v1/posters) and collects the first maxBadItems
// problems and their count.
func (s *Server) batchSpec(ctx context.Context, req *batchRequest) (*batch.Spec, []badItem, int, error) {
	app, _ := s.app(req.App)
	spec := &batch.Spec{
		Name: req.Name, App: app.AppID, CallbackURL: req.CallbackURL, IdempotencyKey: req.IdempotencyKey,
		Items: make([]batch.Item, 0, len(req.Items)), Payloads: map[string]tasks.PosterPayload{},
	}
	lookup := memoTemplates(s.template)
	keys := make(map[string]int)
	var bad []badItem
	nbad := 0
	// Items whose params are stored once every item is valid.
	type pending struct {
		index int
		key   string
		req   posterRequest
	}
	var withParams []pending
	report := func(i int, key, field, rule string) {
		if nbad++; len(bad) < maxBadItems {
			bad = append(bad, badItem{Index: i, Key: key, Field: field, Message: field + " " + rule})
		}
	}
	for i, it := range req.Items {
		if it.Key != "" {
			if rule := checkItemKey(it.Key); rule != "" {
				report(i, it.Key, "key", rule)
				continue
			}
			if j, dup := keys[it.Key]; dup {
				report(i, it.Key, "key", fmt.Sprintf("repeats the key of item %d (keys name files in the archive)", j))
				continue
			}
			keys[it.Key] = i
		}
		preq := posterRequest{
			App: req.App, Template: req.Template, Page: req.Page, Scene: it.Scene, Params: it.Params,
			EnvVersion: req.EnvVersion, Width: req.Width, Format: req.Format, Quality: req.Quality,
			Data: mergeData(req.Data, it.Data),
		}
		if it.Page != "" {
			preq.Page = it.Page
		}
		field, rule, err := s.resolveParams(ctx, &preq)
		if err != nil {
			return nil, nil, 0, err
		}
		if field != "" {
			report(i, it.Key, field, rule)
			continue
		}
		p, field, rule, err := s.payloadWith(ctx, &preq, lookup)
		if err != nil {
			return nil, nil, 0, err
		}
		if field != "" {
			report(i, it.Key, field, rule)
			continue
		}
		if preq.Params != nil {
			withParams = append(withParams, pending{i, it.Key, preq})
		}
		id := p.JobID()
		spec.Items = append(spec.Items, batch.Item{Key: it.Key, JobID: id, Ext: p.PosterExt()})
		spec.Payloads[id] = p
	}
	if nbad > 0 {
		return spec, bad, nbad, nil // rejected: no item's params are kept
	}
	// The whole batch is valid: only now store the params, as a single
	// poster does (resolveParams, then storeParams).
	for _, it := range withParams {
		if field, rule, err := s.storeParams(ctx, &it.req); err != nil {
			return nil, nil, 0, err
		} else if field != "" {
			report(it.index, it.key, field, rule)
		}
	}
	return spec, bad, nbad, nil
}

// checkItemKey returns why k cannot name an item (and its file), or "".
func checkItemKey(k string) string {
	switch {
	case len(k) > batch.MaxKeyLen:
		return fmt.Sprintf("must be at most %d bytes", batch.MaxKeyLen)
	case !utf8.ValidString(k):
		return "must be UTF-8"
	case k == "." || k == ".." || strings.ContainsAny(k, `/\`):
		return `must not be "." or ".." nor contain / or \ (it names a file in the archive)`
	}
	for _, r := range k {
		if unicode.IsControl(r) {
			return "must not contain control characters"
		}
	}
	return ""
}

// mergeData is the batch's data with the item's on top.
func mergeData(defaults, item map[string]string) map[string]string {
	if len(item) == 0 {
		return defaults
	}
	if len(defaults) == 0 {
		return item
	}
	m := make(map[string]string, len(defaults)+len(item))
	for k, v := range defaults {
		m[k] = v
	}
	for k, v := range item {
		m[k] = v
	}
	return m
}

// memoTemplates looks each template up once per batch.
func memoTemplates(lookup templateFunc) templateFunc {
	type res struct {
		t   *templates.Template
		err error
	}
	seen := map[string]res{}
	return func(ctx context.Context, name string) (*templates.Template, error) {
		if r, ok := seen[name]; ok {
			return r.t, r.err
		}
		t, err := lookup(ctx, name)
		if err == nil || errors.Is(err, templates.ErrNotFound) {
			seen[name] = res{t, err}
		}
		return t, err
	}
}

func (s *Server) getBatch(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	wait, ok := s.waitParam(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	v, err := s.batches.Store.Get(ctx, id)
	deadline := time.Now().Add(wait)
	for err == nil && !v.Ended() && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(250 * time.Millisecond):
		}
		v, err = s.batches.Store.Get(ctx, id)
	}
	s.answerBatch(w, r, v, err)
}

func (s *Server) answerBatch(w http.ResponseWriter, r *http.Request, v *batch.View, err error) {
	switch {
	case errors.Is(err, batch.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no such batch (unknown, or expired after retention)", "id")
	case err != nil:
		s.unavailable(w, r, "read the batch", err)
	default:
		writeJSON(w, http.StatusOK, v)
	}
}

func (s *Server) listBatches(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := intParam(w, q.Get("limit"), "limit", 20, 1, 100)
	if !ok {
		return
	}
	var before int64
	if c := q.Get("cursor"); c != "" {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n <= 0 {
			invalid(w, "cursor", "must be a next_cursor from a previous page")
			return
		}
		before = n
	}
	views, next, err := s.batches.Store.List(r.Context(), before, limit)
	if err != nil {
		s.unavailable(w, r, "list batches", err)
		return
	}
	out := map[string]any{"batches": views}
	if views == nil {
		out["batches"] = []*batch.View{}
	}
	if next > 0 && len(views) == limit {
		out["next_cursor"] = strconv.FormatInt(next, 10)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listBatchItems(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id := r.PathValue("id")
	var want byte
	if st := q.Get("status"); st != "" {
		if want = batch.StateByte(st); want == 0 {
			invalid(w, "status", "must be one of queued, running, retrying, succeeded, failed, cancelled")
			return
		}
	}
	limit, ok := intParam(w, q.Get("limit"), "limit", 100, 1, 1000)
	if !ok {
		return
	}
	from, ok := intParam(w, q.Get("cursor"), "cursor", 0, 0, batch.MaxItems)
	if !ok {
		return
	}
	ctx := r.Context()
	v, err := s.batches.Store.Get(ctx, id)
	if err != nil {
		s.answerBatch(w, r, v, err)
		return
	}
	// Look at a bounded window per page, so a filter that matches little
	// costs a few round trips, not the whole batch.
	to := min(v.Total, from+max(limit*20, 10_000))
	items := []batch.ItemView{}
	next, err := s.batches.Store.Items(ctx, id, from, to, want, s.store.URL, func(it batch.ItemView) bool {
		items = append(items, it)
		return len(items) < limit
	})
	if err != nil {
		s.answerBatch(w, r, nil, err)
		return
	}
	out := map[string]any{"items": items}
	if next < v.Total {
		out["next_cursor"] = strconv.Itoa(next)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) cancelBatch(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ctx := r.Context()
	n, ended, err := s.batches.Store.Cancel(ctx, id)
	if err != nil {
		s.answerBatch(w, r, nil, err)
		return
	}
	if ended {
		writeError(w, http.StatusConflict, "conflict", "the batch has already ended; nothing to cancel", "")
		return
	}
	s.log.InfoContext(ctx, "batch cancelled", "batch", id, "items_cancelled", n)
	v, err := s.batches.Store.Get(ctx, id)
	s.answerBatch(w, r, v, err)
}

func (s *Server) retryBatch(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ctx := r.Context()
	n, err := s.batches.Store.Retry(ctx, id)
	if err != nil {
		s.answerBatch(w, r, nil, err)
		return
	}
	s.log.InfoContext(ctx, "batch retried", "batch", id, "items_requeued", n)
	v, err := s.batches.Store.Get(ctx, id)
	s.answerBatch(w, r, v, err)
}

// intParam parses an optional integer query parameter in [lo, hi].
func intParam(w http.ResponseWriter, v, name string, def, lo, hi int) (int, bool) {
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		invalid(w, name, fmt.Sprintf("must be an integer between %d and %d", lo, hi))
		return 0, false
	}
	return n, true
}
