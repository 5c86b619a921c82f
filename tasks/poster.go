// Package tasks is the job contract shared by the producer and the workers:
// the task type, its payload, how a job's id and its objects' keys are derived,
// and the result a worker records.
package tasks

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"sync"

	"github.com/wxposter/wxposter/wechat"
)

// TypeGeneratePoster is the asynq task type of a poster job.
const TypeGeneratePoster = "poster:generate"

// DefaultQueue is the asynq queue poster jobs go to.
const DefaultQueue = "posters"

// PosterPayload is everything a worker needs to make one poster. It is also
// exactly what the job id hashes, so two equal requests are one job.
type PosterPayload struct {
	AppID string `json:"app_id"`
	// Template is the poster template; "" means the plain code image.
	Template        string `json:"template,omitempty"`
	TemplateVersion int    `json:"template_version,omitempty"`
	// RendererVersion changes whenever rendering changes its output, so that
	// a new release never serves a poster drawn by the old one.
	RendererVersion int                  `json:"renderer_version"`
	Code            wechat.UnlimitedCode `json:"code"`
	Data            map[string]string    `json:"data,omitempty"`
	// Format is the output: "jpeg" or "png"; "" is JPEG for a template, and
	// WeChat's own format (PNG when transparent) for a plain code.
	Format string `json:"format,omitempty"`
	// Quality is the JPEG quality, 1-100; 0 is the worker's default (85).
	Quality int `json:"quality,omitempty"`
}

// Output formats.
const (
	FormatJPEG = "jpeg"
	FormatPNG  = "png"
)

// Normalize returns the canonical form of p: WeChat defaults filled in and
// an empty data map dropped.
func (p PosterPayload) Normalize() PosterPayload {
	p.Code = p.Code.Normalize()
	if len(p.Data) == 0 {
		p.Data = nil
	}
	if p.Template == "" {
		p.TemplateVersion = 0
		p.Data = nil // the plain code uses no data
	} else if p.Format == FormatJPEG {
		p.Format = "" // a template's default: the same poster, the same id
	}
	if p.PosterExt() == "png" {
		p.Quality = 0
	}
	return p
}

// JobID is the keyed hash (HMAC-SHA256 with the id secret, see
// SetIDSecret) of the normalised payload: equal requests are one job, and
// nobody without the secret can compute a poster's id, and so its URL,
// from a guessed request. json.Marshal sorts map keys and writes struct
// fields in a fixed order, so the encoding is canonical. Every path that
// makes poster jobs (single posters, batches) must use it.
func (p PosterPayload) JobID() string {
	secret := idSecret.Load().([]byte)
	h, _ := idHashers.Get().(*idHasher)
	if h == nil || !bytes.Equal(h.secret, secret) {
		h = newIDHasher(secret)
	}
	defer idHashers.Put(h)
	h.buf.Reset()
	if err := h.enc.Encode(p.Normalize()); err != nil {
		panic(fmt.Sprintf("tasks: payload not encodable: %v", err)) // only plain types inside
	}
	h.mac.Reset()
	h.mac.Write([]byte("poster/v2\n"))
	h.mac.Write(bytes.TrimSuffix(h.buf.Bytes(), []byte("\n"))) // json.Marshal's bytes: Encode adds a newline
	h.sum = h.mac.Sum(h.sum[:0])
	return hex.EncodeToString(h.sum[:16])
}

// idHasher is JobID's keyed HMAC and encoding buffer, reused: every poster
// request computes an id, and at thousands of cache hits a second a new
// HMAC and buffer each time showed in the producer's profile.
type idHasher struct {
	secret []byte
	mac    hash.Hash
	buf    bytes.Buffer
	enc    *json.Encoder
	sum    []byte
}

var idHashers sync.Pool

func newIDHasher(secret []byte) *idHasher {
	h := &idHasher{secret: secret, mac: hmac.New(sha256.New, secret)}
	h.enc = json.NewEncoder(&h.buf) // escapes HTML, as json.Marshal does
	return h
}

// PosterExt is the file extension of the finished poster: the requested
// format; else JPEG for a template, and for a plain code WeChat's format
// (PNG when transparent).
func (p PosterPayload) PosterExt() string {
	switch {
	case p.Format == FormatPNG:
		return "png"
	case p.Format == FormatJPEG:
		return "jpg"
	case p.Template == "" && p.Code.IsHyaline:
		return "png"
	}
	return "jpg"
}

// PosterKey is the object key of the finished poster of job id.
func PosterKey(id, ext string) string { return "posters/" + id + "." + ext }

// CodeKey is the object key of a mini-program code: it hashes every parameter
// WeChat draws with, so the same code is fetched from WeChat once.
func CodeKey(appID string, c wechat.UnlimitedCode) string {
	c = c.Normalize()
	b, _ := json.Marshal(struct {
		AppID string               `json:"app_id"`
		Code  wechat.UnlimitedCode `json:"code"`
	}{appID, c})
	sum := sha256.Sum256(append([]byte("code/v1\n"), b...))
	return "codes/" + appID + "/" + hex.EncodeToString(sum[:16])
}

// Result is what a worker records on the task (asynq ResultWriter) and what
// the status endpoint reads back.
type Result struct {
	URL   string    `json:"url,omitempty"`
	Key   string    `json:"key,omitempty"`
	Error *JobError `json:"error,omitempty"`
	// Final marks an error after which the job will not run again.
	Final bool `json:"final,omitempty"`
}

// JobError is a job's failure as shown to clients: a WeChat errcode (or a
// wxposter code such as "render_failed") and a readable message.
type JobError struct {
	Code string `json:"code"`
	// Errcode is WeChat's errcode as a number, when WeChat caused the failure.
	Errcode *int   `json:"errcode,omitempty"`
	Message string `json:"message"`
}

// DoneChannel is the Redis pub/sub channel a worker publishes to when job id
// has recorded a final result, so that waiting pollers wake at once. The
// message is a Done in JSON.
func DoneChannel(id string) string { return "wxposter:done:" + id }

// Done is the message on a job's DoneChannel. A made poster carries its URL
// and the attempt that made it, so a waiting poller answers without reading
// the job again; a failed job's is empty (the poller reads its error).
// Pollers treat any other message (an older worker's bare URL) as a bare
// wake-up.
type Done struct {
	URL      string `json:"url,omitempty"`
	Attempts int    `json:"attempts,omitempty"`
}

// FinishedKey is the Redis key (a string: the poster's URL) a worker sets
// once job id's poster is uploaded. It outlives a Redis blip in which asynq
// could not mark the job complete, so the job is neither shown as running
// nor rendered again.
func FinishedKey(id string) string { return "wxposter:finished:" + id }
