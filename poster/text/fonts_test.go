package text

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-text/typesetting/font"
)

var (
	testFontsOnce sync.Once
	testFontSet   *Fonts
	testFontsErr  error
)

// testFonts loads the system fonts once for all tests.
func testFonts(tb testing.TB) *Fonts {
	tb.Helper()
	testFontsOnce.Do(func() { testFontSet, testFontsErr = LoadFonts(FontFiles{}, slog.New(slog.DiscardHandler)) })
	if testFontsErr != nil {
		tb.Fatalf("LoadFonts: %v", testFontsErr)
	}
	return testFontSet
}

func TestFontsAreNotoSansCJKSC(t *testing.T) {
	fonts := testFonts(t)
	for name, f := range map[string]*font.Font{"regular": fonts.regular, "bold": fonts.bold} {
		if got := familyName(f); got != faceName {
			t.Errorf("%s face is %q, want %q", name, got, faceName)
		}
	}
	if fonts.regular == fonts.bold {
		t.Error("bold is the regular font: Bold TTC not loaded")
	}
	if fonts.emoji == nil {
		t.Fatal("no emoji font: install fonts-noto-color-emoji")
	}
	if got := familyName(fonts.emoji); got != "Noto Color Emoji" {
		t.Errorf("emoji font is %q", got)
	}
}

func TestNewFontNotFound(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(FontDirEnv, dir)
	missing := filepath.Join(dir, "nope.ttc")
	_, err := LoadFonts(FontFiles{Regular: missing}, slog.New(slog.DiscardHandler))
	if err == nil {
		t.Fatal("LoadFonts succeeded without a font")
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v is not fs.ErrNotExist", err)
	}
	for _, want := range []string{missing, "apt-get install fonts-noto-cjk", FontDirEnv} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestFontCandidates(t *testing.T) {
	t.Setenv(FontDirEnv, "/opt/fonts")
	got := fontCandidates("Bold")
	want := []string{
		"/opt/fonts/NotoSansCJK-Bold.ttc",
		"/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
		"/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
	}
	if got[0] != want[0] {
		t.Errorf("first candidate = %s, want %s ($%s first)", got[0], want[0], FontDirEnv)
	}
	for _, w := range want {
		if !strings.Contains(strings.Join(got, "\n"), w) {
			t.Errorf("candidates %q lack %s", got, w)
		}
	}
}

func TestLoadFontRejectsNonFont(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.ttc")
	if err := os.WriteFile(p, []byte("not a font at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadFont(p, slog.Default()); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("loadFont(garbage) = %v, want an error naming the file", err)
	}
}
