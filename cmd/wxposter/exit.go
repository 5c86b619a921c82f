package main

import (
	"errors"
	"fmt"
)

// Exit codes, for scripts. Anything not listed is 1.
const (
	exitError       = 1   // the API could not be reached, or answered an error
	exitUsage       = 2   // bad subcommand, flag, argument or WXPOSTER_API_URL
	exitInvalid     = 3   // malformed CSV, or the API rejected the batch as invalid
	exitItemsFailed = 4   // the batch ended with failed or cancelled items
	exitUnfinished  = 5   // --timeout passed before the batch ended
	exitInterrupt   = 130 // Ctrl-C (the batch itself goes on)
)

// exitErr carries the process's exit code with its message.
type exitErr struct {
	code int
	err  error
}

func (e *exitErr) Error() string { return e.err.Error() }
func (e *exitErr) Unwrap() error { return e.err }

func withCode(code int, err error) error { return &exitErr{code: code, err: err} }

func usageErr(format string, a ...any) error { return withCode(exitUsage, fmt.Errorf(format, a...)) }

// exitCode is the code err asks for: 1 unless it says otherwise.
func exitCode(err error) int {
	if e, ok := errors.AsType[*exitErr](err); ok {
		return e.code
	}
	return exitError
}
