// Package text lays out and rasterises poster text: it loads the CJK and
// colour emoji fonts (Fonts), shapes runs of styled text with go-text
// (HarfBuzz), picks the emoji font for emoji sequences, breaks lines with CJK
// rules (kinsoku, no stray "…") into a Layout, and rasterises glyphs into a
// GlyphCache shared by all renders.
//
// It draws nothing onto a poster: package poster places the Layout's glyphs
// and decorations. Fonts and GlyphCache are safe for concurrent use; Faces,
// the per-render shaping state, is not.
package text
