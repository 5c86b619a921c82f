// Package openapi holds the OpenAPI 3.1 document of wxposter's HTTP API
// (openapi.json beside this file), which the producer serves at
// /openapi.json. Tests check that it covers every route the producer
// registers and that real answers validate against it.
package openapi

import _ "embed"

// Document is openapi.json.
//
//go:embed openapi.json
var Document []byte
