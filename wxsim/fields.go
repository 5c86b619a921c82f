package wxsim

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
)

// maxBody bounds request bodies; WeChat bodies are a few hundred bytes.
const maxBody = 1 << 20

// fields is a JSON object body whose members are type-checked one by one:
// WeChat answers 47001 to a number sent as a string ("width":"430") or a
// bool sent as a string, and encoding/json into a struct would hide which.
// Unknown members are ignored, like WeChat does. A null member counts as
// absent.
type fields map[string]json.RawMessage

// readFields reads a JSON object body; anything else is 47001.
func readFields(r *http.Request) (fields, *apiError) {
	if r.Body == nil {
		return nil, errDataFormat
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(data) > maxBody {
		return nil, errDataFormat
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return nil, errDataFormat
	}
	var f fields
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, errDataFormat
	}
	return f, nil
}

// jsonKind is the JSON type of a raw member, by its first byte.
func jsonKind(raw json.RawMessage) byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0
	}
	switch c := raw[0]; {
	case c == '"', c == '{', c == '[', c == 'n':
		return c
	case c == 't', c == 'f':
		return 'b'
	default:
		return '0' // number
	}
}

// raw returns the member and whether it is present and not null.
func (f fields) raw(name string) (json.RawMessage, bool) {
	v, ok := f[name]
	if !ok || jsonKind(v) == 'n' {
		return nil, false
	}
	return v, true
}

func (f fields) str(name string) (string, bool, *apiError) {
	v, ok := f.raw(name)
	if !ok {
		return "", false, nil
	}
	var s string
	if jsonKind(v) != '"' || json.Unmarshal(v, &s) != nil {
		return "", true, errDataFormat
	}
	return s, true, nil
}

func (f fields) boolean(name string) (bool, bool, *apiError) {
	v, ok := f.raw(name)
	if !ok {
		return false, false, nil
	}
	var b bool
	if jsonKind(v) != 'b' || json.Unmarshal(v, &b) != nil {
		return false, true, errDataFormat
	}
	return b, true, nil
}

func (f fields) number(name string) (float64, bool, *apiError) {
	v, ok := f.raw(name)
	if !ok {
		return 0, false, nil
	}
	var n float64
	if jsonKind(v) != '0' || json.Unmarshal(v, &n) != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, true, errDataFormat
	}
	return n, true, nil
}

func (f fields) object(name string) (fields, bool, *apiError) {
	v, ok := f.raw(name)
	if !ok {
		return nil, false, nil
	}
	var o fields
	if jsonKind(v) != '{' || json.Unmarshal(v, &o) != nil {
		return nil, true, errDataFormat
	}
	return o, true, nil
}
