// Package batchcsv reads the items of a batch campaign from a CSV file
// (docs/batches.md#csv-format): one row per poster, columns key, scene,
// page, param.<name> and data.<name>. It reads a row at a time, so a file of
// 100,000 rows takes no more memory than one of ten, and every error names
// the line and the rule broken.
package batchcsv

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/wxposter/wxposter/batchclient"
)

// Error is a malformed file: the line (1 is the header) and the rule, and
// the file's name when it was read by name.
type Error struct {
	Path string
	Line int
	Rule string
}

func (e *Error) Error() string {
	if e.Path != "" {
		return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Rule)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Rule)
}

// ErrEmpty is returned (inside an *Error) for a file without a header.
var ErrEmpty = errors.New("empty file: want a header row such as key,scene,data.nickname")

// Column names and prefixes.
const (
	ColKey      = "key"
	ColScene    = "scene"
	ColPage     = "page"
	ParamPrefix = "param."
	DataPrefix  = "data."
)

type kind int

const (
	kindKey kind = iota
	kindScene
	kindPage
	kindParam
	kindData
)

type column struct {
	kind kind
	name string // param or data name
}

// Reader reads items from CSV.
type Reader struct {
	cr      *csv.Reader
	cols    []column
	header  []string
	hasScn  bool
	hasPrm  bool
	keys    map[string]int // key → line it was first used on
	line    int            // start line of the last record read
	records int
}

// NewReader reads and checks the header.
func NewReader(r io.Reader) (*Reader, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &Error{Line: 1, Rule: ErrEmpty.Error()}
	}
	if err != nil {
		return nil, parseError(err, 0)
	}
	rd := &Reader{cr: cr, keys: map[string]int{}, line: 1}
	seen := map[string]int{}
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\uFEFF") // spreadsheets' UTF-8 byte order mark
		}
		h = strings.TrimSpace(h)
		rd.header = append(rd.header, h)
		if prev, ok := seen[h]; ok {
			return nil, &Error{Line: 1, Rule: fmt.Sprintf("column %q appears twice (columns %d and %d)", h, prev+1, i+1)}
		}
		seen[h] = i
		col, rule := parseColumn(h)
		if rule != "" {
			return nil, &Error{Line: 1, Rule: fmt.Sprintf("column %d %q: %s", i+1, h, rule)}
		}
		rd.hasScn = rd.hasScn || col.kind == kindScene
		rd.hasPrm = rd.hasPrm || col.kind == kindParam
		rd.cols = append(rd.cols, col)
	}
	return rd, nil
}

func parseColumn(h string) (column, string) {
	switch h {
	case "":
		return column{}, "has no name"
	case ColKey:
		return column{kind: kindKey}, ""
	case ColScene:
		return column{kind: kindScene}, ""
	case ColPage:
		return column{kind: kindPage}, ""
	}
	for _, p := range []struct {
		prefix string
		kind   kind
	}{{ParamPrefix, kindParam}, {DataPrefix, kindData}} {
		if name, ok := strings.CutPrefix(h, p.prefix); ok {
			if strings.TrimSpace(name) == "" {
				return column{}, fmt.Sprintf("needs a name after %q (e.g. %sfrom)", p.prefix, p.prefix)
			}
			return column{kind: p.kind, name: name}, ""
		}
	}
	return column{}, "is not a known column (want key, scene, page, param.<name> or data.<name>)"
}

// Header is the header row as read (trimmed).
func (r *Reader) Header() []string { return r.header }

// Line is the line the last item read started on.
func (r *Reader) Line() int { return r.line }

// Read returns the next item, or io.EOF after the last one. An empty cell
// means "not set": the batch's default (page, data) applies. A file with a
// header and no rows is an error.
func (r *Reader) Read() (batchclient.Item, error) {
	rec, err := r.cr.Read()
	if errors.Is(err, io.EOF) {
		if r.records == 0 {
			return batchclient.Item{}, &Error{Line: 2, Rule: "no rows after the header: a batch needs at least one item"}
		}
		return batchclient.Item{}, io.EOF
	}
	if err != nil {
		return batchclient.Item{}, parseError(err, len(r.cols))
	}
	r.records++
	r.line, _ = r.cr.FieldPos(0)
	var it batchclient.Item
	for i, v := range rec {
		if v == "" {
			continue
		}
		c := r.cols[i]
		switch c.kind {
		case kindKey:
			it.Key = v
		case kindScene:
			it.Scene = v
		case kindPage:
			it.Page = v
		case kindParam:
			if it.Params == nil {
				it.Params = map[string]string{}
			}
			it.Params[c.name] = v
		case kindData:
			if it.Data == nil {
				it.Data = map[string]string{}
			}
			it.Data[c.name] = v
		}
	}
	if it.Scene != "" && it.Params != nil {
		return it, &Error{Line: r.line, Rule: "scene and param.* are both set: use one (scene is sent as is, params are stored and referenced by a short scene)"}
	}
	if it.Key != "" {
		// The archive names posters by key and the manifest is read by it.
		if first, dup := r.keys[it.Key]; dup {
			return it, &Error{Line: r.line, Rule: fmt.Sprintf("key %q is already used on line %d: keys must be unique", it.Key, first)}
		}
		r.keys[it.Key] = r.line
	}
	return it, nil
}

// parseError turns encoding/csv's error into an *Error with a plain rule.
func parseError(err error, want int) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return fmt.Errorf("read CSV: %w", err)
	}
	var rule string
	switch {
	case errors.Is(pe.Err, csv.ErrFieldCount):
		rule = fmt.Sprintf("wrong number of fields: every row needs %d, like the header", want)
	case errors.Is(pe.Err, csv.ErrBareQuote):
		rule = fmt.Sprintf(`bad quoting at byte %d of the line: a " inside an unquoted field (quote the whole field and double the quote: "say ""hi""")`, pe.Column)
	case errors.Is(pe.Err, csv.ErrQuote):
		rule = fmt.Sprintf(`bad quoting at byte %d of the line: a quoted field must end with " followed by a comma or the end of the line`, pe.Column)
		if pe.StartLine != pe.Line {
			rule += fmt.Sprintf(" (the field opens on line %d)", pe.StartLine)
		}
	default:
		rule = pe.Err.Error()
	}
	return &Error{Line: pe.Line, Rule: rule}
}
