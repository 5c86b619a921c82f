// Package budget bounds the work of one poster render: the pixels of every
// image it decodes, the pixels of every canvas and layer it draws into, and
// its time. A hostile template (tiny files that decode to huge images,
// many rotated and shadowed views) then fails fast with an Error naming
// the view and the limit, instead of taking a worker's memory and CPU.
//
// A Budget travels in the render's context (With, From); code that does
// heavy work takes from it before doing the work.
package budget

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Defaults per render. A 750×1334 poster at 2× is 4 MP of canvas; its
// images (avatar, photo, background) are rarely over a few megapixels.
// Eight renders at these limits stay within a few hundred MB.
const (
	DefaultImagePixels = 8_000_000  // decoded image pixels, all images together
	DefaultDrawPixels  = 40_000_000 // canvas + layers (+ shadows) drawn, all views together
	DefaultTime        = 10 * time.Second
)

// Limits of one render; zero fields take the defaults.
type Limits struct {
	ImagePixels int64
	DrawPixels  int64
	Time        time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.ImagePixels <= 0 {
		l.ImagePixels = DefaultImagePixels
	}
	if l.DrawPixels <= 0 {
		l.DrawPixels = DefaultDrawPixels
	}
	if l.Time <= 0 {
		l.Time = DefaultTime
	}
	return l
}

// Budget is what is left of one render's limits. Safe for concurrent use
// (images load concurrently).
type Budget struct {
	lim Limits

	mu          sync.Mutex
	imagePixels int64
	drawPixels  int64
}

// New returns a fresh budget.
func New(l Limits) *Budget { return &Budget{lim: l.withDefaults()} }

// Limits returns the budget's limits (defaults filled in).
func (b *Budget) Limits() Limits { return b.lim }

// Error is a render over its budget: permanent, the same template and data
// would exceed it again.
type Error struct {
	Where string // the view (views[3]), image field, or "canvas"
	Limit string // which limit, with its value
	Need  int64  // what the step wanted, in the limit's unit (0 for time)
}

func (e *Error) Error() string {
	if e.Need > 0 {
		return fmt.Sprintf("poster: %s exceeds the render's %s (needs %d more)", e.Where, e.Limit, e.Need)
	}
	return fmt.Sprintf("poster: %s exceeds the render's %s", e.Where, e.Limit)
}

// TakeImage reserves n decoded image pixels for where, or returns an *Error.
func (b *Budget) TakeImage(n int64, where string) error {
	if b == nil {
		return nil
	}
	return b.take(&b.imagePixels, b.lim.ImagePixels, n, where, "decoded image pixels")
}

// RemainingImagePixels is what TakeImage would still grant.
func (b *Budget) RemainingImagePixels() int64 {
	if b == nil {
		return 1 << 62
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lim.ImagePixels - b.imagePixels
}

// TakeDraw reserves n pixels of canvas or layer for where, or returns an *Error.
func (b *Budget) TakeDraw(n int64, where string) error {
	if b == nil {
		return nil
	}
	return b.take(&b.drawPixels, b.lim.DrawPixels, n, where, "drawn pixels")
}

// take adds n to *used unless that would pass limit (pixels of kind).
func (b *Budget) take(used *int64, limit, n int64, where, kind string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if *used+n > limit {
		return &Error{Where: where, Need: n, Limit: fmt.Sprintf("limit of %d %s (%d used)", limit, kind, *used)}
	}
	*used += n
	return nil
}

type key struct{}

// With returns ctx carrying b, and ending when b's time limit is reached
// (the cause is then an *Error on "the render"; see Cause).
func With(ctx context.Context, b *Budget) (context.Context, context.CancelFunc) {
	ctx = context.WithValue(ctx, key{}, b)
	return context.WithTimeoutCause(ctx, b.lim.Time,
		&Error{Where: "the render", Limit: fmt.Sprintf("time limit of %s", b.lim.Time)})
}

// From returns the budget of ctx, nil if none (a nil *Budget grants all).
func From(ctx context.Context) *Budget {
	b, _ := ctx.Value(key{}).(*Budget)
	return b
}

// Cause returns the *Error that ended ctx, if the render's time limit did,
// naming where the work stopped; otherwise nil.
func Cause(ctx context.Context, where string) *Error {
	e, ok := context.Cause(ctx).(*Error)
	if !ok || ctx.Err() == nil {
		return nil
	}
	out := *e
	if where != "" {
		out.Where = where
	}
	return &out
}

// Check returns nil while ctx is live; once it is done, the budget *Error
// naming where if the render's time limit ended it, else ctx.Err(). Heavy
// loops call it every few rows.
func Check(ctx context.Context, where string) error {
	if ctx.Err() == nil {
		return nil
	}
	if e := Cause(ctx, where); e != nil {
		return e
	}
	return ctx.Err()
}
