// Package decode turns response bodies as Envoy delivers them (chunk by
// chunk, compressed with any stack of gzip, deflate, br and zstd) into the
// decoded bytes the leakage model reads, and says which bodies are worth
// reading at all.
//
// A Decoder is a push decoder: the caller writes compressed chunks in the
// order they arrive and the decoded bytes are written, as they become
// available, to the io.Writer given to New. Nothing is buffered beyond one
// 32 KiB output buffer and the decompressors' own windows, so memory stays
// bounded however long the body is. The decompressors of
// github.com/klauspost/compress and github.com/andybalholm/brotli are pull
// readers; they run inside a coroutine (iter.Pull) that is suspended
// whenever they need more input, so there is no goroutine to leak as long
// as Close is called, and Close is idempotent.
//
// Limits refuse decompression bombs: a body whose decoded size passes
// MaxOutput, or whose decoded/compressed ratio passes MaxRatio, fails with a
// *LimitError (errors.Is ErrBomb). Unknown encodings, corrupt and truncated
// input fail with ErrUnknownEncoding, ErrCorrupt and ErrTruncated. A
// decoder never panics on its input.
//
// Types classifies content types: a configurable skip list for types that
// cannot carry text (images, audio, video, fonts, archives), everything else
// inspected, and a missing or generic type (application/octet-stream)
// sniffed from the first bytes.
package decode
