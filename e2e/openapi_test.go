package e2e

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/wxposter/wxposter/openapi"
)

// The API document, loaded once for every test.
var (
	apiDocOnce sync.Once
	apiDoc     validator.Validator
	apiDocErr  error
	apiDocMu   sync.Mutex // the validator caches as it goes
)

func loadAPIDoc() (validator.Validator, error) {
	apiDocOnce.Do(func() {
		doc, err := libopenapi.NewDocument(openapi.Document)
		if err != nil {
			apiDocErr = err
			return
		}
		v, errs := validator.NewValidator(doc)
		if len(errs) > 0 {
			apiDocErr = errs[0]
			return
		}
		apiDoc = v
	})
	return apiDoc, apiDocErr
}

// conformToAPIDoc checks every answer h gives during the test against the
// schemas of openapi/openapi.json: the end-to-end tests' real responses are
// the OpenAPI document's response test. Requests are not checked (tests send
// bad ones on purpose). Not checked: the catch-all 404 of unknown paths, the
// dashboard's own pages and API under /monitoring/ (asynqmon's) and the
// preview page's static files under /preview/.
func conformToAPIDoc(tb testing.TB, h http.Handler) http.Handler {
	v, err := loadAPIDoc()
	if err != nil {
		tb.Fatalf("openapi/openapi.json: %v", err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.Code)
		body := rec.Body.Bytes()
		w.Write(body)

		if isPageAsset(r.URL.Path, "/monitoring/") || isPageAsset(r.URL.Path, "/preview/") {
			return
		}
		resp := rec.Result()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		apiDocMu.Lock()
		ok, verrs := v.ValidateHttpResponse(r, resp)
		apiDocMu.Unlock()
		if ok {
			return
		}
		for _, e := range verrs {
			if rec.Code == http.StatusNotFound && e.ValidationSubType == "missing" && e.ValidationType == "path" {
				continue // an unknown endpoint's 404
			}
			msg := e.Message + ": " + e.Reason
			for _, f := range e.SchemaValidationErrors {
				msg += "; " + f.Reason + " at " + f.FieldPath
			}
			tb.Errorf("%s %s → %d does not match openapi/openapi.json: %s\nbody: %.300s", r.Method, r.URL.Path, rec.Code, msg, body)
		}
	})
}

// isPageAsset reports whether path is a file under a page's root, not the
// page itself (which the document describes).
func isPageAsset(path, root string) bool {
	return strings.HasPrefix(path, root) && path != root
}

// errorsTB records Errorf calls instead of failing.
type errorsTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (e *errorsTB) Errorf(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.errs = append(e.errs, format)
}

// TestConformCatchesMismatch shows conformToAPIDoc is not vacuous: answers
// that break the document's schemas are reported, conforming ones are not.
func TestConformCatchesMismatch(t *testing.T) {
	cases := []struct {
		name, path string
		status     int
		body       string
		wantErr    bool
	}{
		{"conforming job", "/v1/posters/abc", 200, `{"id":"abc","status":"queued","attempts":0}`, false},
		{"unknown status", "/v1/posters/abc", 200, `{"id":"abc","status":"done","attempts":0}`, true},
		{"missing attempts", "/v1/posters/abc", 200, `{"id":"abc","status":"queued"}`, true},
		{"undocumented status code", "/v1/posters/abc", 418, `{"error":{"code":"teapot","message":"no"}}`, true},
		{"error without message", "/v1/posters/abc", 404, `{"error":{"code":"not_found"}}`, true},
		{"unknown endpoint's 404", "/v1/nowhere", 404, `{"error":{"code":"not_found","message":"no such endpoint"}}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			etb := &errorsTB{TB: t}
			h := conformToAPIDoc(etb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, tc.path, nil))
			if got := len(etb.errs) > 0; got != tc.wantErr {
				t.Fatalf("reported %v (%q), want reported = %v", got, etb.errs, tc.wantErr)
			}
		})
	}
}
