package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wxposter/wxposter/batchclient"
	"github.com/wxposter/wxposter/batchcsv"
)

const batchUsage = `usage: wxposter batch COMMAND [flags]

  create FILE.csv --template T [--page P] [--callback URL] [--name N]
         [--app A] [--data name=value]… [--idempotency-key K]
         [--wait [--timeout D]] [-o manifest.csv] [-q]
                         make one poster per CSV row (docs/batches.md#csv-format)
  status ID [--json] [--wait [--timeout D]] [-o manifest.csv]
                         counts, ETA; --wait follows it to the end
  items ID [--status S] [--json]
                         every item: key, id, status, URL or error
  manifest ID [-o FILE] [--format csv|ndjson]
                         every item as CSV (stdout unless -o)
  archive ID [-o FILE.zip]
                         ZIP of the succeeded posters (default ID.zip)
  cancel ID              items not yet started never run
  retry ID [--wait [--timeout D]] [-o manifest.csv]
                         run the failed items again
  list [--limit N] [--cursor C] [--json]
                         batches, newest first

With --wait, a progress bar on a terminal, plain progress lines otherwise.
Environment: WXPOSTER_API_URL (default http://127.0.0.1:8080), WXPOSTER_API_KEY.
Exit codes: 0 done (every item succeeded), 1 error, 2 usage, 3 malformed CSV
or batch rejected, 4 items failed or were cancelled, 5 --timeout passed.
`

// defaultAPIURL is the producer's default WXPOSTER_LISTEN.
const defaultAPIURL = "http://127.0.0.1:8080"

// batchCmd is one run of `wxposter batch …`.
type batchCmd struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	// terminal reports whether w is a terminal (a progress bar, or lines).
	terminal func(w io.Writer) bool
	now      func() time.Time
	// pollFloor is the least time between two polls, should the API answer
	// a long poll early.
	pollFloor time.Duration
}

func runBatch(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	c := &batchCmd{stdout: stdout, stderr: stderr, getenv: getenv, terminal: isTerminal,
		now: time.Now, pollFloor: time.Second}
	return c.run(ctx, args)
}

func (c *batchCmd) run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, batchUsage)
		return usageErr("batch: missing command")
	}
	cmds := map[string]func(context.Context, []string) error{
		"create": c.create, "status": c.status, "items": c.items, "manifest": c.manifest,
		"archive": c.archive, "cancel": c.cancel, "retry": c.retry, "list": c.list,
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(c.stdout, batchUsage)
		return nil
	}
	f, ok := cmds[args[0]]
	if !ok {
		fmt.Fprint(c.stderr, batchUsage)
		return usageErr("batch: unknown command %q", args[0])
	}
	err := f(ctx, args[1:])
	if _, ok := errors.AsType[*net.OpError](err); ok {
		shown := c.apiURL()
		if u, perr := url.Parse(shown); perr == nil {
			shown = u.Redacted() // a password in the URL stays out of the message
		}
		err = fmt.Errorf("%w (is the API running at %s? set WXPOSTER_API_URL)", err, shown)
	}
	return err
}

func (c *batchCmd) apiURL() string {
	if u := c.getenv("WXPOSTER_API_URL"); u != "" {
		return u
	}
	return defaultAPIURL
}

// client reads WXPOSTER_API_URL and WXPOSTER_API_KEY.
func (c *batchCmd) client() (*batchclient.Client, error) {
	cl, err := batchclient.New(c.apiURL(), batchclient.WithAPIKey(c.getenv("WXPOSTER_API_KEY")),
		batchclient.WithUserAgent("wxposter-cli"))
	if err != nil {
		return nil, usageErr("WXPOSTER_API_URL: %v", err)
	}
	return cl, nil
}

// flags is a subcommand's flag set; parse allows flags after the
// positional arguments (`create file.csv --template t`).
type flags struct {
	*flag.FlagSet
	name string
}

// flags makes the flag set of command name; usage is its synopsis.
func (c *batchCmd) flags(usage string) *flags {
	name, _, _ := strings.Cut(usage, " ")
	fs := flag.NewFlagSet("wxposter batch "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "usage: wxposter batch %s\n", usage)
		fs.PrintDefaults()
	}
	return &flags{FlagSet: fs, name: name}
}

// parse returns exactly npos positional arguments.
func (f *flags) parse(args []string, npos int, what string) ([]string, error) {
	var pos []string
	for {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, withCode(0, err)
			}
			return nil, withCode(exitUsage, fmt.Errorf("batch %s: %w", f.name, err))
		}
		args = f.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) != npos {
		f.Usage()
		if len(pos) < npos {
			return nil, usageErr("batch %s: missing %s", f.name, what)
		}
		return nil, usageErr("batch %s: unexpected argument %q", f.name, pos[npos])
	}
	return pos, nil
}

// kvFlag collects repeated name=value flags.
type kvFlag map[string]string

func (m kvFlag) String() string { return "" }
func (m kvFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return errors.New("want name=value")
	}
	m[k] = v
	return nil
}

// waitFlags are the flags of every command that can follow a batch.
type waitFlags struct {
	wait     bool
	timeout  time.Duration
	interval time.Duration
	output   string
}

func (w *waitFlags) register(f *flags, withWait bool) {
	if withWait {
		f.BoolVar(&w.wait, "wait", false, "follow the batch until it ends, then write the manifest (-o)")
	}
	f.DurationVar(&w.timeout, "timeout", 0, "with --wait: give up waiting after this long (the batch goes on); 0 waits for good")
	f.DurationVar(&w.interval, "interval", 0, "with --wait: time between progress updates (default 1s on a terminal, 10s otherwise; at most 30s)")
	f.StringVar(&w.output, "o", "", "with --wait: write the manifest (CSV) to this file")
}

func (w *waitFlags) check(name string) error {
	if !w.wait && (w.output != "" || w.timeout != 0) {
		return usageErr("batch %s: -o and --timeout need --wait (or use `wxposter batch manifest`)", name)
	}
	if w.interval < 0 || w.interval > batchclient.MaxWait || w.timeout < 0 {
		return usageErr("batch %s: --interval must be between 1s and 30s, --timeout not negative", name)
	}
	return nil
}

func (c *batchCmd) create(ctx context.Context, args []string) error {
	f := c.flags("create FILE.csv --template T [flags]")
	var (
		req   batchclient.CreateRequest
		data  = kvFlag{}
		quiet bool
		w     waitFlags
	)
	f.StringVar(&req.Template, "template", "", "template name (required; \"default\" is the built-in one)")
	f.StringVar(&req.Page, "page", "", "mini-program page for rows without a page column value")
	f.StringVar(&req.CallbackURL, "callback", "", "URL that receives the signed batch.completed callback")
	f.StringVar(&req.Name, "name", "", "batch name (default: the file's base name)")
	f.StringVar(&req.App, "app", "", "app name or appid (default: the API's default app)")
	f.StringVar(&req.EnvVersion, "env-version", "", "release, trial or develop")
	f.IntVar(&req.Width, "width", 0, "code width in pixels")
	f.StringVar(&req.Format, "format", "", "jpeg or png")
	f.IntVar(&req.Quality, "quality", 0, "JPEG quality, 1-100")
	f.StringVar(&req.IdempotencyKey, "idempotency-key", "", "the same key returns the batch made before instead of a second one (and makes the request safe to resend)")
	f.Var(data, "data", "name=value default for every row's data (repeatable; a data.<name> cell wins)")
	f.BoolVar(&quiet, "q", false, "print only the batch id (and no progress)")
	w.register(f, true)
	pos, err := f.parse(args, 1, "the CSV file")
	if err != nil {
		return err
	}
	if req.Template == "" {
		return usageErr("batch create: --template is required (\"default\" for the built-in template)")
	}
	if err := w.check("create"); err != nil {
		return err
	}
	if len(data) > 0 {
		req.Data = data
	}
	path := pos[0]
	if req.Name == "" {
		req.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	// Check the whole file before anything is sent; keep each item's line
	// to show the API's per-item errors as lines.
	lines, err := batchcsv.Scan(path)
	if _, ok := errors.AsType[*batchcsv.Error](err); ok {
		return withCode(exitInvalid, err)
	}
	if err != nil {
		return err // cannot read the file
	}
	created, err := cl.Create(ctx, req, batchcsv.Items(path, nil))
	if err != nil {
		return c.createError(path, lines, err)
	}
	switch {
	case quiet:
		fmt.Fprintln(c.stdout, created.ID)
	case created.Existing:
		fmt.Fprintf(c.stdout, "batch %s already exists for idempotency key %q: nothing new was enqueued (%d items)\n",
			created.ID, req.IdempotencyKey, created.Total)
	default:
		fmt.Fprintf(c.stdout, "batch %s created: %d items from %s\n", created.ID, created.Total, path)
	}
	if !w.wait {
		if !quiet {
			fmt.Fprintf(c.stdout, "follow it: wxposter batch status %s --wait\n", created.ID)
		}
		return nil
	}
	return c.follow(ctx, cl, created.ID, w, quiet)
}

// createError shows a rejected batch's bad items as lines of the file.
func (c *batchCmd) createError(path string, lines []int, err error) error {
	if _, ok := errors.AsType[*batchcsv.Error](err); ok {
		return withCode(exitInvalid, err) // the file changed since it was checked
	}
	ae, ok := errors.AsType[*batchclient.APIError](err)
	if !ok {
		return err
	}
	if !ae.Invalid() {
		return err
	}
	for _, it := range ae.Items {
		where := fmt.Sprintf("item %d", it.Index)
		if it.Index >= 0 && it.Index < len(lines) {
			where = fmt.Sprintf("%s:%d", path, lines[it.Index])
		}
		key := ""
		if it.Key != "" {
			key = fmt.Sprintf(" (key %q)", it.Key)
		}
		fmt.Fprintf(c.stderr, "%s%s: %s: %s\n", where, key, it.Field, strings.TrimPrefix(it.Message, it.Field+" "))
	}
	msg := "the API rejected the batch"
	if !strings.Contains(ae.Message, "nothing was enqueued") {
		msg += ", nothing was enqueued"
	}
	return withCode(exitInvalid, fmt.Errorf("%s: %w", msg, err))
}

func (c *batchCmd) status(ctx context.Context, args []string) error {
	f := c.flags("status ID [--json] [--wait]")
	var (
		asJSON bool
		w      waitFlags
	)
	f.BoolVar(&asJSON, "json", false, "print the API's JSON")
	w.register(f, true)
	pos, err := f.parse(args, 1, "the batch id")
	if err != nil {
		return err
	}
	if err := w.check("status"); err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	if w.wait {
		// With --json: no progress, then the final answer as JSON.
		err := c.follow(ctx, cl, pos[0], w, asJSON)
		if asJSON && ctx.Err() == nil {
			if b, gerr := cl.Get(ctx, pos[0], 0); gerr == nil {
				_ = c.printJSON(b.Raw)
			}
		}
		return err
	}
	b, err := cl.Get(ctx, pos[0], 0)
	if err != nil {
		return err
	}
	if asJSON {
		return c.printJSON(b.Raw)
	}
	c.printBatch(b)
	return nil
}

func (c *batchCmd) retry(ctx context.Context, args []string) error {
	f := c.flags("retry ID [--wait]")
	var w waitFlags
	w.register(f, true)
	pos, err := f.parse(args, 1, "the batch id")
	if err != nil {
		return err
	}
	if err := w.check("retry"); err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	if err := cl.Retry(ctx, pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "batch %s: failed items are running again\n", pos[0])
	if w.wait {
		return c.follow(ctx, cl, pos[0], w, false)
	}
	b, err := cl.Get(ctx, pos[0], 0)
	if err != nil {
		return err
	}
	c.printBatch(b)
	return nil
}

func (c *batchCmd) cancel(ctx context.Context, args []string) error {
	f := c.flags("cancel ID")
	pos, err := f.parse(args, 1, "the batch id")
	if err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	if err := cl.Cancel(ctx, pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "batch %s: cancelled; items already running finish\n", pos[0])
	b, err := cl.Get(ctx, pos[0], 0)
	if err != nil {
		return err
	}
	c.printBatch(b)
	return nil
}

func (c *batchCmd) manifest(ctx context.Context, args []string) error {
	f := c.flags("manifest ID [-o FILE] [--format csv|ndjson]")
	var out, format string
	f.StringVar(&out, "o", "-", "write to this file (- for stdout)")
	f.StringVar(&format, "format", "csv", "csv or ndjson")
	pos, err := f.parse(args, 1, "the batch id")
	if err != nil {
		return err
	}
	if format != "csv" && format != "ndjson" {
		return usageErr("batch manifest: --format must be csv or ndjson")
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	return c.writeTo(out, false, func(w io.Writer) (int64, error) { return cl.Manifest(ctx, pos[0], format, w) })
}

func (c *batchCmd) archive(ctx context.Context, args []string) error {
	f := c.flags("archive ID [-o FILE.zip]")
	var out string
	f.StringVar(&out, "o", "", "write to this file (- for stdout; default ID.zip)")
	pos, err := f.parse(args, 1, "the batch id")
	if err != nil {
		return err
	}
	if out == "" {
		out = pos[0] + ".zip"
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	return c.writeTo(out, true, func(w io.Writer) (int64, error) { return cl.Archive(ctx, pos[0], w) })
}

// writeTo streams a download to path ("-" is stdout). A file is written
// under a temporary name and renamed when complete, so that a file with the
// final name is never a partial download.
func (c *batchCmd) writeTo(path string, binary bool, get func(io.Writer) (int64, error)) error {
	if path == "-" {
		if binary && c.terminal(c.stdout) {
			return usageErr("refusing to write a ZIP to the terminal: use -o FILE.zip")
		}
		_, err := get(c.stdout)
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.part")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	n, err := get(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "wrote %s (%d bytes)\n", path, n)
	return nil
}

func (c *batchCmd) items(ctx context.Context, args []string) error {
	f := c.flags("items ID [--status S] [--json]")
	var (
		status string
		asJSON bool
	)
	f.StringVar(&status, "status", "", "only items in this state (queued, running, retrying, succeeded, failed, cancelled)")
	f.BoolVar(&asJSON, "json", false, "one JSON object a line")
	pos, err := f.parse(args, 1, "the batch id")
	if err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	enc := json.NewEncoder(c.stdout)
	enc.SetEscapeHTML(false)
	cursor := ""
	for {
		p, err := cl.Items(ctx, pos[0], status, cursor, 0)
		if err != nil {
			return err
		}
		for _, it := range p.Items {
			if asJSON {
				if err := enc.Encode(it); err != nil {
					return err
				}
				continue
			}
			fmt.Fprintf(c.stdout, "%s\t%s\t%s\t%s\n", orDash(it.Key), it.ID, it.Status, itemDetail(it))
		}
		// A filtered page may be short or even empty with more to come:
		// only the absence of a cursor ends the list.
		if p.NextCursor == "" || p.NextCursor == cursor {
			return nil
		}
		cursor = p.NextCursor
	}
}

func (c *batchCmd) list(ctx context.Context, args []string) error {
	f := c.flags("list [--limit N] [--cursor C] [--json]")
	var (
		limit  int
		cursor string
		asJSON bool
	)
	f.IntVar(&limit, "limit", 20, "batches per page")
	f.StringVar(&cursor, "cursor", "", "the next page's cursor, as printed")
	f.BoolVar(&asJSON, "json", false, "one JSON object a line")
	if _, err := f.parse(args, 0, ""); err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	p, err := cl.List(ctx, cursor, limit)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(c.stdout)
	enc.SetEscapeHTML(false)
	for _, b := range p.Batches {
		if asJSON {
			if err := enc.Encode(b); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(c.stdout, "%s\t%s\t%d/%d done\t%d failed\t%s\t%s\n", b.ID, b.Status, b.Counts.Done(), b.Total,
			b.Counts.Failed, b.CreatedAt.UTC().Format(time.RFC3339), orDash(b.Name))
	}
	if p.NextCursor != "" && !asJSON {
		fmt.Fprintf(c.stdout, "more: wxposter batch list --cursor %s\n", p.NextCursor)
	}
	return nil
}

func (c *batchCmd) printJSON(raw json.RawMessage) error {
	_, err := fmt.Fprintf(c.stdout, "%s\n", strings.TrimSpace(string(raw)))
	return err
}

// printBatch shows a batch for people.
func (c *batchCmd) printBatch(b *batchclient.Batch) {
	name := ""
	if b.Name != "" {
		name = fmt.Sprintf(" %q", b.Name)
	}
	fmt.Fprintf(c.stdout, "batch %s%s: %s, %d/%d done\n", b.ID, name, b.Status, b.Counts.Done(), b.Total)
	n := b.Counts
	fmt.Fprintf(c.stdout, "  succeeded %d, failed %d, cancelled %d, running %d, retrying %d, queued %d\n",
		n.Succeeded, n.Failed, n.Cancelled, n.Running, n.Retrying, n.Queued)
	line := "  created " + b.CreatedAt.UTC().Format(time.RFC3339)
	if b.FinishedAt != nil {
		line += ", finished " + b.FinishedAt.UTC().Format(time.RFC3339)
	}
	if b.ETASeconds != nil && !b.Ended() {
		line += ", ETA " + fmtDuration(time.Duration(*b.ETASeconds*float64(time.Second)))
	}
	fmt.Fprintln(c.stdout, line)
}

func itemDetail(it batchclient.ItemView) string {
	if it.Error != nil {
		if ec := it.Error.Errcode; ec != nil && it.Error.Code != strconv.Itoa(*ec) {
			return fmt.Sprintf("%s %d: %s", it.Error.Code, *ec, it.Error.Message)
		}
		return it.Error.Code + ": " + it.Error.Message
	}
	return orDash(it.URL)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
