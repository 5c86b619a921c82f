package templates

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wxposter/wxposter/poster/palette"
)

// Loaded is what LoadDir did with one file.
type Loaded struct {
	File     string
	Template *Template
	Change   Change
}

// LoadDir puts every *.json file of dir under its base name
// (dir/invite.json is "invite"). Every file is read and parsed before
// anything is stored, so one bad file stores nothing; the error names each
// bad file and, for a bad palette, the path in it. Unchanged files change
// nothing (Put is idempotent), so calling it at every start-up is safe.
// Templates put through the API but absent from dir are left alone.
func (s *Store) LoadDir(ctx context.Context, dir string) ([]Loaded, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("templates: %s: %w", dir, err)
	}
	if files == nil {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
	}
	slices.Sort(files)
	type entry struct {
		file, name string
		data       []byte
	}
	var (
		entries []entry
		errs    []error
	)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		data, err := readFile(f)
		if err == nil {
			err = CheckName(name)
		}
		if err == nil {
			_, err = palette.Parse(data)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("templates: %s: %w", f, err))
			continue
		}
		entries = append(entries, entry{f, name, data})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := make([]Loaded, 0, len(entries))
	for _, e := range entries {
		t, change, err := s.Put(ctx, e.name, e.data)
		if err != nil {
			return out, fmt.Errorf("templates: %s: %w", e.file, err)
		}
		out = append(out, Loaded{File: e.file, Template: t, Change: change})
	}
	return out, nil
}

func readFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > MaxPaletteBytes {
		return nil, ErrTooLarge
	}
	return os.ReadFile(path)
}
