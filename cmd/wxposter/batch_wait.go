package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/wxposter/wxposter/batchclient"
)

// follow long-polls the batch until it ends, showing progress, then writes
// the manifest (-o) and says how it ended. Its exit code is 0 only when every
// item succeeded.
func (c *batchCmd) follow(ctx context.Context, cl *batchclient.Client, id string, w waitFlags, quiet bool) error {
	tty := c.terminal(c.stdout)
	interval := w.interval
	if interval == 0 {
		interval = 10 * time.Second // a line every 10 s in a CI log is plenty
		if tty {
			interval = time.Second
		}
	}
	var pr progress = nopProgress{}
	switch {
	case quiet:
	case tty:
		pr = newBarProgress(c.stdout, c.now)
	default:
		pr = newPlainProgress(c.stdout, id, c.now)
	}
	wctx, cancel := ctx, context.CancelFunc(func() {})
	if w.timeout > 0 {
		wctx, cancel = context.WithTimeout(ctx, w.timeout)
	}
	defer cancel()
	started := c.now()
	b, err := c.await(wctx, cl, id, interval, pr)
	pr.finish(b)
	if err != nil {
		follow := fmt.Sprintf("it goes on; follow it with: wxposter batch status %s --wait", id)
		switch {
		case ctx.Err() != nil:
			return withCode(exitInterrupt, fmt.Errorf("stopped waiting for batch %s: %s", id, follow))
		case wctx.Err() != nil:
			return withCode(exitUnfinished, fmt.Errorf("batch %s still running after --timeout %s: %s", id, w.timeout, follow))
		}
		return err
	}
	n := b.Counts
	if !quiet {
		fmt.Fprintf(c.stdout, "batch %s %s in %s: %d succeeded, %d failed, %d cancelled (of %d)\n",
			id, b.Status, fmtDuration(c.now().Sub(started)), n.Succeeded, n.Failed, n.Cancelled, b.Total)
	}
	if w.output != "" {
		if err := c.writeTo(w.output, false, func(out io.Writer) (int64, error) { return cl.Manifest(ctx, id, "csv", out) }); err != nil {
			return fmt.Errorf("batch %s ended, but writing the manifest failed (try wxposter batch manifest %s -o %s): %w", id, id, w.output, err)
		}
	}
	if n.Failed == 0 && n.Cancelled == 0 && b.Status == batchclient.StatusCompleted {
		return nil
	}
	if n.Failed > 0 {
		c.showFailures(ctx, cl, id, n.Failed)
	}
	hint := ""
	if n.Failed > 0 {
		hint = fmt.Sprintf(" (run them again: wxposter batch retry %s --wait)", id)
	}
	return withCode(exitItemsFailed, fmt.Errorf("batch %s %s with %d failed and %d cancelled items of %d%s",
		id, b.Status, n.Failed, n.Cancelled, b.Total, hint))
}

// showFailures lists the first failed items on stderr, so that the cause is
// in front of the operator without opening the manifest.
func (c *batchCmd) showFailures(ctx context.Context, cl *batchclient.Client, id string, failed int) {
	const show = 10
	var items []batchclient.ItemView
	// A filtered page may be short or empty with more to come; a few pages
	// are enough to find the first failures.
	for cursor, pages := "", 0; len(items) < show && pages < 20; pages++ {
		p, err := cl.Items(ctx, id, "failed", cursor, show)
		if err != nil {
			return
		}
		items = append(items, p.Items...)
		if p.NextCursor == "" || p.NextCursor == cursor {
			break
		}
		cursor = p.NextCursor
	}
	if len(items) == 0 {
		return
	}
	items = items[:min(len(items), show)]
	fmt.Fprintln(c.stderr, "failed items:")
	for _, it := range items {
		fmt.Fprintf(c.stderr, "  %s\t%s\n", orDash(it.Key), itemDetail(it))
	}
	if failed > len(items) {
		fmt.Fprintf(c.stderr, "  … and %d more (wxposter batch items %s --status failed)\n", failed-len(items), id)
	}
}

// await polls until the batch ends. Each poll is a long poll of interval:
// the API answers at once when the batch ends, else after interval with
// the counts of the moment, which is when progress is shown.
func (c *batchCmd) await(ctx context.Context, cl *batchclient.Client, id string, interval time.Duration, pr progress) (*batchclient.Batch, error) {
	for {
		start := c.now()
		b, err := cl.Get(ctx, id, interval)
		if err != nil {
			if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
				err = fmt.Errorf("%w (%w)", cerr, err)
			}
			return nil, err
		}
		pr.update(b)
		if b.Ended() {
			return b, nil
		}
		// An API that answers early must not be polled in a tight loop.
		if d := c.pollFloor - c.now().Sub(start); d > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(d):
			}
		}
	}
}

// fmtDuration is d rounded for people: 850ms, 42s, 3m05s, 2h10m.
func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}
