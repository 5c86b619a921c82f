package procstat

import (
	"os"
	"testing"
)

func TestOwnProcess(t *testing.T) {
	b := make([]byte, 64<<20)
	for i := range b { // touched, so resident
		b[i] = 1
	}
	for i := 0; CPU(os.Getpid()) == 0 && i < 1e9; i++ { // burn until a tick is counted
		b[i%len(b)]++
	}
	if rss := RSS(os.Getpid()); rss < 64<<20 {
		t.Errorf("RSS = %d, want at least the 64 MiB touched", rss)
	}
	if CPU(os.Getpid()) <= 0 {
		t.Error("CPU = 0 after burning CPU")
	}
	if RSS(-1) != 0 || CPU(-1) != 0 {
		t.Error("a process that does not exist has RSS or CPU")
	}
}
