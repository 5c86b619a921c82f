// Package previewpage holds the template preview page the producer serves at
// /preview/: plain HTML, CSS and JavaScript, no build step, no CDN.
package previewpage

import "embed"

// Files are the page's files: index.html, preview.css, preview.js.
//
//go:embed index.html preview.css preview.js
var Files embed.FS
