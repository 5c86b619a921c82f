package batchclient

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// APIError is an answer other than 2xx. Its message is the API's own (which
// names the field and the rule); it never holds the API key.
type APIError struct {
	StatusCode int
	Code       string
	Message    string
	Field      string
	// Items lists the bad items of a rejected batch (up to 100).
	Items []BadItem
}

// BadItem is one entry of a 400 to POST /v1/batches.
type BadItem struct {
	Index   int    `json:"index"`
	Key     string `json:"key,omitempty"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	s := fmt.Sprintf("%d %s", e.StatusCode, msg)
	if len(e.Items) > 0 {
		s += fmt.Sprintf(" (bad items listed: %d)", len(e.Items))
	}
	return s
}

// NotFound reports whether the API answered 404.
func (e *APIError) NotFound() bool { return e.StatusCode == http.StatusNotFound }

// Invalid reports whether the API rejected the request as bad input (4xx
// other than auth and not found): fixing the input, not retrying, helps.
func (e *APIError) Invalid() bool {
	switch e.StatusCode {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity, http.StatusConflict:
		return true
	}
	return false
}

// parseError reads the API's {"error":{…}} body. The list of bad items is
// taken from error.items, error.errors or a top-level errors, whichever the
// server sends.
func parseError(status int, body []byte) *APIError {
	e := &APIError{StatusCode: status}
	var v struct {
		Error *struct {
			Code    string    `json:"code"`
			Message string    `json:"message"`
			Field   string    `json:"field"`
			Items   []BadItem `json:"items"`
			Errors  []BadItem `json:"errors"`
		} `json:"error"`
		Errors []BadItem `json:"errors"`
	}
	if json.Unmarshal(body, &v) != nil || v.Error == nil {
		// Not the API's JSON (a proxy's page, say): keep a short excerpt.
		msg := strings.TrimSpace(string(body))
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		e.Message = msg
		return e
	}
	e.Code, e.Message, e.Field = v.Error.Code, v.Error.Message, v.Error.Field
	for _, list := range [][]BadItem{v.Error.Items, v.Error.Errors, v.Errors} {
		if len(list) > 0 {
			e.Items = list
			break
		}
	}
	return e
}
