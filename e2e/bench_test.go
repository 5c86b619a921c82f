package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/wxposter/wxposter/internal/testenv"
)

// BenchmarkPosterRoundTrip measures one poster on an idle system: POST →
// asynq → worker (token cached, code fetched from the simulator, rendered,
// uploaded) → the client's ?wait poll returns the URL. Each iteration uses a
// new scene, so nothing is served from storage.
func BenchmarkPosterRoundTrip(b *testing.B) {
	for _, bc := range []struct {
		name string
		body func(scene string) map[string]any
	}{
		{"default_template", func(scene string) map[string]any {
			return map[string]any{"template": "default", "page": pageIndex, "scene": scene,
				"data": map[string]string{"nickname": "小明", "title": "周末亲子活动：一起去植物园认识一百种花"}}
		}},
		{"plain_code", func(scene string) map[string]any {
			return map[string]any{"page": pageIndex, "scene": scene}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := start(b, withPollInterval(100*time.Millisecond)) // the shipped default
			prefix := testenv.ID(4)
			s.await(s.submit(bc.body(prefix + "warm")).ID) // token fetched, connections open
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				j := s.submit(bc.body(fmt.Sprintf("%s:%d", prefix, i)))
				if done := s.await(j.ID); done.Status != "succeeded" {
					b.Fatalf("job = %+v", done)
				}
			}
		})
	}
}
