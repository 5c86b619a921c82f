package text

import (
	"bytes"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-text/typesetting/font"
	ot "github.com/go-text/typesetting/font/opentype"
)

// FontDirEnv names the environment variable holding an extra directory that is
// searched (first) for the CJK fonts.
const FontDirEnv = "WXPOSTER_FONT_DIR"

// faceName is the face picked out of a Noto Sans CJK collection: the TTC holds
// JP, KR, SC, TC and HK faces, and only SC has the Simplified Chinese glyph forms.
const faceName = "Noto Sans CJK SC"

// faceIndexSC is where Debian's NotoSansCJK-*.ttc keeps the SC face; it is only
// a fallback for a collection whose name table cannot be read.
const faceIndexSC = 2

// fontDirs are the standard places of the fonts: Debian/Ubuntu (fonts-noto-cjk)
// first, then Arch/Fedora-style packaging.
var fontDirs = []string{
	"/usr/share/fonts/opentype/noto",
	"/usr/share/fonts/noto-cjk",
}

// fontFileNames are the file names tried in each directory, per weight: the
// distro TTC collection, then the single-face SC OTFs of the upstream releases.
func fontFileNames(weight string) []string {
	return []string{
		"NotoSansCJK-" + weight + ".ttc",
		"NotoSansCJKsc-" + weight + ".otf",
		"NotoSansSC-" + weight + ".otf",
	}
}

// fontCandidates lists every path tried for weight, in order.
func fontCandidates(weight string) []string {
	var dirs []string
	if d := os.Getenv(FontDirEnv); d != "" {
		dirs = append(dirs, d)
	}
	dirs = append(dirs, fontDirs...)
	var paths []string
	for _, d := range dirs {
		for _, n := range fontFileNames(weight) {
			paths = append(paths, filepath.Join(d, n))
		}
	}
	return paths
}

// findFont returns the first existing file among candidates.
func findFont(candidates []string) (string, bool) {
	for _, p := range candidates {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, true
		}
	}
	return "", false
}

// loadFont reads path and parses its "Noto Sans CJK SC" face (or the only
// face of a single-font file). Only that face's tables are parsed.
func loadFont(path string, log *slog.Logger) (*font.Font, error) {
	data, err := os.ReadFile(path) // garbage once parsed: go-text copies the tables it keeps
	if err != nil {
		return nil, fmt.Errorf("poster: read font: %w", err)
	}
	lds, err := ot.NewLoaders(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("poster: parse font %s: %w", path, err)
	}
	pick := func(i int) (*font.Font, error) {
		f, err := font.NewFont(lds[i])
		if err != nil {
			return nil, fmt.Errorf("poster: parse font %s face %d: %w", path, i, err)
		}
		return f, nil
	}
	if len(lds) == 1 {
		return pick(0)
	}
	var seen []string
	for i, ld := range lds {
		d, _ := font.Describe(ld, nil)
		if d.Family == faceName {
			return pick(i)
		}
		seen = append(seen, d.Family)
	}
	if len(lds) > faceIndexSC {
		log.Warn("poster: no face named "+faceName+" in font collection; using face index 2",
			"path", path, "faces", strings.Join(seen, ", "))
		return pick(faceIndexSC)
	}
	return nil, fmt.Errorf("poster: font collection %s has no face named %q (faces: %s)",
		path, faceName, strings.Join(seen, ", "))
}

// familyName is the family a face describes itself with: the typographic
// family (name ID 16) when there is one, which stays "Noto Sans CJK SC" for
// every weight.
func familyName(f *font.Font) string { return f.Describe().Family }

// emojiFontFile is the colour emoji font (Debian fonts-noto-color-emoji):
// CBDT bitmaps, drawn scaled to the text size.
const emojiFontFile = "NotoColorEmoji.ttf"

// emojiFontDirs are the standard places of the emoji font: Debian/Ubuntu,
// then Arch and Fedora.
var emojiFontDirs = []string{
	"/usr/share/fonts/truetype/noto",
	"/usr/share/fonts/noto",
	"/usr/share/fonts/google-noto-emoji",
	"/usr/share/fonts/google-noto-color-emoji-fonts",
}

func emojiFontCandidates() []string {
	var paths []string
	if d := os.Getenv(FontDirEnv); d != "" {
		paths = append(paths, filepath.Join(d, emojiFontFile))
	}
	for _, d := range emojiFontDirs {
		paths = append(paths, filepath.Join(d, emojiFontFile))
	}
	return paths
}

// Fonts holds the parsed fonts shared by all renders. A *font.Font is safe
// for concurrent use; the *font.Face views of it, which cache, are not, so
// each Faces makes its own.
type Fonts struct {
	regular *font.Font
	bold    *font.Font
	emoji   *font.Font // nil without an emoji font: emoji are then left out
}

// FontFiles overrides the font files (TTC, OTF or TTF); an empty path keeps
// the search for that font.
type FontFiles struct{ Regular, Bold, Emoji string }

// LoadFonts resolves and parses the regular, bold and emoji fonts. The bold
// weight falls back to the regular one and a missing emoji font drops emoji
// (both with a warning), because a poster with plain text is better than no
// poster.
func LoadFonts(files FontFiles, log *slog.Logger) (*Fonts, error) {
	var regCands, boldCands, emojiCands []string
	if files.Regular != "" {
		regCands = []string{files.Regular}
	} else {
		regCands = fontCandidates("Regular")
	}
	if files.Bold != "" {
		boldCands = []string{files.Bold}
	} else {
		boldCands = fontCandidates("Bold")
	}
	if files.Emoji != "" {
		emojiCands = []string{files.Emoji}
	} else {
		emojiCands = emojiFontCandidates()
	}

	regPath, ok := findFont(regCands)
	if !ok {
		return nil, fmt.Errorf("poster: %w: looked for %s; install the Debian package fonts-noto-cjk (apt-get install fonts-noto-cjk) or set %s",
			errFontNotFound, strings.Join(regCands, ", "), FontDirEnv)
	}
	reg, err := loadFont(regPath, log)
	if err != nil {
		return nil, err
	}
	set := &Fonts{regular: reg, bold: reg}
	attrs := []any{"regular", regPath}

	if boldPath, ok := findFont(boldCands); ok {
		if set.bold, err = loadFont(boldPath, log); err != nil {
			return nil, err
		}
		attrs = append(attrs, "bold", boldPath)
	} else {
		log.Warn("poster: bold CJK font not found; using the regular weight for bold text",
			"looked_for", strings.Join(boldCands, ", "))
	}
	if emojiPath, ok := findFont(emojiCands); ok {
		if set.emoji, err = loadFont(emojiPath, log); err != nil {
			return nil, err
		}
		attrs = append(attrs, "emoji", emojiPath)
	} else {
		log.Warn("poster: colour emoji font not found; emoji in text are left out (apt-get install fonts-noto-color-emoji)",
			"looked_for", strings.Join(emojiCands, ", "))
	}
	log.Info("poster: fonts loaded", attrs...)
	return set, nil
}

var errFontNotFound = fmt.Errorf("CJK font %w", fs.ErrNotExist)
