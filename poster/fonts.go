package poster

import (
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
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

// loadFont reads and parses path and returns its "Noto Sans CJK SC" face (or
// the only face of a single-font file). The whole file stays in memory: the
// parsed font reads glyph outlines from it for every glyph drawn.
func loadFont(path string, log *slog.Logger) (*sfnt.Font, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("poster: read font: %w", err)
	}
	coll, err := opentype.ParseCollection(data)
	if err != nil {
		return nil, fmt.Errorf("poster: parse font %s: %w", path, err)
	}
	n := coll.NumFonts()
	if n == 1 {
		f, err := coll.Font(0)
		if err != nil {
			return nil, fmt.Errorf("poster: parse font %s: %w", path, err)
		}
		return f, nil
	}
	var buf sfnt.Buffer
	var seen []string
	for i := range n {
		f, err := coll.Font(i)
		if err != nil {
			return nil, fmt.Errorf("poster: parse font %s face %d: %w", path, i, err)
		}
		name := familyName(f, &buf)
		if name == faceName {
			return f, nil
		}
		seen = append(seen, name)
	}
	if n > faceIndexSC {
		log.Warn("poster: no face named "+faceName+" in font collection; using face index 2",
			"path", path, "faces", strings.Join(seen, ", "))
		f, err := coll.Font(faceIndexSC)
		if err != nil {
			return nil, fmt.Errorf("poster: parse font %s face %d: %w", path, faceIndexSC, err)
		}
		return f, nil
	}
	return nil, fmt.Errorf("poster: font collection %s has no face named %q (faces: %s)",
		path, faceName, strings.Join(seen, ", "))
}

// familyName prefers the typographic family (name ID 16), which stays
// "Noto Sans CJK SC" for every weight, over the legacy family name (ID 1).
func familyName(f *sfnt.Font, buf *sfnt.Buffer) string {
	if s, err := f.Name(buf, sfnt.NameIDTypographicFamily); err == nil && s != "" {
		return s
	}
	s, _ := f.Name(buf, sfnt.NameIDFamily)
	return s
}

// fonts holds the parsed fonts shared by all renders; *sfnt.Font is safe for
// concurrent use as long as each caller brings its own sfnt.Buffer, which
// opentype.Face does.
type fonts struct {
	regular *sfnt.Font
	bold    *sfnt.Font
}

// loadFonts resolves and parses the regular and bold fonts. The bold weight
// falls back to the regular one (with a warning) because a nickname in regular
// weight is better than no poster.
func loadFonts(o *options) (*fonts, error) {
	var regCands, boldCands []string
	if o.regularFont != "" {
		regCands = []string{o.regularFont}
	} else {
		regCands = fontCandidates("Regular")
	}
	if o.boldFont != "" {
		boldCands = []string{o.boldFont}
	} else {
		boldCands = fontCandidates("Bold")
	}

	regPath, ok := findFont(regCands)
	if !ok {
		return nil, fmt.Errorf("poster: %w: looked for %s; install the Debian package fonts-noto-cjk (apt-get install fonts-noto-cjk) or set %s",
			errFontNotFound, strings.Join(regCands, ", "), FontDirEnv)
	}
	reg, err := loadFont(regPath, o.logger)
	if err != nil {
		return nil, err
	}
	set := &fonts{regular: reg, bold: reg}

	boldPath, ok := findFont(boldCands)
	if !ok {
		o.logger.Warn("poster: bold CJK font not found; using the regular weight for bold text",
			"looked_for", strings.Join(boldCands, ", "))
		o.logger.Info("poster: fonts loaded", "regular", regPath)
		return set, nil
	}
	if set.bold, err = loadFont(boldPath, o.logger); err != nil {
		return nil, err
	}
	o.logger.Info("poster: fonts loaded", "regular", regPath, "bold", boldPath)
	return set, nil
}

var errFontNotFound = fmt.Errorf("CJK font %w", fs.ErrNotExist)

// newFace makes a face of f at size px. Faces are cheap (no parsing happens)
// but hold a scratch buffer, so each is used by one goroutine at a time.
func newFace(f *sfnt.Font, px float64) font.Face {
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		// opentype.NewFace never fails today; a failure here is a programming error.
		panic(fmt.Sprintf("poster: opentype.NewFace: %v", err))
	}
	return face
}
