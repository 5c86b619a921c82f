// Package imagesrc gets the images a poster draws: a Loader reads a URL from
// our own bucket, from a data: URI or, through a Fetcher, from the network,
// and keeps decoded images in memory and fetched bytes in object storage.
// The Fetcher enforces the SSRF policy (allowed hosts, public addresses only,
// checked again at dial time), size and time limits; Decode refuses
// decompression bombs before allocating pixels.
package imagesrc
