package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wxposter/wxposter/config"
	"github.com/wxposter/wxposter/internal/testenv"
	"github.com/wxposter/wxposter/openapi"
)

// TestOpenAPICoversEveryRoute builds the producer exactly as `wxposter
// producer` does and checks that every route its router registers is an
// operation of openapi/openapi.json, and that /openapi.json serves it.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	cfg, err := config.LoadFrom(map[string]string{
		"WXPOSTER_REDIS_URL":        testenv.RedisURL,
		"WXPOSTER_MINIO_ENDPOINT":   testenv.MinIOServer,
		"WXPOSTER_MINIO_ACCESS_KEY": testenv.MinIOKey,
		"WXPOSTER_MINIO_SECRET_KEY": testenv.MinIOSecret,
		"WXPOSTER_BUCKET":           "wxtest-routes-" + testenv.ID(4),
		"WXPOSTER_APPS":             testenv.AppID() + ":routes-secret",
		"WXPOSTER_LOG_LEVEL":        "warn",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := connect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.store.RemoveAll(context.Background())
		d.close()
		d.rdb.Close()
	})
	api, err := d.producer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()

	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openapi.Document, &doc); err != nil {
		t.Fatal(err)
	}
	routes := api.Routes()
	if len(routes) < 15 {
		t.Fatalf("only %d routes registered: %q", len(routes), routes)
	}
	documented := map[string]bool{}
	for _, pattern := range routes {
		if pattern == "/" {
			continue // the catch-all 404
		}
		method, path, ok := strings.Cut(pattern, " ")
		if !ok { // a pattern without a method answers every method; GET is what is documented
			method, path = http.MethodGet, pattern
		}
		if _, ok := doc.Paths[path][strings.ToLower(method)]; !ok {
			t.Errorf("route %q is not in openapi/openapi.json (paths[%q].%s)", pattern, path, strings.ToLower(method))
		}
		documented[strings.ToLower(method)+" "+path] = true
	}
	for _, want := range []string{"get /metrics", "get /monitoring/", "get /openapi.json", "post /v1/posters"} {
		if !documented[want] {
			t.Errorf("%s: not registered by the producer", want)
		}
	}

	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), openapi.Document) {
		t.Fatalf("GET /openapi.json = %d, %d bytes", rec.Code, rec.Body.Len())
	}
}
