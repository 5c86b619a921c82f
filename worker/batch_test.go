package worker

import "testing"

func TestBatchSlots(t *testing.T) {
	for _, tc := range []struct {
		conc  int
		share float64
		want  int
	}{{10, 0.8, 8}, {4, 0.8, 3}, {2, 0.8, 1}, {1, 0.8, 1}, {10, 1, 9}, {3, 0.1, 1}} {
		if got := BatchSlots(tc.conc, tc.share); got != tc.want {
			t.Errorf("BatchSlots(%d, %v) = %d, want %d", tc.conc, tc.share, got, tc.want)
		}
	}
}
