package text

import (
	"image"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// gridUnits makes one unit per rune: CJK characters (and "…") 10 px wide,
// everything else 5 px, so that expected lines can be worked out by hand.
func gridUnits(s string) []unit {
	var us []unit
	for _, r := range s {
		w := 5.0
		if isWide(r) {
			w = 10
		}
		us = append(us, unit{first: r, last: r, space: unicode.IsSpace(r), w: w})
	}
	return us
}

// wrapGrid breaks text with the grid widths and returns the lines as text.
func wrapGrid(text string, width float64, maxLines int) []string {
	paras := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var units [][]unit
	var runes [][]rune
	for _, p := range paras {
		units = append(units, gridUnits(p))
		runes = append(runes, []rune(p))
	}
	lines := breakParagraphs(units, width, maxLines, func(lineSpan) float64 { return 10 })
	var out []string
	for _, l := range lines {
		s := string(runes[l.para][l.a:l.b])
		if l.ellipsis {
			s += string(ellipsis)
		}
		out = append(out, s)
	}
	return out
}

func TestBreakParagraphs(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		width    float64
		maxLines int
		want     []string
	}{
		{"short", "你好", 100, 2, []string{"你好"}},
		{"pure CJK", "一二三四五六七八九十甲乙丙", 100, 2,
			[]string{"一二三四五六七八九十", "甲乙丙"}},
		{"Latin words stay whole", "iPhone 15 Pro 限时特惠", 60, 3,
			[]string{"iPhone 15", "Pro 限时特惠"}},
		{"Latin word next to CJK fits", "新款iPhone限时特惠", 50, 3,
			[]string{"新款iPhone", "限时特惠"}},
		{"Latin word next to CJK moves whole", "新款iPhone限时特惠", 45, 3,
			[]string{"新款", "iPhone限", "时特惠"}},
		{"English words are not split", "the quick brown fox jumps", 50, 0,
			[]string{"the quick", "brown fox", "jumps"}},
		{"hyphenated word breaks after the hyphen", "well-known facts", 40, 0,
			[]string{"well-", "known", "facts"}},
		{"digit run stays whole", "价格199元", 30, 2,
			[]string{"价格", "199元"}},
		{"break after digit run", "价格199元", 40, 2,
			[]string{"价格199", "元"}},
		{"closing punctuation never starts a line", "一二三四五六七八九十，好", 100, 2,
			[]string{"一二三四五六七八九", "十，好"}},
		{"ASCII closing punctuation", "一二三四五六七八九十!好", 100, 2,
			[]string{"一二三四五六七八九", "十!好"}},
		{"closing quote and full stop", "一二三四五六七八九「十」。", 100, 2,
			[]string{"一二三四五六七八九", "「十」。"}},
		{"opening punctuation never ends a line", "一二三四五六七八九《十》", 100, 2,
			[]string{"一二三四五六七八九", "《十》"}},
		{"ASCII opening bracket", "一二三四五六七八九(十)", 100, 2,
			[]string{"一二三四五六七八九", "(十)"}},
		{"exact fit has no ellipsis", "一二三四五六七八九十甲乙丙丁戊己庚辛壬癸", 100, 2,
			[]string{"一二三四五六七八九十", "甲乙丙丁戊己庚辛壬癸"}},
		{"overflow ends line 2 with ellipsis", "一二三四五六七八九十甲乙丙丁戊己庚辛壬癸子", 100, 2,
			[]string{"一二三四五六七八九十", "甲乙丙丁戊己庚辛壬…"}},
		{"no maxLines, no ellipsis", "一二三四五六七八九十甲乙丙丁戊己庚辛壬癸子", 100, 0,
			[]string{"一二三四五六七八九十", "甲乙丙丁戊己庚辛壬癸", "子"}},
		{"ellipsis never follows opening punctuation", "一二三四五六七八九十甲乙丙丁戊己庚辛（壬）癸", 100, 2,
			[]string{"一二三四五六七八九十", "甲乙丙丁戊己庚辛…"}},
		{"hard break", "第一行\n第二行", 100, 2,
			[]string{"第一行", "第二行"}},
		{"CRLF hard break", "第一行\r\n第二行", 100, 2,
			[]string{"第一行", "第二行"}},
		{"hard break overflow", "甲\n乙\n丙", 100, 2,
			[]string{"甲", "乙…"}},
		{"blank lines count", "甲\n\n乙", 100, 0,
			[]string{"甲", "", "乙"}},
		{"hard break then wrap", "标题\n一二三四五六七八九十甲", 100, 2,
			[]string{"标题", "一二三四五六七八九…"}},
		{"space trimmed at the break", "hello world foo", 50, 2,
			[]string{"hello", "world foo"}},
		{"ellipsis keeps inner spaces", "hello world foo bar", 50, 1,
			[]string{"hello wo…"}},
		{"overlong word is split", "abcdefghijklmnopqrstuvwxyz", 50, 2,
			[]string{"abcdefghij", "klmnopqr…"}},
		{"one line", "一二三四五六七八九十甲", 100, 1,
			[]string{"一二三四五六七八九…"}},
		{"no width: lines only at breaks", "一二三四五六七八九十甲乙丙\n丁", 0, 0,
			[]string{"一二三四五六七八九十甲乙丙", "丁"}},
		{"no width, cut by maxLines", "甲\n乙\n丙", 0, 2,
			[]string{"甲", "乙…"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wrapGrid(tt.text, tt.width, tt.maxLines)
			if !slices.Equal(got, tt.want) {
				t.Errorf("wrap(%q, %v, %d) = %q, want %q", tt.text, tt.width, tt.maxLines, got, tt.want)
			}
			if tt.width <= 0 {
				return
			}
			for i, l := range got {
				if w := spanWidth(gridUnits(l), 0, len([]rune(l))); w > tt.width {
					t.Errorf("line %d %q is %v wide, max %v", i, l, w, tt.width)
				}
			}
		})
	}
}

func TestBreakStopsEarly(t *testing.T) {
	// A huge title must not cost more than the lines it can show.
	us := gridUnits(strings.Repeat("很长的标题", 200_000))
	lines := breakUnits(us, 0, 100, nil, 2)
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3 (one more than the limit)", len(lines))
	}
}

func TestCanBreak(t *testing.T) {
	tests := []struct {
		a, b rune
		want bool
	}{
		{'中', '文', true},
		{'a', 'b', false},
		{'1', '2', false},
		{'a', '中', true},
		{'中', '1', true},
		{' ', 'a', true},
		{'a', ' ', false},
		{'中', '，', false},
		{'中', '…', false},
		{'中', ')', false},
		{'《', '中', false},
		{'“', '中', false},
		{'—', '—', false},
		{'n', '’', false},
		{'’', 't', false},
		{'”', '中', true},
		{'，', '中', true},
		{'-', 'k', true},
		{'-', '5', false},
		{'😀', '😀', true},
		{'a', '😀', true},
		{'😀', '！', false},
	}
	for _, tt := range tests {
		if got := canBreak(tt.a, tt.b); got != tt.want {
			t.Errorf("canBreak(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestClusterEnd(t *testing.T) {
	tests := []struct {
		s    string
		want []string
	}{
		{"小明", []string{"小", "明"}},
		{"👨‍👩‍👧x", []string{"👨‍👩‍👧", "x"}},
		{"👍🏻🇨🇳🇯🇵", []string{"👍🏻", "🇨🇳", "🇯🇵"}},
		{"❤️1️⃣", []string{"❤️", "1️⃣"}},
		{"é", []string{"é"}},
	}
	for _, tt := range tests {
		rs := []rune(tt.s)
		var got []string
		for i := 0; i < len(rs); {
			j := clusterEnd(rs, i)
			got = append(got, string(rs[i:j]))
			i = j
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("clusters of %q = %q, want %q", tt.s, got, tt.want)
		}
	}
}

// testTitle is a product title longer than two lines of a poster.
const testTitle = "【限时特惠】新疆阿克苏冰糖心苹果5斤装，当季现摘脆甜多汁，产地直发，坏果包赔！"

func iabs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// layoutLines lays text out with the real fonts, one style, size px.
func layoutLines(t *testing.T, text string, size, maxW float64, maxLines int) *Layout {
	t.Helper()
	return NewFaces(testFonts(t)).Layout([]Span{{text, Style{Size: size}}}, maxW, maxLines)
}

func TestLayoutRealFont(t *testing.T) {
	const size, maxW = 40, 654
	lay := layoutLines(t, testTitle, size, maxW, 2)
	if len(lay.Lines) != 2 || !lay.truncated {
		t.Fatalf("testTitle: %d lines, truncated %v; want 2, true", len(lay.Lines), lay.truncated)
	}
	for i, l := range lay.Lines {
		if l.Width > maxW {
			t.Errorf("line %d is %.1f px wide, max %d", i, l.Width, maxW)
		}
	}
	// The same text without a line limit is not cut.
	if lay := layoutLines(t, testTitle, size, maxW, 0); lay.truncated || len(lay.Lines) < 3 {
		t.Errorf("unlimited: %d lines, truncated %v", len(lay.Lines), lay.truncated)
	}
	// A text exactly as wide as the box fits on one line, no ellipsis.
	one := layoutLines(t, "周末一起去爬山", size, 0, 0)
	exact := layoutLines(t, "周末一起去爬山", size, one.Width(), 1)
	if len(exact.Lines) != 1 || exact.truncated {
		t.Errorf("exact fit: %d lines, truncated %v", len(exact.Lines), exact.truncated)
	}
	// Ideographs are 1 em wide in Noto Sans CJK.
	if w := one.Width(); w != 7*size {
		t.Errorf("7 ideographs at %d px are %.2f px wide, want %d", size, w, 7*size)
	}
}

func TestLayoutEmojiAndFallback(t *testing.T) {
	tests := []struct {
		text       string
		wantGlyphs int
		wantEmoji  int
	}{
		{"小明😀", 3, 1},
		{"🌸小红🌸", 4, 2},
		{"👨‍👩‍👧", 1, 1}, // one ZWJ sequence glyph
		{"🇨🇳", 1, 1},
		{"👍🏻", 1, 1},
		{"❤️", 1, 1},
		{"★星", 2, 0},         // ★ is in the CJK font: text, not emoji
		{"a\x00\x1bb", 2, 0}, // control characters dropped
		{"\U0010FFFD", 0, 0}, // private use: nobody has it, nothing drawn
	}
	for _, tt := range tests {
		lay := layoutLines(t, tt.text, 32, 0, 0)
		glyphs, emoji := 0, 0
		for _, l := range lay.Lines {
			for _, g := range l.Glyphs {
				glyphs++
				if g.Font == fontEmoji {
					emoji++
				}
				if g.GID == 0 {
					t.Errorf("%q: .notdef glyph laid out", tt.text)
				}
			}
		}
		if glyphs != tt.wantGlyphs || emoji != tt.wantEmoji {
			t.Errorf("%q: %d glyphs, %d emoji; want %d, %d", tt.text, glyphs, emoji, tt.wantGlyphs, tt.wantEmoji)
		}
	}
}

func TestLayoutCapsRunes(t *testing.T) {
	lay := layoutLines(t, strings.Repeat("长", 3*maxTextRunes), 10, 0, 0)
	if n := lay.GlyphCount(); n != maxTextRunes {
		t.Errorf("%d glyphs laid out, want the cap of %d", n, maxTextRunes)
	}
}

func TestMorph(t *testing.T) {
	m := image.NewAlpha(image.Rect(0, 0, 9, 7))
	m.Pix[3*m.Stride+4] = 200 // one pixel in the middle
	m.Pix[0] = 50
	for _, r := range []int{1, 2} {
		d := morph(m, r, true)
		for y := range 7 {
			for x := range 9 {
				want := uint8(0)
				if iabs(x-4) <= r && iabs(y-3) <= r {
					want = 200
				} else if x <= r && y <= r {
					want = 50
				}
				if got := d.Pix[y*d.Stride+x]; got != want {
					t.Fatalf("dilate r=%d (%d,%d) = %d, want %d", r, x, y, got, want)
				}
			}
		}
		if e := morph(d, r, false); e.Pix[3*e.Stride+4] != 200 || e.Pix[3*e.Stride+4+r+1] != 0 {
			t.Errorf("erode r=%d of the dilated square does not give the point back", r)
		}
	}
}

// A paragraph keeps its leading spaces (an indent, U+3000 included); a soft
// wrap drops the spaces it breaks at.
func TestLayoutKeepsIndent(t *testing.T) {
	plain := layoutLines(t, "首行缩进", 20, 0, 0)
	for _, indent := range []string{"\u3000\u3000", "  "} {
		lay := layoutLines(t, indent+"首行缩进", 20, 0, 0)
		if len(lay.Lines) != 1 || len(lay.Lines[0].Glyphs) == 0 {
			t.Fatalf("%q: %d lines", indent, len(lay.Lines))
		}
		first := lay.Lines[0].Glyphs[len(lay.Lines[0].Glyphs)-len(plain.Lines[0].Glyphs)]
		if first.X < 5 {
			t.Errorf("%q: the text starts at x=%.1f: indent dropped", indent, first.X)
		}
	}
	lay := layoutLines(t, "一二三四 五六七八", 20, 80, 0)
	if len(lay.Lines) != 2 {
		t.Fatalf("%d lines, want 2", len(lay.Lines))
	}
	if x := lay.Lines[1].Glyphs[0].X; x > 1 {
		t.Errorf("soft-wrapped line starts at x=%.1f: its space was kept", x)
	}
}
