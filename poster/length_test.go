package poster

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/wxposter/wxposter/poster/palette"
)

// layoutBoxes lays out every view of a palette without painting and returns
// the boxes calc() sees, at the given output width (0: the default).
func layoutBoxes(t *testing.T, js string, width int) []palette.Rect {
	t.Helper()
	p, err := palette.Parse([]byte(js))
	if err != nil {
		t.Fatalf("palette.Parse: %v", err)
	}
	rects, err := layoutPalette(t, p, width)
	if err != nil {
		t.Fatalf("layout: %v", err)
	}
	return rects
}

func layoutPalette(t *testing.T, p *palette.Palette, width int) ([]palette.Rect, error) {
	r := newTestRenderer(t)
	sc := r.getScratch()
	defer r.putScratch(sc)
	size, k, err := p.OutputSize(width)
	if err != nil {
		return nil, err
	}
	rc := &renderCtx{r: r, fs: sc.faces, sc: sc, p: p, k: k, w: float64(size.X), h: float64(size.Y)}
	for _, v := range p.Views() {
		vd, err := rc.layoutView(v)
		if err != nil {
			return nil, err
		}
		rc.rects = append(rc.rects, palette.Rect{
			Left: vd.outer.x, Top: vd.outer.y, Right: vd.outer.x + vd.outer.w, Bottom: vd.outer.y + vd.outer.h,
			Width: vd.natural, Height: vd.box.h,
		})
	}
	return rc.rects, nil
}

// rectsPalette wraps views in a 750×1000rpx palette.
func rectsPalette(views ...string) string {
	return `{"width":"750rpx","height":"1000rpx","views":[` + strings.Join(views, ",") + `]}`
}

func rectView(id, css string) string {
	return fmt.Sprintf(`{"type":"rect","id":%q,"css":{%s}}`, id, css)
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestLengthUnits(t *testing.T) {
	tests := []struct {
		width string
		out   int // output width; 0: 750
		want  float64
	}{
		{`"100rpx"`, 0, 100},
		{`"50px"`, 0, 100}, // 1px = 2rpx
		{`50`, 0, 100},     // a number is px
		{`"50"`, 0, 100},   // so is a bare numeric string
		{`"10%"`, 0, 75},   // of the canvas width
		{`"0"`, 0, 0},
		{`"100.5rpx"`, 0, 100.5},
		{`"100rpx"`, 1500, 200},
		{`"50px"`, 375, 50},
		{`"10%"`, 1500, 150},
		{`"calc(100% - 2 * 25rpx)"`, 0, 700},
	}
	for _, tt := range tests {
		rects := layoutBoxes(t, rectsPalette(rectView("a", `"width":`+tt.width+`,"height":"10rpx"`)), tt.out)
		if got := rects[0].Width; !near(got, tt.want) {
			t.Errorf("width %s at %d px: %v, want %v", tt.width, tt.out, got, tt.want)
		}
	}
}

func TestCalc(t *testing.T) {
	// View a: left 100, top 200, 300×50 (rpx = px here).
	a := rectView("a", `"left":"100rpx","top":"200rpx","width":"300rpx","height":"50rpx"`)
	tests := []struct {
		expr string
		want float64
	}{
		{"calc(10rpx + 2 * 5rpx)", 20},       // * before +
		{"calc((10rpx + 2rpx) * 5)", 60},     // parentheses
		{"calc(100rpx - 20rpx - 30rpx)", 50}, // left-associative
		{"calc(120rpx / 2 / 3)", 20},         // left-associative
		{"calc(a.right + 10rpx)", 410},       // 100 + 300 + 10
		{"calc(a.left + a.width / 2)", 250},  // centre
		{"calc(a.bottom - a.top)", 50},       // height
		{"calc(a.height * 2 + a.top)", 300},  //
		{"calc(-a.left + 150rpx)", 50},       // unary minus
		{"calc(a.right - -10rpx)", 410},      // unary minus after -
		{"calc(50% - a.width / 2)", 225},     // % of the canvas width
		{"calc(a.right + 10)", 420},          // a bare number added to a length is px (1px = 2rpx)
		{"calc(2 * 3)", 12},                  // a number result is px
		{"calc(calc(1rpx + 1rpx) * 10)", 20}, // nested calc
		{"CALC( a.LEFT+10rpx )", 110},        // case and spacing
		{"calc(a.width*0.5)", 150},           //
		{"calc(10px + 10rpx)", 30},           // mixed units
		{"calc(1.5rpx * 4)", 6},
	}
	for _, tt := range tests {
		rects := layoutBoxes(t, rectsPalette(a, rectView("b", `"width":"`+tt.expr+`","height":"1rpx"`)), 0)
		if got := rects[1].Width; !near(got, tt.want) {
			t.Errorf("%s = %v, want %v", tt.expr, got, tt.want)
		}
	}
}

func TestCalcErrors(t *testing.T) {
	a := rectView("a", `"width":"10rpx","height":"10rpx"`)
	tests := []struct {
		expr, rule string
	}{
		{"calc(b.left)", `no earlier view has id "b"`},
		{"calc(a.middle)", "want a.left"},
		{"calc(10rpx * 10rpx)", "cannot multiply two lengths"},
		{"calc(10rpx / a.width)", "can only divide by a number"},
		{"calc(10rpx / 0)", "division by zero"},
		{"calc(10rpx / (2 - 2))", "division by zero"},
		{"calc(10rpx +)", "unexpected"},
		{"calc(10rpx", "missing )"},
		{"calc(10rpx))", "unexpected"},
		{"calc(10em)", "bad length"},
		{"calc(" + strings.Repeat("(", 40) + "1rpx" + strings.Repeat(")", 40) + ")", "nested more than"},
		{"calc(" + strings.Repeat("1rpx + ", 100) + "1rpx)", "more than 128 tokens"},
		{"calc(" + strings.Repeat("-", 40) + "1rpx)", "nested more than"},
		{"calc()", "unexpected"},
		{"calc(1e400rpx)", "bad"},
	}
	for _, tt := range tests {
		_, err := palette.Parse([]byte(rectsPalette(a, rectView("b", `"width":"`+tt.expr+`","height":"1rpx"`))))
		var pe *palette.Error
		if !errors.As(err, &pe) {
			t.Errorf("%s: error %v, want a *palette.Error", tt.expr, err)
			continue
		}
		if pe.Path != "views[1].css.width" || !strings.Contains(pe.Rule, tt.rule) {
			t.Errorf("%s: %v; want path views[1].css.width and a rule with %q", tt.expr, err, tt.rule)
		}
	}
}

func TestCalcReferencesEarlierViewsOnly(t *testing.T) {
	// b refers to a, which comes after it: an error, not a lookup of the future.
	p := rectsPalette(
		rectView("b", `"left":"calc(a.right)","width":"1rpx","height":"1rpx"`),
		rectView("a", `"width":"1rpx","height":"1rpx"`))
	if _, err := palette.Parse([]byte(p)); err == nil || !strings.Contains(err.Error(), `no earlier view has id "a"`) {
		t.Errorf("forward reference: %v", err)
	}
	// A repeated id refers to the latest view with it.
	p = rectsPalette(
		rectView("a", `"left":"10rpx","width":"10rpx","height":"1rpx"`),
		rectView("a", `"left":"100rpx","width":"10rpx","height":"1rpx"`),
		rectView("c", `"left":"calc(a.right)","width":"1rpx","height":"1rpx"`))
	if got := layoutBoxes(t, p, 0)[2].Left; got != 110 {
		t.Errorf("left after the second a = %v, want 110", got)
	}
}

func TestLegacyArrayPosition(t *testing.T) {
	p := rectsPalette(
		rectView("a", `"left":"10rpx","top":"20rpx","width":"100rpx","height":"40rpx"`),
		rectView("b", `"left":["20rpx","a"],"top":["5rpx","a",2],"width":"1rpx","height":"1rpx"`))
	got := layoutBoxes(t, p, 0)[1]
	if got.Left != 120 || got.Top != 85 {
		t.Errorf("legacy [offset, id, mult]: left %v top %v, want 120, 85", got.Left, got.Top)
	}
}

func TestPositioning(t *testing.T) {
	// A 100×40 rect on the 750×1000 canvas.
	tests := []struct {
		css               string
		wantLeft, wantTop float64
	}{
		{``, 0, 0},
		{`"left":"10rpx","top":"20rpx"`, 10, 20},
		{`"right":"10rpx","top":"0"`, 640, 0}, // right edge 10 from the canvas's: align right by default
		{`"right":"10rpx","align":"left"`, 740, 0},
		{`"right":"10rpx","align":"center"`, 690, 0},
		{`"left":"375rpx","align":"center"`, 325, 0},
		{`"left":"375rpx","align":"right"`, 275, 0},
		{`"bottom":"10rpx"`, 0, 950}, // bottom edge 10 from the canvas's
		{`"bottom":"10rpx","verticalAlign":"top"`, 0, 990},
		{`"bottom":"10rpx","verticalAlign":"center"`, 0, 970},
		{`"top":"500rpx","verticalAlign":"center"`, 0, 480},
		{`"top":"500rpx","verticalAlign":"bottom"`, 0, 460},
		{`"left":"10%","top":"10%"`, 75, 100},
		{`"right":"calc(10% + 5rpx)","bottom":"0"`, 570, 960},
	}
	for _, tt := range tests {
		css := `"width":"100rpx","height":"40rpx"`
		if tt.css != "" {
			css += "," + tt.css
		}
		got := layoutBoxes(t, rectsPalette(rectView("a", css)), 0)[0]
		if !near(got.Left, tt.wantLeft) || !near(got.Top, tt.wantTop) {
			t.Errorf("{%s}: left %v top %v, want %v %v", tt.css, got.Left, got.Top, tt.wantLeft, tt.wantTop)
		}
		if !near(got.Right-got.Left, 100) || !near(got.Bottom-got.Top, 40) {
			t.Errorf("{%s}: size %v×%v", tt.css, got.Right-got.Left, got.Bottom-got.Top)
		}
	}
}

func TestTextBoxMetrics(t *testing.T) {
	// Painter's metrics: h = lineHeight × lines; padding grows the box
	// outward; .width is the measured text width.
	p := rectsPalette(
		`{"type":"text","id":"t","text":"一二三\n四","css":{"left":"100rpx","top":"50rpx","fontSize":"20rpx","lineHeight":"30rpx","padding":"4rpx 6rpx"}}`,
		`{"type":"text","id":"w","text":"一二三四五六七八九十","css":{"width":"100rpx","fontSize":"20rpx","maxLines":2}}`,
		`{"type":"text","id":"u","text":"一","css":{"fontSize":"20rpx","lineHeight":2}}`,
	)
	got := layoutBoxes(t, p, 0)
	want := []palette.Rect{
		{Left: 94, Top: 46, Right: 166, Bottom: 114, Width: 60, Height: 60},
		{Left: 0, Top: 0, Right: 100, Bottom: 40, Width: 100, Height: 40},
		{Left: 0, Top: 0, Right: 20, Bottom: 40, Width: 20, Height: 40},
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("view %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
