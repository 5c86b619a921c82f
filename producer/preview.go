package producer

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/wxposter/wxposter/poster"
	"github.com/wxposter/wxposter/poster/palette"
	"github.com/wxposter/wxposter/producer/previewpage"
	"github.com/wxposter/wxposter/templates"
)

// maxPreviewBody bounds a preview request: a palette and its data.
const maxPreviewBody = templates.MaxPaletteBytes + 64<<10

func (s *Server) previewRoutes(m *routeMux) {
	m.Handle("POST /v1/preview", s.auth(http.HandlerFunc(s.preview)))
	// The page is static and public; its calls carry the API key.
	m.Handle("GET /preview/", http.StripPrefix("/preview/", http.FileServerFS(previewpage.Files)))
}

// previewRequest is the body of POST /v1/preview: a palette, or the name of
// a stored template, and the data to fill it with.
type previewRequest struct {
	Palette  json.RawMessage   `json:"palette"`
	Template string            `json:"template"`
	Data     map[string]string `json:"data"`
	Format   string            `json:"format"`  // png (default) or jpeg
	Quality  int               `json:"quality"` // JPEG quality, 1-100; 0: the default (85)
	Width    int               `json:"width"`   // output width in px; 0: the palette's
}

// previewResult is the JSON answer (Accept: application/json).
type previewResult struct {
	Image     string           `json:"image"` // a data: URI
	Width     int              `json:"width"`
	Height    int              `json:"height"`
	Variables []string         `json:"variables"`
	Warnings  []*palette.Error `json:"warnings"`
}

// preview draws a palette synchronously and answers the image itself (or,
// for Accept: application/json, the image as a data: URI with the palette's
// warnings). Images are placeholders and the code a placeholder too: no
// network, no WeChat, no quota. Variables missing from data show as
// {{name}}. Problems are a 400 listing them all, as PUT does.
func (s *Server) preview(w http.ResponseWriter, r *http.Request) {
	if s.render == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "this server has no renderer for previews", "")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPreviewBody))
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		invalid(w, "body", "must be at most "+strconv.Itoa(maxPreviewBody)+" bytes")
		return
	case err != nil:
		invalid(w, "body", "could not be read")
		return
	}
	var req previewRequest
	if err := json.Unmarshal(body, &req); err != nil {
		invalid(w, "body", "must be a JSON object with palette or template, and data")
		return
	}
	switch req.Format {
	case "", "png", "jpeg":
	default:
		invalid(w, "format", "must be png or jpeg")
		return
	}
	if req.Quality < 0 || req.Quality > 100 || (req.Quality > 0 && req.Format != "jpeg") {
		invalid(w, "quality", "must be between 1 and 100, with format jpeg")
		return
	}
	if req.Width < 0 || req.Width > palette.MaxSide {
		invalid(w, "width", "must be from 0 to "+strconv.Itoa(palette.MaxSide))
		return
	}
	src := []byte(req.Palette)
	switch {
	case len(bytes.TrimSpace(src)) > 0 && req.Template != "":
		invalid(w, "palette", "give a palette or a template, not both")
		return
	case req.Template != "":
		t, err := s.template(r.Context(), req.Template)
		switch {
		case errors.Is(err, templates.ErrNotFound):
			invalid(w, "template", "is not a known template")
			return
		case err != nil:
			s.unavailable(w, r, "read the template", err)
			return
		case t.Palette == nil:
			invalid(w, "template", "is the built-in template, which has no palette to preview")
			return
		}
		src = t.JSON
	case len(bytes.TrimSpace(src)) == 0:
		invalid(w, "palette", "is required (or give template)")
		return
	}
	p, rep := s.checkPalette(r.Context(), src)
	if len(rep.Errors) > 0 {
		paletteInvalid(w, rep)
		return
	}
	data := placeholders(p)
	for k, v := range req.Data {
		data[k] = v
	}
	img, err := s.renderPreview(r.Context(), p, data, req.Width)
	if err != nil {
		rep.Errors = append(rep.Errors, renderProblem(err))
		paletteInvalid(w, rep)
		return
	}
	var buf bytes.Buffer
	ct := "image/png"
	if req.Format == "jpeg" {
		q := poster.DefaultJPEGQuality
		if req.Quality > 0 {
			q = req.Quality
		}
		ct, err = "image/jpeg", poster.EncodeJPEG(&buf, img, q)
	} else {
		err = poster.EncodePNG(&buf, img)
	}
	if err != nil {
		s.unavailable(w, r, "encode the preview", err)
		return
	}
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		vars := p.Variables()
		if vars == nil {
			vars = []string{}
		}
		writeJSON(w, http.StatusOK, previewResult{
			Image: "data:" + ct + ";base64," + base64.StdEncoding.EncodeToString(buf.Bytes()),
			Width: img.Bounds().Dx(), Height: img.Bounds().Dy(), Variables: vars, Warnings: rep.Warnings,
		})
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}
