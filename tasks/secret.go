package tasks

import "sync/atomic"

// DevIDSecret is the id secret when WXPOSTER_ID_SECRET is not set. It is
// public (it is in this file), so job ids made with it can be computed by
// anyone: fine for development, not for production.
const DevIDSecret = "wxposter-dev-id-secret-not-for-production"

var idSecret atomic.Value // []byte

func init() { idSecret.Store([]byte(DevIDSecret)) }

// SetIDSecret sets the key of JobID for the whole process; every process
// that enqueues jobs (all producers) must use the same one
// (WXPOSTER_ID_SECRET), or equal requests would become different jobs. Changing it
// changes every job id and poster URL: posters already made are made again
// under new keys (and cost a render, not a WeChat call: codes are keyed by
// their parameters alone). An empty secret means DevIDSecret.
func SetIDSecret(secret string) {
	if secret == "" {
		secret = DevIDSecret
	}
	idSecret.Store([]byte(secret))
}
