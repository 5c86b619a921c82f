package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/wxposter/wxposter/batchclient"
)

// progress shows a batch being followed: update with every poll's answer,
// finish once at the end (b is nil when waiting stopped early).
type progress interface {
	update(b *batchclient.Batch)
	finish(b *batchclient.Batch)
}

type nopProgress struct{}

func (nopProgress) update(*batchclient.Batch) {}
func (nopProgress) finish(*batchclient.Batch) {}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// plainProgress writes a line when the counts change (and at least every
// heartbeat otherwise), for logs and pipes:
//
//	2026-11-26T13:04:05Z batch b1 running: 420/1000 done (42%), 3 failed, 0 cancelled, 12.3/s, ETA 47s
type plainProgress struct {
	w         io.Writer
	id        string
	now       func() time.Time
	heartbeat time.Duration

	speed  speed
	last   string // counts of the last line written
	lastAt time.Time
}

// speed is the rate since the first answer seen, and the ETA.
type speed struct {
	first     time.Time
	firstDone int
}

// at returns the rate ("12.3/s", "-" before any time has passed) and the
// ETA: the API's estimate when it gives one (it knows the pacing), else
// the rest at the rate seen.
func (s *speed) at(now time.Time, b *batchclient.Batch) (rate, eta string) {
	done := b.Counts.Done()
	if s.first.IsZero() {
		s.first, s.firstDone = now, done
	}
	rate, eta = "-", "-"
	if el := now.Sub(s.first).Seconds(); el > 0 {
		r := float64(done-s.firstDone) / el
		rate = fmt.Sprintf("%.1f/s", r)
		if r > 0 {
			eta = fmtDuration(time.Duration(float64(b.Total-done) / r * float64(time.Second)))
		}
	}
	if b.ETASeconds != nil {
		eta = fmtDuration(time.Duration(*b.ETASeconds * float64(time.Second)))
	}
	if b.Ended() {
		eta = "-"
	}
	return rate, eta
}

func newPlainProgress(w io.Writer, id string, now func() time.Time) *plainProgress {
	return &plainProgress{w: w, id: id, now: now, heartbeat: time.Minute}
}

func (p *plainProgress) update(b *batchclient.Batch) {
	now := p.now()
	n := b.Counts
	done := n.Done()
	rate, eta := p.speed.at(now, b)
	state := fmt.Sprintf("%s %d %d %d", b.Status, done, n.Failed, n.Cancelled)
	if state == p.last && now.Sub(p.lastAt) < p.heartbeat {
		return
	}
	p.last, p.lastAt = state, now
	pct := 100
	if b.Total > 0 {
		pct = done * 100 / b.Total
	}
	fmt.Fprintf(p.w, "%s batch %s %s: %d/%d done (%d%%), %d failed, %d cancelled, %s, ETA %s\n",
		now.UTC().Format(time.RFC3339), p.id, b.Status, done, b.Total, pct, n.Failed, n.Cancelled, rate, eta)
}

func (p *plainProgress) finish(*batchclient.Batch) {}

// barProgress is a live bar on a terminal: done/total and elapsed time,
// then the rate, ETA and failures. The rate is counted since the first
// answer (the bar's own would be taken between two polls, which is
// meaningless when the batch ends just after one).
type barProgress struct {
	w     io.Writer
	now   func() time.Time
	bar   *progressbar.ProgressBar
	speed speed
}

func newBarProgress(w io.Writer, now func() time.Time) *barProgress {
	return &barProgress{w: w, now: now}
}

func (p *barProgress) update(b *batchclient.Batch) {
	if p.bar == nil {
		p.bar = progressbar.NewOptions(b.Total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionShowCount(),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionFullWidth(),
			progressbar.OptionSetRenderBlankState(true),
		)
	}
	p.bar.Describe(p.describe(b))
	_ = p.bar.Set(b.Counts.Done())
}

func (p *barProgress) describe(b *batchclient.Batch) string {
	rate, eta := p.speed.at(p.now(), b)
	s := rate + ", ETA " + eta
	if n := b.Counts.Failed; n > 0 {
		s += fmt.Sprintf(", %d failed", n)
	}
	if n := b.Counts.Cancelled; n > 0 {
		s += fmt.Sprintf(", %d cancelled", n)
	}
	return s
}

func (p *barProgress) finish(b *batchclient.Batch) {
	if p.bar == nil {
		return
	}
	if b != nil && b.Counts.Done() == b.Total {
		_ = p.bar.Finish()
	} else {
		_ = p.bar.Exit() // stopped early: leave the bar where it is
	}
	fmt.Fprintln(p.w)
}
