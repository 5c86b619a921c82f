package poster

import (
	"context"
	"image"
	"runtime"
	"testing"
)

// TestRecycledCanvasRendersTheSame: a canvas given back and reused leaves
// nothing of the previous poster behind.
func TestRecycledCanvasRendersTheSame(t *testing.T) {
	r := newTestRenderer(t)
	ctx := context.Background()
	in := DefaultInput{Code: testCode(t), Avatar: testAvatar(200, 200), Nickname: "小明", Title: "同一张海报"}
	want, err := r.RenderDefault(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	wantPix := append([]byte(nil), want.Pix...)
	other, err := r.RenderDefault(ctx, DefaultInput{Code: testCode(t), Nickname: "另一个很长很长的名字", Title: "完全不同的标题，两行两行两行两行两行两行两行两行两行"})
	if err != nil {
		t.Fatal(err)
	}
	r.Recycle(other)
	r.Recycle(image.NewRGBA(image.Rect(0, 0, 10, 10))) // not a canvas: ignored
	for i := range 3 {
		// Collections between posters do not empty the free list (a
		// sync.Pool's did, so most renders allocated anyway).
		runtime.GC()
		runtime.GC()
		got, err := r.RenderDefault(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if &got.Pix[0] != &other.Pix[0] {
			t.Fatalf("render %d: the recycled canvas was not reused", i)
		}
		if string(got.Pix) != string(wantPix) {
			t.Fatal("a render on a recycled canvas differs")
		}
		r.Recycle(got)
	}
}
