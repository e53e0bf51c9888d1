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
	key []byte // reused across the object's keys: no allocation per key
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
			// SIMD searches: JSON strings are most of a JSON body.
			k := len(b)
			if q := bytes.IndexByte(b[i:], '"'); q >= 0 {
				k = i + q
			}
			if e := bytes.IndexByte(b[i:k], '\\'); e >= 0 {
				k = i + e
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
				top := &j.stack[len(j.stack)-1]
				top.key = append(top.key[:0], j.key...)
			}
			continue
		}
		switch b[i] {
		case ' ', '\n', '\r', '\t':
			// indentation of pretty-printed JSON
			for i+1 < len(b) && (b[i+1] == ' ' || b[i+1] == '\n' || b[i+1] == '\r' || b[i+1] == '\t') {
				i++
			}
		case '"':
			j.inStr = true
			j.isKey = len(j.stack) > 0 && j.stack[len(j.stack)-1].obj && j.expectKey && j.over == 0
			j.key = j.key[:0]
		case '{', '[':
			if len(j.stack) >= maxJSONDepth {
				j.over++
				continue
			}
			if len(j.stack) < cap(j.stack) {
				j.stack = j.stack[:len(j.stack)+1]
				top := &j.stack[len(j.stack)-1]
				top.obj, top.key, top.idx = b[i] == '{', top.key[:0], 0
			} else {
				j.stack = append(j.stack, jsonFrame{obj: b[i] == '{'})
			}
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
			if len(f.key) == 0 {
				continue
			}
			if plainKey(f.key) {
				b.WriteByte('.')
				b.Write(f.key)
			} else {
				b.WriteString("[")
				b.WriteString(strconv.Quote(string(f.key)))
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

func plainKey(k []byte) bool {
	return bytes.IndexFunc(k, func(r rune) bool { return !(r == '_' || r == '-' || isAlnum(byte(r)) && r < 128) }) < 0
}

// lastKey is the innermost object key on the path (nil at the top level).
func (j *jsonPath) lastKey() []byte {
	for i := len(j.stack) - 1; i >= 0; i-- {
		if j.stack[i].obj && len(j.stack[i].key) > 0 {
			return j.stack[i].key
		}
	}
	return nil
}

// errorKeys are the fields APIs report failures in (compared in lower
// case without '_' and '-'): an exception there is the API's own error;
// in an issue's "body" or a post's "text" it is quoted.
var errorKeys = map[string]bool{"error": true, "errors": true, "err": true, "message": true, "msg": true, "detail": true,
	"details": true, "exception": true, "exceptions": true, "trace": true, "traceback": true, "stack": true, "stacktrace": true,
	"cause": true, "reason": true, "debug": true, "errormessage": true, "errordescription": true, "developermessage": true,
	"exceptionmessage": true, "innerexception": true, "faultstring": true, "fault": true}

func errorKey(k []byte) bool {
	if len(k) == 0 || len(k) > 40 {
		return false
	}
	var b [40]byte
	n := 0
	for _, c := range k {
		if c == '_' || c == '-' {
			continue
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[n] = c
		n++
	}
	return errorKeys[string(b[:n])]
}
