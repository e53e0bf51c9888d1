// Package collect samples inspected traffic into a bounded, rotating local
// store of JSON Lines, for training a site-adapted model on traffic the
// rules labelled (`extproc learn`). Records are redacted before they are
// written (credentials, cookies and fields named like secrets become keyed
// hashes, so equal values stay equal), carry Bulwark's own evidence (CRS
// matches with their paranoia levels, the model's scores, the decision),
// and are written by one goroutine off the request path: when it falls
// behind, records are dropped and counted, never queued without bound.
package collect
