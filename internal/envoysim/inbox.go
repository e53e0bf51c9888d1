package envoysim

import (
	"errors"
	"sync"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
)

var errTimeout = errors.New("message timeout")

// inbox drains the stream in the background so a server answering many
// STREAMED chunks never blocks on flow control while the harness is still
// sending, as Envoy's event loop never does.
type inbox struct {
	mu     sync.Mutex
	queue  []*extprocv3.ProcessingResponse
	err    error
	notify chan struct{}
	done   chan struct{}
}

func newInbox(s extprocv3.ExternalProcessor_ProcessClient) *inbox {
	in := &inbox{notify: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(in.done)
		for {
			r, err := s.Recv()
			in.mu.Lock()
			if err != nil {
				in.err = err
			} else {
				in.queue = append(in.queue, r)
			}
			in.mu.Unlock()
			select {
			case in.notify <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	return in
}

// next returns the next answer, the stream's terminal error, or errTimeout.
func (in *inbox) next(timeout time.Duration) (*extprocv3.ProcessingResponse, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		in.mu.Lock()
		if len(in.queue) > 0 {
			r := in.queue[0]
			in.queue = in.queue[1:]
			in.mu.Unlock()
			return r, nil
		}
		err := in.err
		in.mu.Unlock()
		if err != nil {
			return nil, err
		}
		select {
		case <-in.notify:
		case <-t.C:
			return nil, errTimeout
		}
	}
}

// pending drains answers already received without waiting.
func (in *inbox) pending() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	n := len(in.queue)
	in.queue = nil
	return n
}

// wait blocks until the stream ends and returns its terminal error.
func (in *inbox) wait(timeout time.Duration) error {
	select {
	case <-in.done:
	case <-time.After(timeout):
		return errTimeout
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.err
}
