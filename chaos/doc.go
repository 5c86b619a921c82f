// Package chaos is wxposter's fault-injection suite (`make chaos`). Its
// tests, behind the "chaos" build tag, run the real wxposter binary as
// producer and worker processes against their own Redis (AOF on) and their
// own MinIO, on the faults port range 7200-7299, with the WeChat simulator
// in process, and then break things: SIGKILL a worker mid-run, SIGKILL and
// restart Redis, stop storage for 60 s, make WeChat busy and slow while
// its tokens rotate, SIGTERM the producer under long polls, and feed
// hostile templates. Each scenario asserts that no job is lost, none that
// should succeed fails, and WeChat was asked once per distinct code (plus
// at most the worker's concurrency for calls in flight at a SIGKILL), and
// prints its figures (docs/reliability.md).
package chaos
