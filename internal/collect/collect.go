package collect

import (
	"bufio"
	"context"
	"crypto/hmac"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config bounds the store.
type Config struct {
	// Dir holds the sample files (samples-<unix nanos>.jsonl).
	Dir string
	// Rate is the fraction of exchanges sampled, 0..1.
	Rate float64
	// MaxBytes bounds the store; the oldest files go first.
	MaxBytes int64
	// FileBytes is the size at which a file is rotated.
	FileBytes int64
	// RedactHeaders are header names whose values are hashed.
	RedactHeaders []string
	// RedactFields are substrings of field names (query, form and JSON
	// keys, cookies) whose values are hashed.
	RedactFields []string
	// Queue is how many records may wait for the writer.
	Queue int
}

// Evidence is what Bulwark concluded about the exchange.
type Evidence struct {
	Policy string `json:"policy,omitempty"`
	Mode   string `json:"mode"`
	// Decision is the request action (allow, flag, block, would_block).
	Decision string `json:"decision"`
	Anomaly  int    `json:"anomaly_score"`
	// Rules are the logged CRS and custom rules that matched, with the
	// paranoia level of each CRS rule (0 for rules without one), at every
	// level run for detection.
	Rules []Rule `json:"rules,omitempty"`
	// Model is the model's overall and per-class scores, nil when it did
	// not run.
	Model *Scores `json:"model,omitempty"`
	// Candidate is the shadow candidate model's scores, when one is loaded.
	Candidate *Scores `json:"candidate,omitempty"`
}

// Rule is one matched rule.
type Rule struct {
	ID       int `json:"id"`
	Paranoia int `json:"paranoia_level,omitempty"`
}

// Scores are a model's scores.
type Scores struct {
	Overall int            `json:"overall"`
	Class   map[string]int `json:"class"`
}

// Record is one sampled request, in the JSON Lines format `extproc eval`
// and `extproc learn` read, plus Bulwark's evidence.
type Record struct {
	ID       string            `json:"id"`
	Time     time.Time         `json:"time"`
	Source   string            `json:"source,omitempty"`
	Method   string            `json:"method"`
	URI      string            `json:"uri"`
	Headers  map[string]string `json:"headers"`
	Body     string            `json:"body"`
	Redacted []string          `json:"redacted,omitempty"`
	Bulwark  Evidence          `json:"bulwark"`
}

// Store samples and writes records.
type Store struct {
	cfg     Config
	key     []byte
	ch      chan Record
	done    chan struct{}
	dropped prometheus.Counter
	written prometheus.Counter
	rng     sync.Mutex
	r       *rand.Rand
	closed  atomic.Bool
	once    sync.Once
	err     atomic.Value
}

// ErrConfig is wrapped by configuration errors.
var ErrConfig = errors.New("collect")

// Open creates Dir, loads (or makes) the hashing key kept beside the
// samples, and starts the writer. reg may be nil.
func Open(cfg Config, reg prometheus.Registerer) (*Store, error) {
	if cfg.Dir == "" {
		return nil, fmt.Errorf("%w: learn.dir is required", ErrConfig)
	}
	if cfg.Rate < 0 || cfg.Rate > 1 {
		return nil, fmt.Errorf("%w: learn.sample_rate %v is outside 0..1", ErrConfig, cfg.Rate)
	}
	if cfg.MaxBytes <= 0 || cfg.FileBytes <= 0 || cfg.FileBytes > cfg.MaxBytes {
		return nil, fmt.Errorf("%w: learn.max_bytes (%d) and learn.file_bytes (%d) must be positive, file_bytes <= max_bytes", ErrConfig, cfg.MaxBytes, cfg.FileBytes)
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 1024
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("%w: learn.dir: %w", ErrConfig, err)
	}
	key, err := loadKey(filepath.Join(cfg.Dir, ".hash-key"))
	if err != nil {
		return nil, err
	}
	var seed [16]byte
	_, _ = crand.Read(seed[:])
	s := &Store{cfg: cfg, key: key, ch: make(chan Record, cfg.Queue), done: make(chan struct{}),
		r:       rand.New(rand.NewPCG(binaryU64(seed[:8]), binaryU64(seed[8:]))),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "bulwark_samples_dropped_total", Help: "Sampled records dropped because the writer fell behind."}),
		written: prometheus.NewCounter(prometheus.CounterOpts{Name: "bulwark_samples_written_total", Help: "Sampled records written to learn.dir."}),
	}
	if reg != nil {
		reg.MustRegister(s.dropped, s.written)
	}
	go s.writer()
	return s, nil
}

func binaryU64(b []byte) uint64 {
	var n uint64
	for _, c := range b {
		n = n<<8 | uint64(c)
	}
	return n
}

// loadKey keeps one random HMAC key per store, so equal values hash
// equally across restarts and nobody without the key can test guesses.
func loadKey(path string) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return b, nil
	}
	key := make([]byte, 32)
	if _, err := crand.Read(key); err != nil {
		return nil, fmt.Errorf("%w: hashing key: %w", ErrConfig, err)
	}
	if err := os.WriteFile(path, key, 0o600); err != nil {
		return nil, fmt.Errorf("%w: hashing key: %w", ErrConfig, err)
	}
	return key, nil
}

// Sample reports whether this exchange is sampled. It is cheap: one
// locked random draw.
func (s *Store) Sample() bool {
	if s == nil || s.cfg.Rate <= 0 || s.closed.Load() {
		return false
	}
	s.rng.Lock()
	defer s.rng.Unlock()
	return s.r.Float64() < s.cfg.Rate
}

// Offer queues a record for writing without blocking; a full queue drops
// it (and counts the drop).
func (s *Store) Offer(r Record) {
	if s == nil || s.closed.Load() {
		return
	}
	select {
	case s.ch <- r:
	default:
		s.dropped.Inc()
	}
}

// Hash is the keyed hash of v that replaces a redacted value.
func (s *Store) Hash(v string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(v))
	return "hmac-sha256:" + hex.EncodeToString(m.Sum(nil)[:12])
}

// RedactHeader reports whether header name's value is redacted.
func (s *Store) RedactHeader(name string) bool {
	for _, h := range s.cfg.RedactHeaders {
		if strings.EqualFold(h, name) {
			return true
		}
	}
	return false
}

// RedactField reports whether a field called name is redacted.
func (s *Store) RedactField(name string) bool {
	n := strings.ToLower(name)
	for _, f := range s.cfg.RedactFields {
		if f != "" && strings.Contains(n, strings.ToLower(f)) {
			return true
		}
	}
	return false
}

// Close stops taking records, writes those queued and waits for the
// writer; it returns the writer's first error.
func (s *Store) Close(ctx context.Context) error {
	if s == nil {
		return nil
	}
	s.once.Do(func() {
		s.closed.Store(true)
		close(s.ch)
	})
	select {
	case <-s.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err, ok := s.err.Load().(error); ok {
		return err
	}
	return nil
}

func (s *Store) writer() {
	defer close(s.done)
	var f *os.File
	var w *bufio.Writer
	var size int64
	fail := func(err error) {
		if s.err.Load() == nil {
			s.err.Store(err)
		}
	}
	closeFile := func() {
		if f != nil {
			if err := w.Flush(); err != nil {
				fail(err)
			}
			if err := f.Close(); err != nil {
				fail(err)
			}
			f = nil
		}
	}
	flush := time.NewTicker(time.Second)
	defer flush.Stop()
	for {
		select {
		case r, ok := <-s.ch:
			if !ok {
				closeFile()
				return
			}
			line, err := json.Marshal(r)
			if err != nil {
				fail(err)
				continue
			}
			if f == nil || size+int64(len(line))+1 > s.cfg.FileBytes {
				closeFile()
				if err := s.prune(int64(len(line)) + 1); err != nil {
					fail(err)
				}
				name := filepath.Join(s.cfg.Dir, fmt.Sprintf("samples-%d.jsonl", time.Now().UnixNano()))
				if f, err = os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o640); err != nil {
					fail(err)
					f = nil
					s.dropped.Inc()
					continue
				}
				w, size = bufio.NewWriter(f), 0
			}
			_, _ = w.Write(line)
			_ = w.WriteByte('\n')
			size += int64(len(line)) + 1
			s.written.Inc()
		case <-flush.C:
			if f != nil {
				_ = w.Flush()
			}
		}
	}
}

// prune deletes the oldest sample files until room more bytes fit under
// MaxBytes.
func (s *Store) prune(room int64) error {
	names, err := filepath.Glob(filepath.Join(s.cfg.Dir, "samples-*.jsonl"))
	if err != nil {
		return err
	}
	sort.Strings(names)
	var total int64
	sizes := make([]int64, len(names))
	for i, n := range names {
		if st, err := os.Stat(n); err == nil {
			sizes[i] = st.Size()
			total += st.Size()
		}
	}
	for i := 0; total+room+s.cfg.FileBytes > s.cfg.MaxBytes && i < len(names); i++ {
		if err := os.Remove(names[i]); err != nil {
			return err
		}
		total -= sizes[i]
	}
	return nil
}
