package producer

import (
	"encoding/json"
	"net/http"
)

// apiError is the body of every 4xx/5xx answer.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func writeError(w http.ResponseWriter, status int, code, msg, field string) {
	writeJSON(w, status, map[string]apiError{"error": {Code: code, Message: msg, Field: field}})
}

// invalid answers 400 naming the field and the rule it breaks.
func invalid(w http.ResponseWriter, field, rule string) {
	writeError(w, http.StatusBadRequest, "invalid_request", field+" "+rule, field)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
