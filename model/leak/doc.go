// Package leak is the response-leakage model: it scores a decoded
// response body, streamed chunk by chunk, from 1 (certainly a leak) to 99
// (clean) for each leakage class — secret, pii, error, source — and
// overall, says where in the body the evidence is (a JSON path or a byte
// offset), and returns the spans of matched secrets and personal data so
// that a mask action can redact them (Mask).
//
// Detection is two-staged. A literal prefilter (a bitset over byte pairs
// that can start anything a detector looks for) passes over the body;
// only where it fires do the detectors run, and they validate what they
// find the way the real thing is structured: Luhn and issuer prefixes for
// cards, mod-97 and country lengths for IBANs, SSA rules for SSNs, the
// base32 shape of AWS key ids, a JSON header with "alg" for JWTs. Their
// counts, densities (per KiB, per line) and the body's shape form the
// feature vector; a body in which no detector fired is clean without
// consulting the trees. Otherwise one binary LightGBM ensemble per class,
// trained in Python (model/leak/train) and served by leaves, gives a raw
// score; a sigmoid and the class's isotonic calibration (fitted on a
// validation split the trees never saw) turn it into a probability, and
// ScoreFromProb — the request model's mapping, 99 − 98p rounded and
// clamped to 1–99 — into the score. Overall is the lowest class score.
//
// A Scanner keeps a bounded window: each position is scanned with 4 KiB of
// lookahead, and 128 bytes of already-scanned text stay in view, so a
// token split between two chunks is seen whole, while memory stays
// constant however long the body is.
package leak
