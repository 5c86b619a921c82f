package palette

import (
	"image/color"
	"testing"

	"golang.org/x/image/colornames"
)

func TestParseColor(t *testing.T) {
	tests := []struct {
		in   string
		want color.NRGBA
	}{
		{"#f00", color.NRGBA{0xff, 0, 0, 0xff}},
		{"#F0A8", color.NRGBA{0xff, 0, 0xaa, 0x88}},
		{"#07c160", color.NRGBA{0x07, 0xc1, 0x60, 0xff}},
		{"#07C16080", color.NRGBA{0x07, 0xc1, 0x60, 0x80}},
		{"rgb(255, 0, 0)", color.NRGBA{0xff, 0, 0, 0xff}},
		{"rgb(255 128 0)", color.NRGBA{0xff, 0x80, 0, 0xff}},
		{"rgb(300, -5, 0)", color.NRGBA{0xff, 0, 0, 0xff}}, // clamped
		{"rgba(0,0,0,0.5)", color.NRGBA{0, 0, 0, 0x80}},
		{"rgba(0, 0, 0, 50%)", color.NRGBA{0, 0, 0, 0x80}},
		{"rgb(0 0 0 / 25%)", color.NRGBA{0, 0, 0, 0x40}},
		{"rgb(100%, 50%, 0%)", color.NRGBA{0xff, 0x80, 0, 0xff}},
		{"RGBA(255,255,255,1)", color.NRGBA{0xff, 0xff, 0xff, 0xff}},
		{"hsl(0, 100%, 50%)", color.NRGBA{0xff, 0, 0, 0xff}},
		{"hsl(120deg 100% 25%)", color.NRGBA{0, 0x80, 0, 0xff}},
		{"hsl(0.5turn, 100%, 50%)", color.NRGBA{0, 0xff, 0xff, 0xff}},
		{"hsla(240, 100%, 50%, 0.5)", color.NRGBA{0, 0, 0xff, 0x80}},
		{"hsl(-120, 100%, 50%)", color.NRGBA{0, 0, 0xff, 0xff}},
		{"white", color.NRGBA{0xff, 0xff, 0xff, 0xff}},
		{"RebeccaPurple", color.NRGBA{0x66, 0x33, 0x99, 0xff}},
		{"lightgoldenrodyellow", color.NRGBA{0xfa, 0xfa, 0xd2, 0xff}},
		{"transparent", color.NRGBA{}},
		{"  #fff  ", color.NRGBA{0xff, 0xff, 0xff, 0xff}},
	}
	for _, tt := range tests {
		got, err := parseColor(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("parseColor(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "#ff", "#fffff", "#ggg", "rgb(1,2)", "rgb(1,2,3,4,5)", "rgb(a,b,c)",
		"hsl(10px, 1%, 1%)", "nocolor", "rgb(1,,3)", "rgb(1e999,0,0)", "url(x)", "#"} {
		if c, err := parseColor(bad); err == nil {
			t.Errorf("parseColor(%q) = %v, want an error", bad, c)
		}
	}
}

func TestNamedColorsCount(t *testing.T) {
	n := 0
	for _, name := range append([]string{"rebeccapurple"}, namesOfSVG()...) {
		if _, ok := namedColor(name); ok {
			n++
		}
	}
	if n != 148 {
		t.Errorf("%d named colours, want CSS's 148", n)
	}
}

func namesOfSVG() []string {
	var out []string
	for k := range colornames.Map {
		out = append(out, k)
	}
	return out
}
