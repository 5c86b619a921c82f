package e2e

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"net/http"
	"path"
	"strings"
	"testing"
	"time"
)

const pageUnpublished = "pages/campaign/new"

// TestBatchFailRetryManifestArchive is issue 7's first acceptance: items on
// an unpublished page fail with 41030 after one attempt while the others
// succeed; after publishing the page a retry makes them all succeed; the
// manifest lists every item with working URLs, the ZIP holds one poster per
// succeeded item whose QR code decodes to its scene, and each completion
// is called back once, signed.
func TestBatchFailRetryManifestArchive(t *testing.T) {
	const secret = "batch-callback-secret-e2e"
	rcv := newReceiver(t, secret, "127.0.0.1:0")
	s := start(t, withCallbacks(secret, rcv.addr))

	// A poster made before the batch counts as succeeded without a job.
	pre := s.await(s.submit(map[string]any{"template": "default", "page": pageIndex, "scene": "pre:1",
		"data": map[string]string{"title": "春季活动"}}).ID)
	if pre.Status != "succeeded" {
		t.Fatalf("pre-made poster: %+v", pre)
	}
	callsBefore := s.sim.Total(codeAPI)

	items := []map[string]any{
		{"key": "made-before", "scene": "pre:1"},
		{"key": "a", "scene": "u:1"},
		{"key": "b", "scene": "u:2", "data": map[string]string{"nickname": "小红"}},
		{"key": "c", "scene": "u:3", "page": pageUnpublished},
		{"key": "d", "params": map[string]string{"u": "4", "from": "campaign"}},
		{"key": "e", "scene": "u:5", "page": pageUnpublished},
		{"scene": "u:6"}, // no key: named by its id; twice, so one job
		{"scene": "u:6"},
	}
	id := s.createBatch(map[string]any{
		"name": "spring", "template": "default", "page": pageIndex,
		"data": map[string]string{"title": "春季活动"}, "items": items, "callback_url": rcv.url(),
	})
	v := s.awaitBatch(id, 60*time.Second)
	want := map[string]int{"queued": 0, "running": 0, "retrying": 0, "succeeded": 6, "failed": 2, "cancelled": 0}
	if v.Status != "completed" || v.Total != len(items) || fmt.Sprint(v.Counts) != fmt.Sprint(want) {
		t.Fatalf("batch = %+v, want completed with %v", v, want)
	}
	// One code call per distinct new code: 4 succeeded + 2 failed once each
	// (41030 is not retried); the pre-made poster and the duplicate none.
	if got := s.sim.Total(codeAPI) - callsBefore; got != 6 {
		t.Errorf("code calls = %d, want 6", got)
	}
	if got := s.sim.Count(codeAPI, 41030); got != 2 {
		t.Errorf("41030 answers = %d, want 2 (one attempt per failed item)", got)
	}
	failed := s.items(id, "failed")
	if len(failed) != 2 {
		t.Fatalf("failed items = %+v", failed)
	}
	for _, it := range failed {
		if it.Error == nil || it.Error.Code != "41030" || it.Error.Errcode == nil || *it.Error.Errcode != 41030 {
			t.Errorf("failed item %+v, want error 41030", it)
		}
	}
	first := rcv.awaitAccepted(1, 20*time.Second)[0]
	if !first.Valid || first.Event.Event != "batch.completed" || first.Event.Batch.ID != id ||
		first.Event.Batch.Status != "completed" || first.Event.Batch.Counts.Failed != 2 {
		t.Fatalf("first callback = %+v", first)
	}

	// Publish the page and retry: the failed items run again.
	s.sim.SetPublishedPages(pageIndex, pageDetail, pageUnpublished)
	code, b := s.call(http.MethodPost, "/v1/batches/"+id+"/retry", nil)
	if code != http.StatusOK || !strings.Contains(string(b), `"status":"running"`) {
		t.Fatalf("retry = %d %s", code, b)
	}
	v = s.awaitBatch(id, 60*time.Second)
	if v.Status != "completed" || v.Counts["succeeded"] != len(items) {
		t.Fatalf("after retry: %+v", v)
	}
	got := rcv.awaitAccepted(2, 20*time.Second)
	if got[1].ID == first.ID || !got[1].Valid || got[1].Event.Batch.Counts.Succeeded != len(items) {
		t.Fatalf("second callback = %+v (first %s)", got[1], first.ID)
	}

	// The manifest: a row per item, every URL downloads.
	rows := s.manifestCSV(id)
	if len(rows) != len(items) {
		t.Fatalf("manifest rows = %d, want %d", len(rows), len(items))
	}
	for _, r := range rows {
		if r["status"] != "succeeded" || r["url"] == "" || r["error_code"] != "" {
			t.Fatalf("manifest row %v", r)
		}
		download(t, r["url"])
	}
	if rows[6]["id"] != rows[7]["id"] || rows[0]["key"] != "made-before" {
		t.Errorf("manifest order or ids wrong: %v", rows)
	}
	code, b = s.call(http.MethodGet, "/v1/batches/"+id+"/manifest?format=ndjson", nil)
	if code != http.StatusOK || bytes.Count(b, []byte("\n")) != len(items) {
		t.Fatalf("ndjson manifest = %d %s", code, b)
	}

	// The archive: one poster per succeeded item (the two equal ones are one
	// file), QR codes decoding to the scenes, and the manifest.
	scenes := map[string]string{"made-before": "pre:1", "a": "u:1", "b": "u:2", "c": "u:3", "e": "u:5", rows[6]["id"]: "u:6"}
	pages := map[string]string{"c": pageUnpublished, "e": pageUnpublished}
	zr := s.archive(id)
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
		if f.Name == "manifest.csv" {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := image.Decode(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		key := strings.TrimSuffix(f.Name, path.Ext(f.Name))
		qr := scanQR(t, img)
		if key == "d" {
			if !strings.HasPrefix(qr, pageIndex+"?scene=") {
				t.Errorf("d: QR %q", qr)
			}
			continue
		}
		page := pages[key]
		if page == "" {
			page = pageIndex
		}
		if want := page + "?scene=" + scenes[key]; qr != want {
			t.Errorf("%s: QR = %q, want %q", f.Name, qr, want)
		}
	}
	if len(zr.File) != 8 || !names["manifest.csv"] || !names["made-before.jpg"] || !names[rows[6]["id"]+".jpg"] {
		t.Fatalf("archive holds %v", names)
	}
	if all := rcv.all(); len(all) != 2 {
		t.Errorf("callback deliveries = %d, want 2 (one per completion): %+v", len(all), all)
	}
}

// itemView is one item of GET /v1/batches/{id}/items.
type itemView struct {
	Key    string `json:"key"`
	ID     string `json:"id"`
	Status string `json:"status"`
	URL    string `json:"url"`
	Error  *struct {
		Code    string `json:"code"`
		Errcode *int   `json:"errcode"`
		Message string `json:"message"`
	} `json:"error"`
}

// items lists a batch's items with status (all when ""), following cursors.
func (s *system) items(id, status string) []itemView {
	s.tb.Helper()
	var out []itemView
	cursor := ""
	for {
		code, b := s.call(http.MethodGet, fmt.Sprintf("/v1/batches/%s/items?status=%s&limit=3&cursor=%s", id, status, cursor), nil)
		if code != http.StatusOK {
			s.tb.Fatalf("items = %d %s", code, b)
		}
		var page struct {
			Items      []itemView `json:"items"`
			NextCursor string     `json:"next_cursor"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			s.tb.Fatal(err)
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out
		}
		cursor = page.NextCursor
	}
}

// manifestCSV reads the CSV manifest as maps by column.
func (s *system) manifestCSV(id string) []map[string]string {
	s.tb.Helper()
	resp, err := http.Get(s.api.URL + "/v1/batches/" + id + "/manifest")
	if err != nil {
		s.tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		s.tb.Fatalf("manifest = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	recs, err := csv.NewReader(bufio.NewReader(resp.Body)).ReadAll()
	if err != nil {
		s.tb.Fatal(err)
	}
	if strings.Join(recs[0], ",") != "key,id,status,url,error_code,error_message" {
		s.tb.Fatalf("manifest header %v", recs[0])
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// archive downloads the batch's ZIP.
func (s *system) archive(id string) *zip.Reader {
	s.tb.Helper()
	resp, err := http.Get(s.api.URL + "/v1/batches/" + id + "/archive")
	if err != nil {
		s.tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/zip" {
		s.tb.Fatalf("archive = %d %s", resp.StatusCode, b)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		s.tb.Fatal(err)
	}
	return zr
}
