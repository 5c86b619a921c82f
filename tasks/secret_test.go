package tasks

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/wxposter/wxposter/wechat"
)

// Poster ids, and so poster URLs, are keyed with the id secret: an unkeyed
// hash of a guessed request no longer finds a user's poster (issue 9).
func TestJobIDIsKeyedWithTheIDSecret(t *testing.T) {
	defer SetIDSecret("")
	p := PosterPayload{AppID: "wx1", Code: wechat.UnlimitedCode{Page: "pages/index/index", Scene: "uid:42"}}

	dev := p.JobID()
	b, _ := json.Marshal(p.Normalize())
	for _, prefix := range []string{"poster/v1\n", "poster/v2\n"} {
		sum := sha256.Sum256(append([]byte(prefix), b...))
		if hex.EncodeToString(sum[:16]) == dev {
			t.Fatal("the job id is an unkeyed hash of the request")
		}
	}
	SetIDSecret("a-production-secret-0123")
	prod := p.JobID()
	if prod == dev || len(prod) != 32 {
		t.Fatalf("ids %s (dev) and %s (secret): want different 32-hex ids", dev, prod)
	}
	if p.JobID() != prod {
		t.Fatal("the same request must keep its id under the same secret")
	}
	SetIDSecret("")
	if p.JobID() != dev {
		t.Fatal("an empty secret must mean DevIDSecret")
	}
}
