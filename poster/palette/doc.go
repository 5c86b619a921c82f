// Package palette is the model of a Painter palette, the JSON format of
// Kujiale's Painter that wxposter templates are written in (see
// docs/templates.md): Parse validates one into a Palette of Views with their
// CSS, Fill puts a job's data into its {{placeholders}}.
//
// It knows the format and nothing about pixels: lengths (rpx, px, %, and
// calc() over earlier views' boxes) are kept as expressions and resolved with
// an Env at render time; colours and gradients are parsed into Paint specs
// that package poster draws. Every rule a palette breaks is an *Error naming
// the JSON path.
package palette
