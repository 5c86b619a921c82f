package producer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/wxposter/wxposter/finished"
	"github.com/wxposter/wxposter/poster"
	"github.com/wxposter/wxposter/tasks"
)

// requestMemo remembers which job a poster request body, already validated,
// names: the poster button pressed again sends the same body, and its
// answer (usually "succeeded", from memory) then costs no JSON decoding,
// validation or job-id hashing. It only says which job; whether its poster
// is made is asked every time (alreadyMade).
//
// A body names the same job for as long as the process's configuration
// (apps, image hosts, renderer version) is the same, which is the process's
// life, and, for a stored template, while the template's current version is
// the one the body was validated against: that is looked up on every use,
// as a full request would. Bodies with params are not kept: their scene
// reference is stored (storeParams) on every request.
type requestMemo struct {
	lru *lru.Cache[[sha256.Size]byte, memoJob]
}

// memoJob is the job a body names.
type memoJob struct {
	id, key  string
	template string // "" or the built-in default: no version to check
	version  int
}

// newRequestMemo returns a memo of at most size bodies (about 200 bytes
// each, whatever the body's size: bodies are kept as their SHA-256).
func newRequestMemo(size int) *requestMemo {
	if size <= 0 {
		size = finished.DefaultCacheSize
	}
	l, _ := lru.New[[sha256.Size]byte, memoJob](size) // only fails for size <= 0
	return &requestMemo{lru: l}
}

// job returns the job body names, if it was validated before and, for a
// stored template, lookup still gives the version it was validated with.
func (m *requestMemo) job(ctx context.Context, body []byte, lookup templateFunc) (id, key string, ok bool) {
	j, ok := m.lru.Get(sha256.Sum256(body))
	if !ok {
		return "", "", false
	}
	// The built-in default's version is compiled in: only a stored
	// template can have changed since.
	if j.template != "" && j.template != poster.DefaultTemplate {
		t, err := lookup(ctx, j.template)
		if err != nil || t.Version != j.version {
			return "", "", false // edited or gone: validate the body again
		}
	}
	return j.id, j.key, true
}

// remember keeps the job a validated body names.
func (m *requestMemo) remember(body []byte, p tasks.PosterPayload, id, key string) {
	m.lru.Add(sha256.Sum256(body), memoJob{id: id, key: key, template: p.Template, version: p.TemplateVersion})
}

// len is the number of bodies kept.
func (m *requestMemo) len() int { return m.lru.Len() }

// Request bodies are read into pooled buffers: a poster request is a few
// hundred bytes, read thousands of times a second.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBody() *bytes.Buffer { return bodies.Get().(*bytes.Buffer) }

func putBody(b *bytes.Buffer) {
	if b.Cap() > 1<<20 { // a batch's body: let it go
		return
	}
	b.Reset()
	bodies.Put(b)
}
