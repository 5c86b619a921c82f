package batchcsv

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"os"

	"github.com/wxposter/wxposter/batchclient"
)

// Scan reads the whole file once and returns the line each item starts on
// (lines[i] for item i), so that the API's errors, which name item indexes,
// can be shown as lines. The first malformed row stops it.
func Scan(path string) ([]int, error) {
	var lines []int
	for _, err := range Items(path, func(line int) { lines = append(lines, line) }) {
		if err != nil {
			return nil, err
		}
	}
	return lines, nil
}

// Items reads the file's items, opening it afresh on every range (so a
// request can be sent again). seen, when not nil, is told each item's line.
// It stops at the first error, which is an *Error for a malformed file.
func Items(path string, seen func(line int)) iter.Seq2[batchclient.Item, error] {
	return func(yield func(batchclient.Item, error) bool) {
		f, err := os.Open(path)
		if err != nil {
			yield(batchclient.Item{}, err)
			return
		}
		defer f.Close()
		r, err := NewReader(f)
		if err != nil {
			yield(batchclient.Item{}, inFile(path, err))
			return
		}
		for {
			it, err := r.Read()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(batchclient.Item{}, inFile(path, err))
				return
			}
			if seen != nil {
				seen(r.Line())
			}
			if !yield(it, nil) {
				return
			}
		}
	}
}

func inFile(path string, err error) error {
	if e, ok := errors.AsType[*Error](err); ok {
		e.Path = path
		return e
	}
	return fmt.Errorf("%s: %w", path, err)
}
