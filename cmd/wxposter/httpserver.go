package main

import (
	"net/http"
	"time"
)

// HTTP limits of the producer and the simulator. ReadTimeout covers the
// headers and the body: a client that sends headers and never the body is
// cut off after it, instead of holding a connection indefinitely (issue 9).
// It does not limit long polls, which only write.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 45 * time.Second // above the 30 s ?wait limit
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
)

// newHTTPServer returns the server for h with the limits above. A handler
// that can Drain (the producer) is told when shutdown starts, so that its
// long polls answer at once instead of holding up the exit.
func newHTTPServer(h http.Handler) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
	if d, ok := h.(interface{ Drain() }); ok {
		srv.RegisterOnShutdown(d.Drain)
	}
	return srv
}
