package batch

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
)

// keys are the Redis keys of one batch, all under the hash tag {id}.
type keys struct {
	meta, st, items, jobs, pay, err string
}

func (s *Store) keysOf(id string) keys {
	p := s.prefix + "{" + id + "}:"
	return keys{meta: p + "meta", st: p + "st", items: p + "items", jobs: p + "jobs", pay: p + "pay", err: p + "err"}
}

// all is the key list every script receives, in this order.
func (k keys) all() []string { return []string{k.meta, k.st, k.items, k.jobs, k.pay, k.err} }

// jobKey is the set of batches waiting on job id.
func (s *Store) jobKey(jobID string) string { return s.jobPrefix + jobID + ":batches" }

func (s *Store) indexKey() string { return s.prefix[:len(s.prefix)-1] + "es" } // wxposter:batches

func (s *Store) idemKey(h string) string { return s.prefix + "idem:" + h }

var idRE = regexp.MustCompile(`^b[0-9a-f]{24}$`)

// ValidID reports whether id has the shape of a batch id.
func ValidID(id string) bool { return idRE.MatchString(id) }

func newID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "b" + hex.EncodeToString(b)
}
