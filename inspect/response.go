package inspect

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/bulwark-waf/bulwark/internal/decode"
	"github.com/bulwark-waf/bulwark/model/leak"
)

// LeakAction is what a response whose body leaks one class of data gets.
type LeakAction string

// The leak actions, weakest first.
const (
	// LeakLog writes the audit line and counts it; the response is
	// unchanged and Envoy's metadata says allow.
	LeakLog LeakAction = "log"
	// LeakFlag is LeakLog plus the verdict in Envoy's metadata.
	LeakFlag LeakAction = "flag"
	// LeakMask redacts the matched secrets and numbers in the body, where
	// the processing mode lets Bulwark replace it; elsewhere it blocks if it
	// can, or flags.
	LeakMask LeakAction = "mask"
	// LeakBlock replaces the response with an error, where the processing
	// mode still allows it (BUFFERED, or FULL_DUPLEX_STREAMED before any
	// byte was released); elsewhere it flags.
	LeakBlock LeakAction = "block"
)

// LeakActions lists the valid actions.
var LeakActions = []LeakAction{LeakLog, LeakFlag, LeakMask, LeakBlock}

func (a LeakAction) rank() int {
	for i, x := range LeakActions {
		if x == a {
			return i + 1
		}
	}
	return 0
}

// ResponsePolicy is how one route's responses are inspected.
type ResponsePolicy struct {
	// Inspect runs the leakage model on response bodies.
	Inspect bool
	// Threshold: a class score at or below it is a leak (1..98).
	Threshold int
	// Action applies to every class Actions does not name.
	Action LeakAction
	// Actions are per-class actions (secret, pii, error, source).
	Actions map[string]LeakAction
}

// flagsCRSOutbound reports whether CRS's outbound threshold is reported
// rather than enforced: response inspection is on and does not block.
func (p ResponsePolicy) flagsCRSOutbound() bool { return p.Inspect && p.Action != LeakBlock }

// ActionFor is the action for a leak of class.
func (p ResponsePolicy) ActionFor(class string) LeakAction {
	if a, ok := p.Actions[class]; ok {
		return a
	}
	return p.Action
}

// Validate names the bad field.
func (p ResponsePolicy) Validate() error {
	if !p.Inspect {
		return nil
	}
	if p.Threshold < 1 || p.Threshold > 98 {
		return fmt.Errorf("%w: response threshold %d is outside 1..98", ErrInvalid, p.Threshold)
	}
	if p.Action.rank() == 0 {
		return fmt.Errorf("%w: response action %q is not one of log, flag, mask, block", ErrInvalid, p.Action)
	}
	for c, a := range p.Actions {
		if a.rank() == 0 {
			return fmt.Errorf("%w: response action for %s %q is not one of log, flag, mask, block", ErrInvalid, c, a)
		}
	}
	return nil
}

// Replace says what the processing mode still lets Bulwark do with the
// response when its body has been judged.
type Replace struct {
	// Block: an immediate response can still replace the response.
	Block bool
	// Body: the body can still be rewritten (mask).
	Body bool
}

// leakClearScore: a response whose every leakage class scores above it
// (nothing listed as a location) lets the leakage model overrule CRS's
// outbound threshold under a response policy that does not block.
const leakClearScore = 50

// LeakReport is the leakage model's view of a response.
type LeakReport struct {
	Scores leak.Scores
	// Leaks are the classes at or below the threshold, worst first.
	Leaks []string
	// Action is the strongest action of those classes, after what the
	// processing mode allows.
	Action LeakAction
	// Note says why the action was weakened or the body not fully
	// inspected, "" when neither.
	Note string
}

// clean reports that the leakage model read the whole body, as it
// arrived, and no class scores leakClearScore or less.
func (lr *LeakReport) clean() bool {
	return lr != nil && lr.Note == "" && len(lr.Leaks) == 0 && lr.Scores.Complete && !lr.Scores.Skipped && lr.Scores.Overall > leakClearScore
}

// responseScan is the streaming side of response inspection: the decoder
// (for Content-Encoding), the leakage scanner and what is kept for masking.
type responseScan struct {
	dec     *decode.Decoder
	scan    *leak.Scanner
	coraza  bool // decoded bytes also go to Coraza
	keep    bool // keep the decoded body for mask
	kept    []byte
	keepMax int
	keepCut bool
	note    string
	x       *Exchange
	it      *Interruption // a Coraza interruption while writing
	err     error
}

// Write takes decoded bytes.
func (s *responseScan) Write(p []byte) (int, error) {
	if s.scan != nil {
		_, _ = s.scan.Write(p)
	}
	if s.coraza && s.it == nil {
		it, _, err := s.x.tx.WriteResponseBody(p)
		if err != nil && s.err == nil {
			s.err = fmt.Errorf("writing response body to coraza: %w", err)
		}
		if it != nil {
			s.it = s.x.interrupted(Outbound, it)
		}
	}
	if s.keep && !s.keepCut {
		if len(s.kept)+len(p) > s.keepMax {
			s.keepCut = true
			s.kept = nil
		} else {
			s.kept = append(s.kept, p...)
		}
	}
	return len(p), nil
}

// startResponseScan sets up decoding and scanning from the response
// status and headers (the status is one of the leakage model's signals). It returns the headers Coraza should see: without
// Content-Encoding when Bulwark decodes the body for it, so CRS's outbound
// rules read the decoded text (they skip encoded bodies).
func (x *Exchange) startResponseScan(status int, headers [][2]string) [][2]string {
	var ctype, cenc string
	for _, kv := range headers {
		switch kv[0] {
		case "content-type":
			ctype = kv[1]
		case "content-encoding":
			cenc = kv[1]
		}
	}
	pol := x.report.Plan.Policy.Response
	o := x.core.opts
	s := &responseScan{x: x}
	if o.Leak != nil && pol.Inspect {
		sc := o.Leak.NewScannerOptions(x.ctx, ctype, leak.Options{Types: o.Types, Status: status})
		if sc.Kind() != decode.Skip {
			s.scan = sc
			for _, c := range leak.Classes {
				if pol.ActionFor(c) == LeakMask {
					s.keep, s.keepMax = true, x.eng.Config().ResponseBodyLimit
				}
			}
		}
	}
	if s.scan == nil && strings.TrimSpace(cenc) == "" {
		x.resp = nil
		return headers
	}
	if strings.TrimSpace(cenc) != "" {
		d, err := decode.New(cenc, o.Decode, s)
		if err != nil {
			// The body cannot be read: say so, and let Coraza see it as
			// it is (CRS skips encoded bodies).
			s.note = "not inspected: " + err.Error()
			s.scan = nil
			x.resp = s
			return headers
		}
		s.dec = d
		plain := make([][2]string, 0, len(headers))
		for _, kv := range headers {
			if kv[0] != "content-encoding" {
				plain = append(plain, kv)
			}
		}
		headers = plain
	}
	x.resp = s
	return headers
}

// writeResponse routes a raw response chunk through the decoder.
func (s *responseScan) writeRaw(p []byte) {
	if s.dec == nil {
		_, _ = s.Write(p)
		return
	}
	if _, err := s.dec.Write(p); err != nil {
		s.stopDecoding(err)
	}
}

func (s *responseScan) stopDecoding(err error) {
	if s.note == "" {
		s.note = "inspection stopped: " + err.Error()
	}
	if errors.Is(err, decode.ErrBomb) {
		s.note = "decompression limit: " + err.Error()
	}
	_ = s.dec.Close()
	s.dec = nil
	s.scan = nil
	s.keepCut = true
}

// finishLeak closes the scan and decides the leak action.
func (x *Exchange) finishLeak(rep Replace) {
	s := x.resp
	if s == nil {
		return
	}
	if s.dec != nil {
		if err := s.dec.Close(); err != nil {
			s.stopDecoding(err)
		}
	}
	lr := &LeakReport{Note: s.note}
	if s.scan == nil {
		if s.note != "" {
			lr.Scores = leak.Scores{Overall: 99, Class: map[string]int{}}
			x.report.Leak = lr
		}
		return
	}
	_ = s.scan.Close()
	lr.Scores = s.scan.Result()
	pol := x.report.Plan.Policy.Response
	for _, c := range leak.Classes {
		if v, ok := lr.Scores.Class[c]; ok && v <= pol.Threshold {
			lr.Leaks = append(lr.Leaks, c)
		}
	}
	sort.SliceStable(lr.Leaks, func(a, b int) bool { return lr.Scores.Class[lr.Leaks[a]] < lr.Scores.Class[lr.Leaks[b]] })
	for _, c := range lr.Leaks {
		if a := pol.ActionFor(c); a.rank() > lr.Action.rank() {
			lr.Action = a
		}
	}
	if lr.Action == LeakMask && (!rep.Body || s.keepCut || lr.Scores.SpansTruncated) {
		// The body cannot be rewritten here (or not all of it was kept or
		// matched): blocking is the safe fallback.
		lr.Note = joinNote(lr.Note, "mask not possible in this processing mode or past the body limit; blocking instead")
		lr.Action = LeakBlock
	}
	if lr.Action == LeakBlock && !rep.Block {
		lr.Note = joinNote(lr.Note, "block not possible: the response was already being released; flagged")
		lr.Action = LeakFlag
	}
	if lr.Action == LeakMask {
		x.report.Masked = leak.Mask(s.kept, lr.Scores.Spans, lr.Leaks...)
	}
	x.report.Leak = lr
	x.core.opts.Metrics.leak(lr)
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
