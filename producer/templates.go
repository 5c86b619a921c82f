package producer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/wxposter/wxposter/poster"
	"github.com/wxposter/wxposter/poster/palette"
	"github.com/wxposter/wxposter/templates"
)

// Templates tells which poster templates exist beyond the built-in default,
// and their current versions.
type Templates interface {
	// Get returns the current version of the named template, or an error
	// wrapping templates.ErrNotFound.
	Get(ctx context.Context, name string) (*templates.Template, error)
}

// TemplateStore is a catalogue the API can edit (templates.Store is one).
// Given to WithTemplates, it is also served at /v1/templates.
type TemplateStore interface {
	Templates
	Put(ctx context.Context, name string, palette []byte) (*templates.Template, templates.Change, error)
	Delete(ctx context.Context, name string) error
	List(ctx context.Context) ([]*templates.Template, error)
}

// BuiltinTemplates is the catalogue of templates compiled into wxposter:
// only "default".
type BuiltinTemplates struct{}

// builtinDefault describes poster.DefaultTemplate: every field is optional,
// and avatar is an image URL.
var builtinDefault = templates.Template{
	Name: poster.DefaultTemplate, Version: poster.DefaultTemplateVersion,
	ImageVariables: []string{"avatar"},
}

// Get implements Templates.
func (BuiltinTemplates) Get(_ context.Context, name string) (*templates.Template, error) {
	if name == poster.DefaultTemplate {
		t := builtinDefault
		return &t, nil
	}
	return nil, fmt.Errorf("%w: %q", templates.ErrNotFound, name)
}

// template returns the current version of name: the built-in default, which
// no store can replace, or one of s.templates.
func (s *Server) template(ctx context.Context, name string) (*templates.Template, error) {
	if name == poster.DefaultTemplate {
		return BuiltinTemplates{}.Get(ctx, name)
	}
	return s.templates.Get(ctx, name)
}

// templateView is a template as the API shows it.
type templateView struct {
	Name      string   `json:"name"`
	Version   int      `json:"version"`
	Variables []string `json:"variables"`
	Builtin   bool     `json:"builtin,omitempty"`
	// Change is what a PUT did: created, updated or unchanged.
	Change    string          `json:"change,omitempty"`
	SHA256    string          `json:"sha256,omitempty"`
	UpdatedAt string          `json:"updated_at,omitempty"`
	Palette   json.RawMessage `json:"palette,omitempty"`
}

func viewOf(t *templates.Template, withPalette bool) templateView {
	v := templateView{Name: t.Name, Version: t.Version, Variables: t.Variables, SHA256: t.SHA256}
	if v.Variables == nil {
		v.Variables = []string{}
	}
	if t.Name == poster.DefaultTemplate {
		v.Builtin = true
	}
	if !t.Created.IsZero() {
		v.UpdatedAt = t.Created.UTC().Format(time.RFC3339)
	}
	if withPalette {
		v.Palette = t.JSON
	}
	return v
}

// templateStore returns the editable catalogue, or answers 503 if there is none.
func (s *Server) templateStore(w http.ResponseWriter) (TemplateStore, bool) {
	ts, ok := s.templates.(TemplateStore)
	if !ok {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "no template store is configured", "")
	}
	return ts, ok
}

// putTemplate stores the body, a palette, as the next version of the
// template: 201 when the name is new, 200 otherwise ("change" says whether
// anything changed; the same palette again keeps the version, and so every
// poster already made with it).
func (s *Server) putTemplate(w http.ResponseWriter, r *http.Request) {
	ts, ok := s.templateStore(w)
	if !ok {
		return
	}
	name := r.PathValue("name")
	if name == poster.DefaultTemplate {
		invalid(w, "name", "is the built-in template and cannot be replaced")
		return
	}
	if mt := r.Header.Get("Content-Type"); mt != "" && !strings.HasPrefix(mt, "application/json") {
		invalid(w, "body", "must be a JSON palette (Content-Type: application/json)")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, templates.MaxPaletteBytes))
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		invalid(w, "body", fmt.Sprintf("must be at most %d bytes", templates.MaxPaletteBytes))
		return
	}
	if err != nil {
		invalid(w, "body", "could not be read")
		return
	}
	_, rep := s.checkPalette(r.Context(), body)
	if len(rep.Errors) > 0 {
		paletteInvalid(w, rep)
		return
	}
	t, change, err := ts.Put(r.Context(), name, body)
	var (
		ne *templates.NameError
		pe *palette.Error
	)
	switch {
	case errors.As(err, &ne):
		invalid(w, "name", ne.Rule)
		return
	case errors.As(err, &pe):
		field := pe.Path
		if field == "" {
			field = "body"
		}
		invalid(w, field, pe.Rule)
		return
	case errors.Is(err, templates.ErrTooLarge):
		invalid(w, "body", fmt.Sprintf("must be at most %d bytes", templates.MaxPaletteBytes))
		return
	case err != nil:
		s.unavailable(w, r, "store the template", err)
		return
	}
	status := http.StatusOK
	if change == templates.Created {
		status = http.StatusCreated
		w.Header().Set("Location", "/v1/templates/"+name)
	}
	if change != templates.Unchanged {
		s.log.InfoContext(r.Context(), "template stored", "template", name, "version", t.Version, "change", change)
	}
	v := viewOf(t, false)
	v.Change = change.String()
	writeJSON(w, status, struct {
		templateView
		Warnings []*palette.Error `json:"warnings"`
	}{v, rep.Warnings})
}

// paletteInvalid answers 400 with every problem of a palette: "errors" (and
// "warnings") list them all, "error" is the first, as for any 400.
func paletteInvalid(w http.ResponseWriter, rep paletteReport) {
	first := rep.Errors[0]
	field := first.Path
	if field == "" {
		field = "body"
	}
	msg := field + " " + first.Rule
	if n := len(rep.Errors); n > 1 {
		msg += fmt.Sprintf(" (and %d more problems: see errors)", n-1)
	}
	writeJSON(w, http.StatusBadRequest, map[string]any{
		"error":    apiError{Code: "invalid_request", Message: msg, Field: field},
		"errors":   rep.Errors,
		"warnings": rep.Warnings,
	})
}

func (s *Server) getTemplate(w http.ResponseWriter, r *http.Request) {
	t, err := s.template(r.Context(), r.PathValue("name"))
	switch {
	case errors.Is(err, templates.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no such template", "name")
	case err != nil:
		s.unavailable(w, r, "read the template", err)
	default:
		writeJSON(w, http.StatusOK, viewOf(t, true))
	}
}

// listTemplates lists the built-in default and the stored templates.
func (s *Server) listTemplates(w http.ResponseWriter, r *http.Request) {
	out := []templateView{viewOf(&builtinDefault, false)}
	if ts, ok := s.templates.(TemplateStore); ok {
		list, err := ts.List(r.Context())
		if err != nil {
			s.unavailable(w, r, "list templates", err)
			return
		}
		for _, t := range list {
			out = append(out, viewOf(t, false))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"templates": out})
}

// deleteTemplate removes a template: new posters can no longer use it,
// while jobs already queued with it still render.
func (s *Server) deleteTemplate(w http.ResponseWriter, r *http.Request) {
	ts, ok := s.templateStore(w)
	if !ok {
		return
	}
	name := r.PathValue("name")
	if name == poster.DefaultTemplate {
		invalid(w, "name", "is the built-in template and cannot be deleted")
		return
	}
	err := ts.Delete(r.Context(), name)
	switch {
	case errors.Is(err, templates.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no such template", "name")
	case err != nil:
		s.unavailable(w, r, "delete the template", err)
	default:
		s.log.InfoContext(r.Context(), "template deleted", "template", name)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	}
}
