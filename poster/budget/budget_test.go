package budget

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestTakeAndCheck(t *testing.T) {
	b := New(Limits{ImagePixels: 10, DrawPixels: 20, Time: 50 * time.Millisecond})
	if b.TakeImage(6, "a") != nil || b.TakeImage(4, "b") != nil {
		t.Fatal("within the limit")
	}
	var e *Error
	if err := b.TakeImage(1, "views[2].url"); !errors.As(err, &e) || e.Where != "views[2].url" || !strings.Contains(e.Error(), "10 decoded image pixels") {
		t.Fatalf("over the image limit: %v", err)
	}
	if b.TakeDraw(20, "canvas") != nil || b.TakeDraw(1, "views[0]") == nil {
		t.Fatal("draw limit")
	}
	var nilB *Budget
	if nilB.TakeImage(1<<40, "x") != nil || nilB.TakeDraw(1<<40, "x") != nil {
		t.Fatal("a nil budget grants everything")
	}

	ctx, cancel := With(context.Background(), b)
	defer cancel()
	if From(ctx) != b || Check(ctx, "views[1]") != nil {
		t.Fatal("fresh budget")
	}
	<-ctx.Done()
	if err := Check(ctx, "views[1]"); !errors.As(err, &e) || e.Where != "views[1]" || !strings.Contains(e.Limit, "time limit") {
		t.Fatalf("after the time limit: %v", err)
	}
	parent, stop := context.WithCancel(context.Background())
	ctx2, cancel2 := With(parent, New(Limits{}))
	defer cancel2()
	stop()
	if err := Check(ctx2, "v"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled by its parent: %v, want context.Canceled", err)
	}
}
