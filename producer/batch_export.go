package producer

import (
	"archive/zip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path"
	"time"

	"github.com/wxposter/wxposter/batch"
)

// manifestHeader is the manifest's CSV header (and NDJSON's field names).
var manifestHeader = []string{"key", "id", "status", "url", "error_code", "error_message"}

// manifestRow is one manifest line in NDJSON.
type manifestRow struct {
	Key          string `json:"key"`
	ID           string `json:"id"`
	Status       string `json:"status"`
	URL          string `json:"url"`
	ErrorCode    string `json:"error_code"`
	ErrorMessage string `json:"error_message"`
}

func rowOf(it batch.ItemView) manifestRow {
	r := manifestRow{Key: it.Key, ID: it.ID, Status: it.Status, URL: it.URL}
	if it.Error != nil {
		r.ErrorCode, r.ErrorMessage = it.Error.Code, it.Error.Message
	}
	return r
}

// manifestWriter writes manifest rows as CSV or NDJSON.
type manifestWriter struct {
	csv  *csv.Writer
	json *json.Encoder
}

func newManifestWriter(w io.Writer, ndjson bool) *manifestWriter {
	if ndjson {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		return &manifestWriter{json: enc}
	}
	return &manifestWriter{csv: csv.NewWriter(w)}
}

func (m *manifestWriter) header() error {
	if m.csv != nil {
		return m.csv.Write(manifestHeader)
	}
	return nil
}

func (m *manifestWriter) row(it batch.ItemView) error {
	r := rowOf(it)
	if m.json != nil {
		return m.json.Encode(r)
	}
	return m.csv.Write([]string{r.Key, r.ID, r.Status, r.URL, r.ErrorCode, r.ErrorMessage})
}

func (m *manifestWriter) flush() error {
	if m.csv != nil {
		m.csv.Flush()
		return m.csv.Error()
	}
	return nil
}

// writeManifest writes every item of batch id to w, a chunk at a time;
// flush is called after each chunk.
func (s *Server) writeManifest(ctx context.Context, id string, total int, mw *manifestWriter, flush func()) error {
	if err := mw.header(); err != nil {
		return err
	}
	const step = 1000
	for from := 0; from < total; from += step {
		var werr error
		_, err := s.batches.Store.Items(ctx, id, from, min(from+step, total), 0, s.store.URL, func(it batch.ItemView) bool {
			werr = mw.row(it)
			return werr == nil
		})
		if err := errors.Join(err, werr, mw.flush()); err != nil {
			return err
		}
		flush()
	}
	return nil
}

func (s *Server) batchManifest(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ctx := r.Context()
	ndjson := false
	switch r.URL.Query().Get("format") {
	case "", "csv":
	case "ndjson":
		ndjson = true
	default:
		invalid(w, "format", "must be csv or ndjson")
		return
	}
	v, err := s.batches.Store.Get(ctx, id)
	if err != nil {
		s.answerBatch(w, r, v, err)
		return
	}
	name, ctype := id+"-manifest.csv", "text/csv; charset=utf-8"
	if ndjson {
		name, ctype = id+"-manifest.ndjson", "application/x-ndjson"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	if err := s.writeManifest(ctx, id, v.Total, newManifestWriter(w, ndjson), func() { _ = rc.Flush() }); err != nil {
		// The status is sent: end the stream early; the client sees fewer
		// rows than total.
		s.log.WarnContext(ctx, "manifest cut short", "batch", id, "err", err)
	}
}

// objectOpener streams stored objects (storage.Store).
type objectOpener interface {
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

func (s *Server) batchArchive(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ctx := r.Context()
	opener, ok := s.store.(objectOpener)
	if !ok {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "this storage cannot stream objects", "")
		return
	}
	v, err := s.batches.Store.Get(ctx, id)
	if err != nil {
		s.answerBatch(w, r, v, err)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+id+`.zip"`)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	zw := zip.NewWriter(w)
	if err := s.writeArchive(ctx, zw, opener, id, v.Total, func() { _ = rc.Flush() }); err != nil {
		// Without the central directory the client cannot mistake the cut
		// archive for a whole one.
		s.log.WarnContext(ctx, "archive cut short", "batch", id, "err", err)
		return
	}
	if err := zw.Close(); err != nil {
		s.log.WarnContext(ctx, "archive not finished", "batch", id, "err", err)
	}
}

// writeArchive adds every succeeded poster, streamed from storage one at a
// time (JPEG and PNG are stored, not deflated again), then the manifest.
func (s *Server) writeArchive(ctx context.Context, zw *zip.Writer, opener objectOpener, id string, total int, flush func()) error {
	names := map[string]bool{}
	now := time.Now()
	const step = 1000
	for from := 0; from < total; from += step {
		var items []batch.ItemView
		if _, err := s.batches.Store.Items(ctx, id, from, min(from+step, total), batch.StateByte(batch.ItemSucceeded), s.store.URL, func(it batch.ItemView) bool {
			items = append(items, it)
			return true
		}); err != nil {
			return err
		}
		for _, it := range items {
			name := it.ID
			if it.Key != "" {
				name = it.Key
			}
			name += path.Ext(it.ObjectKey)
			if names[name] {
				continue // equal items without keys are one poster
			}
			names[name] = true
			if err := copyObject(ctx, zw, opener, it.ObjectKey, name, now); err != nil {
				return err
			}
		}
		flush()
	}
	f, err := zw.CreateHeader(&zip.FileHeader{Name: "manifest.csv", Method: zip.Deflate, Modified: now})
	if err != nil {
		return err
	}
	return s.writeManifest(ctx, id, total, newManifestWriter(f, false), flush)
}

func copyObject(ctx context.Context, zw *zip.Writer, opener objectOpener, key, name string, mod time.Time) error {
	obj, err := opener.Open(ctx, key)
	if err != nil {
		return err
	}
	defer obj.Close()
	f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store, Modified: mod})
	if err != nil {
		return err
	}
	_, err = io.Copy(f, obj)
	return err
}
