package leak

import (
	"bytes"
	"strconv"
	"strings"
)

// jsonPath follows a streamed JSON text far enough to name the path of
// any byte: a stack of containers with the current key or index. It
// never fails: malformed JSON gives a best-effort path. Depth and key
// length are bounded.
type jsonPath struct {
	stack     []jsonFrame
	inStr     bool
	esc       bool
	isKey     bool
	key       []byte
	expectKey bool
	over      int // depth beyond the bound
}

type jsonFrame struct {
	obj bool
	key string
	idx int
}

const (
	maxJSONDepth = 32
	maxKeyLen    = 64
)

func (j *jsonPath) feed(b []byte) {
	for i := 0; i < len(b); i++ {
		if j.inStr {
			if j.esc {
				j.esc = false
				continue
			}
			k := i
			for k < len(b) && b[k] != '"' && b[k] != '\\' {
				k++
			}
			if j.isKey && len(j.key) < maxKeyLen {
				j.key = append(j.key, b[i:min(k, i+maxKeyLen-len(j.key))]...)
			}
			if k >= len(b) {
				return
			}
			i = k
			if b[k] == '\\' {
				j.esc = true
				continue
			}
			j.inStr = false
			if j.isKey && len(j.stack) > 0 && j.over == 0 {
				j.stack[len(j.stack)-1].key = string(j.key)
			}
			continue
		}
		switch b[i] {
		case '"':
			j.inStr = true
			j.isKey = len(j.stack) > 0 && j.stack[len(j.stack)-1].obj && j.expectKey && j.over == 0
			j.key = j.key[:0]
		case '{', '[':
			if len(j.stack) >= maxJSONDepth {
				j.over++
				continue
			}
			j.stack = append(j.stack, jsonFrame{obj: b[i] == '{'})
			j.expectKey = b[i] == '{'
		case '}', ']':
			if j.over > 0 {
				j.over--
				continue
			}
			if len(j.stack) > 0 {
				j.stack = j.stack[:len(j.stack)-1]
			}
			j.expectKey = false
		case ',':
			if j.over == 0 && len(j.stack) > 0 {
				top := &j.stack[len(j.stack)-1]
				if top.obj {
					j.expectKey = true
				} else {
					top.idx++
				}
			}
		case ':':
			j.expectKey = false
		}
	}
}

func (j *jsonPath) path() string {
	var b strings.Builder
	b.WriteByte('$')
	for _, f := range j.stack {
		if f.obj {
			if f.key == "" {
				continue
			}
			if plainKey(f.key) {
				b.WriteByte('.')
				b.WriteString(f.key)
			} else {
				b.WriteString("[")
				b.WriteString(strconv.Quote(f.key))
				b.WriteString("]")
			}
			continue
		}
		b.WriteByte('[')
		b.WriteString(strconv.Itoa(f.idx))
		b.WriteByte(']')
	}
	if j.over > 0 {
		b.WriteString("...")
	}
	return b.String()
}

func plainKey(k string) bool {
	return bytes.IndexFunc([]byte(k), func(r rune) bool { return !(r == '_' || r == '-' || isAlnum(byte(r)) && r < 128) }) < 0
}
