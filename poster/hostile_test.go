package poster

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"strings"
	"testing"
	"time"

	"github.com/wxposter/wxposter/poster/budget"
	"github.com/wxposter/wxposter/poster/imagesrc"
	"github.com/wxposter/wxposter/poster/palette"
)

// hostileViews is a palette of n copies of view (a JSON object with %d for
// its index).
func hostileViews(canvas string, n int, view string) string {
	var vs []string
	for i := range n {
		vs = append(vs, fmt.Sprintf(view, i))
	}
	return `{"width":"` + canvas + `","height":"` + canvas + `","views":[` + strings.Join(vs, ",") + `]}`
}

func renderHostile(t *testing.T, js string, lim budget.Limits, in PaletteInput) (time.Duration, error) {
	t.Helper()
	p, err := palette.Parse([]byte(js))
	if err != nil {
		t.Fatalf("palette.Parse: %v", err)
	}
	ctx, cancel := budget.With(context.Background(), budget.New(lim))
	defer cancel()
	start := time.Now()
	_, err = newTestRenderer(t).RenderPalette(ctx, p, in)
	return time.Since(start), err
}

// issue 9: "a rotated, shadowed 4096² view ×10 took 102 s and 760 MB".
// The layers are taken from the draw budget: the render stops at the
// view that exceeds it, naming it.
func TestRotatedShadowedHugeViewsExceedTheDrawBudget(t *testing.T) {
	js := hostileViews("4096rpx", 10, `{"id":"v%d","type":"rect","css":{"width":"4096rpx","height":"4096rpx","color":"#336699",
		"rotate":"33","shadow":"10px 10px 100px rgba(0,0,0,0.5)"}}`)
	_, err := renderHostile(t, js, budget.Limits{}, PaletteInput{})
	var be *budget.Error
	if !errors.As(err, &be) || !strings.HasPrefix(be.Where, "views[") || !strings.Contains(be.Limit, "drawn pixels") {
		t.Fatalf("got %v, want a budget error naming a view and the drawn-pixels limit", err)
	}
}

// data: URIs (template image variables) are images like any other: the
// same per-render budget.
func TestDataURIImagesShareTheBudget(t *testing.T) {
	var vs []string
	for i := range 20 {
		var b bytes.Buffer
		// Distinct images (the loader would share equal URIs), 2 MP each.
		gif.Encode(&b, image.NewPaletted(image.Rect(0, 0, 2000, 1000+i), color.Palette{color.White}), nil)
		uri := "data:image/gif;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
		vs = append(vs, fmt.Sprintf(`{"type":"image","url":%q,"css":{"width":"100px","height":"100px"}}`, uri))
	}
	js := `{"width":"750px","height":"750px","views":[` + strings.Join(vs, ",") + `]}`
	l, err := imagesrc.NewLoader()
	if err != nil {
		t.Fatal(err)
	}
	_, err = renderHostile(t, js, budget.Limits{}, PaletteInput{Images: l})
	var be *budget.Error
	if !errors.As(err, &be) || !strings.HasSuffix(be.Where, ".url") || !strings.Contains(be.Limit, "decoded image pixels") {
		t.Fatalf("got %v, want a budget error naming an image view and the image-pixels limit", err)
	}
}

// The time limit is checked inside the heavy loops (here the shadow's
// blur), and named as the render's time limit at the view.
func TestRenderTimeLimitStopsInsideAView(t *testing.T) {
	js := hostileViews("2000rpx", 3, `{"id":"v%d","type":"rect","css":{"width":"1800rpx","height":"1800rpx","color":"#336699",
		"shadow":"0 0 100px #000000"}}`)
	took, err := renderHostile(t, js, budget.Limits{Time: 30 * time.Millisecond}, PaletteInput{})
	var be *budget.Error
	if !errors.As(err, &be) || !strings.HasPrefix(be.Where, "views[") || !strings.Contains(be.Limit, "time limit") {
		t.Fatalf("got %v (after %s), want the time limit named at a view", err, took)
	}
	t.Logf("stopped after %s", took)
}
