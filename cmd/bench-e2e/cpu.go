package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Where the box's CPU goes during the fresh-poster phase: the ratio to the
// render-only bound is decided by how much of the two cores the processes
// around the worker take, so each run reports their CPU per poster.

// clockTick is USER_HZ, 100 on every Linux the project runs on.
const clockTick = 10 * time.Millisecond

// proc is one process whose CPU is counted.
type proc struct {
	name string
	pid  int
}

// cpuTime is the user + system CPU of pid so far (0 if it is gone).
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; fields count from its ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * clockTick
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
// client itself; MinIO and Redis are found by their command lines.
func (s *system) cpuProcs() []proc {
	ps := []proc{}
	for i, name := range []string{"sim", "worker", "producer"} {
		ps = append(ps, proc{name, s.procs[i].Process.Pid})
	}
	if pid := findProc("minio", "server", env("WXPOSTER_MINIO_ENDPOINT", "127.0.0.1:9000")); pid != 0 {
		ps = append(ps, proc{"minio", pid})
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
		before[i] = cpuTime(p.pid)
	}
	f()
	used := make([]time.Duration, len(ps))
	for i, p := range ps {
		used[i] = cpuTime(p.pid) - before[i]
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
