package leak

import (
	"bytes"
	"encoding/binary"
	"math/bits"
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

// jsonStructural marks the bytes the tracker acts on outside strings;
// whitespace and scalars are passed over in a tight loop.
var jsonStructural = func() (t [256]bool) {
	for _, c := range []byte(`"{}[],:`) {
		t[c] = true
	}
	return t
}()

func (j *jsonPath) feed(b []byte) {
	i := 0
	for i < len(b) {
		if j.inStr {
			if j.esc {
				j.esc = false
				i++
				continue
			}
			// JSON strings are most of a JSON body: find their end eight
			// bytes at a time.
			k := strStop(b, i)
			if j.isKey && len(j.key) < maxKeyLen {
				j.key = append(j.key, b[i:min(k, i+maxKeyLen-len(j.key))]...)
			}
			if k >= len(b) {
				return
			}
			i = k + 1
			if b[k] == '\\' {
				j.esc = true
				continue
			}
			j.inStr = false
			if j.isKey && len(j.stack) > 0 && j.over == 0 {
				// the frame takes the key's buffer, and the key the
				// frame's old one (reset when the next string opens)
				top := &j.stack[len(j.stack)-1]
				top.key, j.key = j.key, top.key[:0]
			}
			continue
		}
		for i < len(b) && !jsonStructural[b[i]] {
			i++
		}
		if i >= len(b) {
			return
		}
		c := b[i]
		i++
		switch c {
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
				top.obj, top.key, top.idx = c == '{', top.key[:0], 0
			} else {
				j.stack = append(j.stack, jsonFrame{obj: c == '{'})
			}
			j.expectKey = c == '{'
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

const (
	swarOnes = 0x0101010101010101
	swarHigh = 0x8080808080808080
)

// strStop is the offset of the first '"' or '\\' in b[i:], or len(b). A
// byte of x^c is zero where x has c; the lowest byte flagged by the
// zero-byte test below is exactly the first such byte (borrows only run
// upwards from a zero byte, so only bytes above it can be flagged
// falsely).
func strStop(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		q, e := x^('"'*swarOnes), x^('\\'*swarOnes)
		if m := (q-swarOnes)&^q&swarHigh | (e-swarOnes)&^e&swarHigh; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i < len(b); i++ {
		if b[i] == '"' || b[i] == '\\' {
			return i
		}
	}
	return len(b)
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
