package inspect

import (
	"container/list"
	"sync"
	"time"
)

// Memory remembers, per client key (IP or session), the attacks seen in a
// sliding window. It is bounded: past Size keys the least recently seen
// client is forgotten. It lives outside any reloadable config, so a reload
// does not wipe it.
type Memory struct {
	mu     sync.Mutex
	size   int
	window time.Duration
	now    func() time.Time
	ll     *list.List
	items  map[string]*list.Element
}

type entry struct {
	key      string
	attacks  []time.Time // oldest first, at most maxAttacksKept
	lastSeen time.Time
}

// maxAttacksKept bounds each entry: counts above it change nothing.
const maxAttacksKept = 16

// NewMemory keeps up to size clients and counts attacks within window.
func NewMemory(size int, window time.Duration) *Memory {
	return &Memory{size: size, window: window, now: time.Now, ll: list.New(), items: map[string]*list.Element{}}
}

// Attacks returns how many attacks key sent within the window.
func (m *Memory) Attacks(key string) int {
	if m == nil || key == "" {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	el, ok := m.items[key]
	if !ok {
		return 0
	}
	e := el.Value.(*entry)
	m.expire(e)
	return len(e.attacks)
}

// Record notes one request from key, and whether it was an attack.
func (m *Memory) Record(key string, attack bool) {
	if m == nil || key == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	el, ok := m.items[key]
	if !ok {
		if !attack {
			// Clean clients cost nothing: only attackers are remembered.
			return
		}
		el = m.ll.PushFront(&entry{key: key})
		m.items[key] = el
		for m.ll.Len() > m.size {
			old := m.ll.Back()
			m.ll.Remove(old)
			delete(m.items, old.Value.(*entry).key)
		}
	} else {
		m.ll.MoveToFront(el)
	}
	e := el.Value.(*entry)
	e.lastSeen = now
	m.expire(e)
	if attack {
		if len(e.attacks) == maxAttacksKept {
			e.attacks = e.attacks[1:]
		}
		e.attacks = append(e.attacks, now)
	}
}

// Len is the number of clients remembered.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ll.Len()
}

func (m *Memory) expire(e *entry) {
	cut := m.now().Add(-m.window)
	i := 0
	for i < len(e.attacks) && e.attacks[i].Before(cut) {
		i++
	}
	e.attacks = e.attacks[i:]
}
