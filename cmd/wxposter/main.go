// Command wxposter is the share-poster backend: one binary whose subcommands
// run the HTTP producer, the asynq worker, the WeChat API simulator, or all
// three at once for development.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `wxposter: share posters for WeChat mini-programs

usage:
  wxposter producer   run the HTTP API (WXPOSTER_LISTEN)
  wxposter worker     run the poster worker
  wxposter sim        run the WeChat API simulator (WXPOSTER_SIM_LISTEN)
  wxposter dev        run simulator, worker and producer in one process
                      (-demo: enqueue one demo poster and print its URL)
  wxposter batch      create and follow batch campaigns through the API
                      (WXPOSTER_API_URL, WXPOSTER_API_KEY; wxposter batch -h)

Configuration is read from WXPOSTER_* environment variables; see README.md.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		code := exitCode(err)
		if code != 0 { // 0: -h, whose usage is printed already
			fmt.Fprintln(os.Stderr, "wxposter:", err)
		}
		os.Exit(code)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return usageErr("missing subcommand")
	}
	switch args[0] {
	case "producer":
		return runProducer(ctx)
	case "worker":
		return runWorker(ctx)
	case "sim":
		return runSim(ctx)
	case "dev":
		return runDev(ctx, args[1:], stdout)
	case "batch":
		return runBatch(ctx, args[1:], stdout, os.Stderr, os.Getenv)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return usageErr("unknown subcommand %q", args[0])
}
