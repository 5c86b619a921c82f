package palette

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

// warningPaths lists the paths of p's warnings.
func warningPaths(p *Palette) []string {
	var out []string
	for _, w := range p.Warnings() {
		out = append(out, w.Path)
	}
	return out
}

func TestPainterCompatIsTheDefault(t *testing.T) {
	p, err := Parse([]byte(`{"width":"100rpx","height":"100rpx"}`))
	if err != nil || p.Compat() != CompatPainter {
		t.Fatalf("Parse = %v, %v; want CompatPainter", p, err)
	}
	p, err = Parse([]byte(`{"compat":"css","width":"100rpx","height":"100rpx"}`))
	if err != nil || p.Compat() != CompatCSS {
		t.Fatalf("compat css: %v, %v", p, err)
	}
	if _, err := Parse([]byte(`{"compat":"strict","width":"100rpx","height":"100rpx"}`)); err == nil {
		t.Fatal("compat strict accepted")
	}
}

// An editor export writes every unset field as "" (and `${undefined}` as
// "undefined"); Painter's JavaScript takes "" as unset, and so does Parse.
func TestEditorExportParses(t *testing.T) {
	data, err := os.ReadFile("../testdata/palettes/painter-editor-export.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(data)
	if err != nil {
		t.Fatalf("editor export refused: %v", err)
	}
	got := warningPaths(p)
	for _, want := range []string{
		"views[0].css.borderColor",   // "null": unset
		"views[3]",                   // a plain qrcode
		"views[4].css.letterSpacing", // Painter does not read it (nor maxWidth)
	} {
		if !slices.Contains(got, want) {
			t.Errorf("no warning on %s; warnings: %q", want, got)
		}
	}
	if slices.Contains(got, "views[4].css.minWidth") {
		t.Error("minWidth (Painter's editor field) got a warning")
	}
	if v := p.Views()[1]; v.CSS.MaxLines != 4 || v.CSS.Width.e == nil || v.CSS.Background.IsSet() || v.CSS.BorderWidth.Set() {
		t.Errorf("text view css = %+v", v.CSS)
	}
}

func TestPainterIgnoresWithWarnings(t *testing.T) {
	js := `{"width":"100rpx","height":"100rpx","overflowHidden":true,"views":[
		{"type":"text","text":"a","rect":{"left":1},"css":{"letterSpacing":"2rpx","maxWidth":"10rpx","fontFamily":"PingFang SC"}},
		{"type":"rect","css":{"width":"10rpx"}},
		{"type":"circle"},
		{"text":"no type"},
		{"type":"image","url":"/images/a.png"},
		{"type":"image","url":"cloud://env-1.abc/a.png"},
		{"type":"image","url":"https://cdn.example.com/a.png"}]}`
	p, err := Parse([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	got := warningPaths(p)
	for _, want := range []string{"palette.overflowHidden", "views[0].css.letterSpacing", "views[0].css.maxWidth",
		"views[0].css.fontFamily", "views[1].css", "views[2].type", "views[3]", "views[4].url", "views[5].url"} {
		if !slices.Contains(got, want) {
			t.Errorf("no warning on %s; warnings: %q", want, got)
		}
	}
	if slices.Contains(got, "views[0].rect") || slices.Contains(got, "views[6].url") {
		t.Errorf("unexpected warnings: %q", got)
	}
	// The rect without a height, the unknown type and the typeless view are left out.
	if n := len(p.Views()); n != 4 {
		t.Errorf("%d views kept, want 4", n)
	}
}

func TestCSSCompatIsStrict(t *testing.T) {
	js := `{"compat":"css","width":"100rpx","height":"100rpx","overflowHidden":true,"views":[
		{"type":"text","text":"a","css":{"letterSpacing":"2rpx"}},
		{"type":"circle"}]}`
	_, err := Parse([]byte(js))
	var es Errors
	if !errors.As(err, &es) || len(es) != 3 {
		t.Fatalf("err = %v, want 3 problems", err)
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	js := `{"width":"wide","height":"100rpx","background":"#12","views":[
		{"type":"text","text":"a","css":{"fontSize":"huge","color":"#ggg","align":"middle"}},
		{"type":"rect","css":{"width":"10rpx","height":"10rpx","shadow":"1px 1px 1px 1px red"}},
		{"type":"text","css":{"left":"calc(nope.right)"}}]}`
	_, err := Parse([]byte(js))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("err = %v, want Errors", err)
	}
	var paths []string
	for _, e := range es {
		paths = append(paths, e.Path)
	}
	want := []string{"width", "background", "views[0].css.fontSize", "views[0].css.align", "views[0].css.color",
		"views[1].css.shadow", "views[2].css.left"}
	for _, w := range want {
		if !slices.Contains(paths, w) {
			t.Errorf("no error on %s; got %q", w, paths)
		}
	}
	var first *Error
	if !errors.As(err, &first) || first.Path != "width" {
		t.Errorf("errors.As finds %v first, want width", first)
	}
	if !strings.Contains(err.Error(), "more problems") {
		t.Errorf("Error() = %q", err)
	}
}

func TestPainterGradientAngles(t *testing.T) {
	for _, tt := range []struct {
		compat string
		in     string
		angle  float64
	}{
		{"", "linear-gradient(90deg, red 0%, blue 100%)", 270},
		{"", "linear-gradient(0deg, red 0%, blue 100%)", 180},
		{"", "linear-gradient(-90deg, red 0%, blue 100%)", 90},
		{"css", "linear-gradient(90deg, red 0%, blue 100%)", 90},
	} {
		js := `{"width":"10rpx","height":"10rpx","background":"` + tt.in + `"`
		if tt.compat != "" {
			js += `,"compat":"` + tt.compat + `"`
		}
		p, err := Parse([]byte(js + "}"))
		if err != nil {
			t.Fatal(err)
		}
		if g := p.Background().Paint.Grad; g.Angle != tt.angle {
			t.Errorf("%s %s: angle %v, want %v (CSS degrees)", tt.compat, tt.in, g.Angle, tt.angle)
		}
	}
	p, _ := Parse([]byte(`{"width":"10rpx","height":"10rpx","background":"radial-gradient(red 0%, blue 100%)"}`))
	if !p.Background().Paint.Grad.Painter {
		t.Error("radial gradient without a shape is not Painter's circle")
	}
}
