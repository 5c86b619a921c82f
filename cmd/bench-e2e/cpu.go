package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wxposter/wxposter/internal/procstat"
)

// Where the box's CPU goes during the fresh-poster phase: the ratio to the
// render-only bound is decided by how much of the two cores the processes
// around the worker take, so each run reports their CPU per poster.

// proc is one process whose CPU is counted.
type proc struct {
	name string
	pid  int
}

// findProc returns the pid of the first process whose command line holds
// every one of parts (0 if none).
func findProc(parts ...string) int {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil {
			continue
		}
		cmd := strings.ReplaceAll(string(b), "\x00", " ")
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(cmd, p)
		}
		if ok {
			pid, _ := strconv.Atoi(filepath.Base(d))
			return pid
		}
	}
	return 0
}

// cpuProcs lists the processes of the system under test and the load
// client itself; the S3 server (MinIO or versitygw) and Redis are found by
// their command lines.
func (s *system) cpuProcs() []proc {
	ps := []proc{}
	for i, name := range []string{"sim", "worker", "producer"} {
		ps = append(ps, proc{name, s.procs[i].Process.Pid})
	}
	for _, server := range [][]string{{"minio", "server", s.s3}, {"versitygw", s.s3}} {
		if pid := findProc(server...); pid != 0 {
			ps = append(ps, proc{server[0], pid})
			break
		}
	}
	if pid := findProc("redis-server", ":6379"); pid != 0 {
		ps = append(ps, proc{"redis", pid})
	}
	return append(ps, proc{"client", os.Getpid()})
}

// cpuUse runs f and returns each process's CPU during it.
func cpuUse(ps []proc, f func()) []time.Duration {
	before := make([]time.Duration, len(ps))
	for i, p := range ps {
		before[i] = procstat.CPU(p.pid)
	}
	f()
	used := make([]time.Duration, len(ps))
	for i, p := range ps {
		used[i] = procstat.CPU(p.pid) - before[i]
	}
	return used
}

// perPoster formats each process's CPU per poster, in ms.
func perPoster(ps []proc, used []time.Duration, n int) string {
	if n == 0 {
		return ""
	}
	var b strings.Builder
	var total time.Duration
	for i, p := range ps {
		fmt.Fprintf(&b, "%s %.2f  ", p.name, float64(used[i])/1e6/float64(n))
		total += used[i]
	}
	fmt.Fprintf(&b, "= %.2f ms", float64(total)/1e6/float64(n))
	return b.String()
}

// ceiling is the highest fresh ÷ bound ratio the box allows given what the
// processes that are not wxposter (the S3 server, Redis, the simulator and
// this load client) spent per poster: the ratio wxposter would reach if its
// worker cost no more than the render and its producer nothing. bound is
// the render-only bound's CPU per poster.
func ceiling(ps []proc, used []time.Duration, n int, bound time.Duration) float64 {
	if n == 0 {
		return 0
	}
	var others time.Duration
	for i, p := range ps {
		if p.name != "worker" && p.name != "producer" {
			others += used[i]
		}
	}
	return float64(bound) / (float64(bound) + float64(others)/float64(n))
}
