package templates

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wxposter/wxposter/poster/palette"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadDir(t *testing.T) {
	s, _, _ := newTestStore(t)
	ctx := context.Background()
	dir := writeFiles(t, map[string]string{
		"invite.json":  string(testPalette("{{title}}")),
		"product.json": string(testPalette("商品")),
		"README.md":    "not a template",
	})
	loaded, err := s.LoadDir(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded) != 2 || loaded[0].Template.Name != "invite" || loaded[1].Template.Name != "product" ||
		loaded[0].Change != Created || loaded[0].File != filepath.Join(dir, "invite.json") {
		t.Fatalf("loaded = %+v", loaded)
	}

	// Every start-up loads again: nothing changes.
	again, err := s.LoadDir(ctx, dir)
	if err != nil || again[0].Change != Unchanged || again[0].Template.Version != 1 {
		t.Fatalf("reload = %+v %v, want unchanged", again, err)
	}

	// An edited file is a new version.
	if err := os.WriteFile(filepath.Join(dir, "invite.json"), testPalette("新标题"), 0o644); err != nil {
		t.Fatal(err)
	}
	edited, err := s.LoadDir(ctx, dir)
	if err != nil || edited[0].Change != Updated || edited[0].Template.Version != 2 || edited[1].Change != Unchanged {
		t.Fatalf("after edit = %+v %v", edited, err)
	}
}

func TestLoadDirErrors(t *testing.T) {
	bad := `{"width":"750rpx","height":"750rpx","views":[{"type":"text","text":"a"},{"type":"text","css":{"color":"#ggg"}}]}`
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string // in the error
	}{
		{"bad palette", map[string]string{"good.json": string(testPalette("x")), "broken.json": bad},
			[]string{"broken.json", "views[1]"}},
		{"bad name", map[string]string{"Bad Name.json": string(testPalette("x"))}, []string{"Bad Name.json", "must be"}},
		{"reserved name", map[string]string{"default.json": string(testPalette("x"))}, []string{"default.json", "reserved"}},
		{"two bad files", map[string]string{"a.json": bad, "b.json": `{`}, []string{"a.json", "b.json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, _ := newTestStore(t)
			ctx := context.Background()
			_, err := s.LoadDir(ctx, writeFiles(t, tc.files))
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			if tc.name == "bad palette" {
				var pe *palette.Error
				if !errors.As(err, &pe) {
					t.Errorf("error %v does not wrap a PaletteError", err)
				}
			}
			// One bad file stores nothing.
			if l, _ := s.List(ctx); len(l) != 0 {
				t.Errorf("stored %v despite the error", names(l))
			}
		})
	}
	s, _, _ := newTestStore(t)
	if _, err := s.LoadDir(context.Background(), filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing directory must be an error")
	}
}
