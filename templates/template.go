// Package templates keeps poster templates (Painter palettes, see
// docs/templates.md) in Redis, versioned: every change is a new immutable
// version, and a job renders the version it was queued with, so editing a
// template never changes a poster already asked for, and the version, being
// part of the job id, never lets an edit serve a stale poster.
package templates

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/wxposter/wxposter/poster"
	"github.com/wxposter/wxposter/poster/palette"
)

// MaxPaletteBytes bounds one template's palette JSON.
const MaxPaletteBytes = 256 << 10

// Template is one version of a template.
type Template struct {
	Name    string
	Version int
	// Palette is the parsed palette, shared by every job of this version:
	// read it, never change it (Fill returns a copy).
	Palette *palette.Palette
	// JSON is the palette as stored: the JSON that was put, compacted.
	JSON json.RawMessage
	// SHA256 is the hex digest of JSON; a put with the same digest is no change.
	SHA256 string
	// Variables are the {{name}} placeholders, sorted: the data fields a job
	// must give.
	Variables []string
	// ImageVariables are the variables that make up a whole image url, so
	// their values must be image URLs (the producer checks their hosts).
	ImageVariables []string
	// Created is when this version was stored.
	Created time.Time
}

// Change says what a Put did.
type Change int

// Outcomes of Put.
const (
	Unchanged Change = iota // same content as the current version: no new version
	Created                 // the name was unknown (or deleted): version is new
	Updated                 // a new version replaced the current one
)

func (c Change) String() string {
	return [...]string{"unchanged", "created", "updated"}[c]
}

// Errors of the Store. Palette errors are *palette.Error, wrapped.
var (
	ErrNotFound = errors.New("templates: no such template")
	ErrTooLarge = fmt.Errorf("templates: palette exceeds %d bytes", MaxPaletteBytes)
)

// NameError is a template name that breaks the naming rule.
type NameError struct{ Name, Rule string }

func (e *NameError) Error() string { return fmt.Sprintf("templates: name %q %s", e.Name, e.Rule) }

// Reserved is the name of the built-in template, which cannot be stored.
const Reserved = poster.DefaultTemplate

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// CheckName returns a *NameError unless name is a valid name for a stored
// template: it also ends up in Redis keys and file names.
func CheckName(name string) error {
	switch {
	case !nameRE.MatchString(name):
		return &NameError{name, "must be 1-64 characters of a-z, 0-9, _ and -, starting with a letter or digit"}
	case name == Reserved:
		return &NameError{name, "is reserved for the built-in template"}
	}
	return nil
}

// placeholderRE matches a string that is one placeholder and nothing else.
var placeholderRE = regexp.MustCompile(`^\{\{\s*([^{}\s]+)\s*\}\}$`)

// imageVariables returns the variables of vars that are a whole image url
// ("url": "{{avatar}}"): only those are known to hold URLs. A url that mixes
// text and placeholders ("https://cdn/{{sku}}.jpg") is left to the image
// loader's own checks at render time.
func imageVariables(raw []byte, vars []string) []string {
	var doc struct {
		Views []map[string]json.RawMessage `json:"views"`
	}
	if json.Unmarshal(raw, &doc) != nil {
		return nil
	}
	var out []string
	for _, v := range doc.Views {
		var u string
		if json.Unmarshal(v["url"], &u) != nil {
			continue
		}
		m := placeholderRE.FindStringSubmatch(strings.TrimSpace(u))
		if m != nil && slices.Contains(vars, m[1]) && !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	slices.Sort(out)
	return out
}
