package poster

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/image/math/fixed"
)

// gridMeasurer gives CJK characters 10 px and everything else 5 px, so that
// expected lines can be worked out by hand.
type gridMeasurer struct{}

func (gridMeasurer) advance(r rune) fixed.Int26_6 {
	if isWide(r) {
		return fixed.I(10)
	}
	return fixed.I(5)
}

func (gridMeasurer) kern(a, b rune) fixed.Int26_6 { return 0 }

func TestWrap(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		width    int
		maxLines int
		want     []string
	}{
		{"empty", "", 100, 2, nil},
		{"blank", " \n \t ", 100, 2, nil},
		{"short", "你好", 100, 2, []string{"你好"}},
		{"pure CJK", "一二三四五六七八九十甲乙丙", 100, 2,
			[]string{"一二三四五六七八九十", "甲乙丙"}},
		{"Latin words stay whole", "iPhone 15 Pro 限时特惠", 60, 3,
			[]string{"iPhone 15", "Pro 限时特惠"}},
		{"Latin word next to CJK fits", "新款iPhone限时特惠", 50, 3,
			[]string{"新款iPhone", "限时特惠"}},
		{"Latin word next to CJK moves whole", "新款iPhone限时特惠", 45, 3,
			[]string{"新款", "iPhone限", "时特惠"}},
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
		{"ellipsis never follows opening punctuation", "一二三四五六七八九十甲乙丙丁戊己庚辛（壬）癸", 100, 2,
			[]string{"一二三四五六七八九十", "甲乙丙丁戊己庚辛…"}},
		{"hard break", "第一行\n第二行", 100, 2,
			[]string{"第一行", "第二行"}},
		{"CRLF hard break", "第一行\r\n第二行", 100, 2,
			[]string{"第一行", "第二行"}},
		{"hard break overflow", "甲\n乙\n丙", 100, 2,
			[]string{"甲", "乙…"}},
		{"blank lines dropped", "甲\n\n\n乙", 100, 2,
			[]string{"甲", "乙"}},
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
		{"no lines", "一二三", 100, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wrap(gridMeasurer{}, tt.text, fixed.I(tt.width), tt.maxLines)
			if !slices.Equal(got, tt.want) {
				t.Errorf("wrap(%q, %d, %d) = %q, want %q", tt.text, tt.width, tt.maxLines, got, tt.want)
			}
			for i, l := range got {
				if w := measure(gridMeasurer{}, []rune(l)); w > fixed.I(tt.width) {
					t.Errorf("line %d %q is %v wide, max %d", i, l, w, tt.width)
				}
			}
		})
	}
}

func TestWrapLongInputStops(t *testing.T) {
	// A huge title must not cost more than the lines it can show.
	text := strings.Repeat("很长的标题", 200_000)
	got := wrap(gridMeasurer{}, text, fixed.I(100), 2)
	want := []string{"很长的标题很长的标题", "很长的标题很长的标…"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		text  string
		width int
		want  string
	}{
		{"小明", 100, "小明"},
		{"一二三四五六七八九十", 100, "一二三四五六七八九十"},
		{"一二三四五六七八九十甲", 100, "一二三四五六七八九…"},
		{"abc def", 20, "ab…"}, // "…" is 10 wide here,
		{"", 100, ""},
	}
	for _, tt := range tests {
		if got := truncate(gridMeasurer{}, tt.text, fixed.I(tt.width)); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.text, tt.width, got, tt.want)
		}
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
	}
	for _, tt := range tests {
		if got := canBreak(tt.a, tt.b); got != tt.want {
			t.Errorf("canBreak(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestWrapRealFont(t *testing.T) {
	r := newTestRenderer(t)
	fc := r.getFaces()
	defer r.putFaces(fc)
	face := fc.face(false, titlePx)
	m := faceMeasurer{face}
	maxW := fixed.I(cardW - 2*cardPad)

	lines := wrap(m, longTitle, maxW, 2)
	if len(lines) != 2 || !strings.HasSuffix(lines[1], "…") {
		t.Fatalf("wrap(longTitle) = %q, want 2 lines ending in …", lines)
	}
	for _, l := range lines {
		if w := measure(m, []rune(l)); w > maxW {
			t.Errorf("line %q is %v wide, max %v", l, w, maxW)
		}
	}
	// What fits in two lines is left alone.
	short := wrap(m, lines[0], maxW, 2)
	if !slices.Equal(short, lines[:1]) {
		t.Errorf("re-wrapping a full line gave %q, want %q", short, lines[:1])
	}
}

func TestSanitize(t *testing.T) {
	r := newTestRenderer(t)
	fc := r.getFaces()
	defer r.putFaces(fc)
	face := fc.face(true, nickPx)
	tests := []struct {
		in       string
		keepNL   bool
		want     string
		describe string
	}{
		{"小明😀", false, "小明", "emoji has no glyph: skipped, no .notdef box"},
		{"🌸小红🌸", false, "小红", "leading emoji"},
		{"a\tb", false, "a b", "tab"},
		{"第一行\n第二行", false, "第一行 第二行", "newline in a one-line field"},
		{"第一行\r\n第二行", true, "第一行\n第二行", "newline kept"},
		{"x\x00\x1by", false, "xy", "control characters"},
		{"a\rb\r\n\r\nc", true, "a\nb\n\nc", "CR and CRLF"},
		{"小明❤️👍🏻👨‍👩‍👧🇨🇳", false, "小明", "emoji sequences leave nothing behind"},
		{"  ★星星★  ", false, "★星星★", "trimmed; ★ is in the font"},
		{strings.Repeat("长", 5000), false, strings.Repeat("长", maxTextRunes), "capped"},
	}
	for _, tt := range tests {
		if got := sanitize(face, tt.in, tt.keepNL); got != tt.want {
			t.Errorf("%s: sanitize(%q) = %q, want %q", tt.describe, tt.in, got, tt.want)
		}
	}
}
