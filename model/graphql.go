package model

// GraphQL documents arrive in a JSON body's "query", in a "query" argument
// of a GET, or as a whole application/graphql body; only those values, on
// a GraphQL route, are tried (graphQLRoute, graphQLField). Their syntax (braces,
// "$variables", parentheses, "...") looks like shell and NoSQL injection to
// both CRS and a lexical model, yet outside string values and comments a
// GraphQL document is made of names ([_A-Za-z][_0-9A-Za-z]*), numbers and a
// dozen punctuators, none of which can carry a quote, a tag, a slash or a
// shell separator. So a value that parses completely as an executable
// document (operations and fragments, GraphQL spec §2) is scored by its
// free text only: every string value, block string and comment becomes a
// field of its own. Anything that does not parse is scored as text, as
// before.

// maxGraphQLDepth bounds the parser's recursion; deeper documents are
// scored as text.
const maxGraphQLDepth = 64

type gqlKind uint8

const (
	gqlEOF gqlKind = iota
	gqlPunct
	gqlName
	gqlNumber
	gqlString
)

type gqlToken struct {
	kind gqlKind
	text string // the name, the punctuator, or a string's raw content
}

type gqlParser struct {
	src   string
	pos   int
	tok   gqlToken
	depth int
	// comma records a comma written without whitespace around it: see
	// graphQLStrings.
	comma bool
	bad   bool
	lits  []string
}

// graphQLStrings reports whether s is a GraphQL executable document and
// returns its string values, block strings and comments, in order.
func graphQLStrings(s string) ([]string, bool) {
	if len(s) < 3 {
		return nil, false
	}
	switch s[0] {
	case '{', 'q', 'm', 's', 'f', ' ', '\t', '\n', '\r', '#':
	default:
		return nil, false
	}
	p := &gqlParser{src: s}
	p.next()
	n := 0
	for p.tok.kind != gqlEOF && !p.bad {
		p.definition()
		n++
	}
	// A bash brace expansion ("{id,}", "{cat,/etc/passwd}" without its
	// slash) is also a GraphQL selection set, because commas are ignored
	// tokens there: a comma written tight (see next) is left to the text
	// path.
	if p.bad || n == 0 || p.comma {
		return nil, false
	}
	return p.lits, true
}

func (p *gqlParser) fail() { p.bad = true; p.tok = gqlToken{} }

// next reads the next token, skipping ignored tokens and collecting
// comments.
func (p *gqlParser) next() {
	s := p.src
	for p.pos < len(s) {
		switch c := s[p.pos]; c {
		case ' ', '\t', '\n', '\r':
			p.pos++
			continue
		case ',':
			// A comma with no whitespace on either side ({id,},
			// {cat,/etc/passwd}) is how bash brace expansion is written;
			// a document that has one is scored as text.
			if p.pos > 0 && !gqlSpace(s[p.pos-1]) && p.pos+1 < len(s) && !gqlSpace(s[p.pos+1]) || p.pos+1 == len(s) {
				p.comma = true
			}
			p.pos++
			continue
		case '#':
			end := p.pos + 1
			for end < len(s) && s[end] != '\n' && s[end] != '\r' {
				end++
			}
			if end > p.pos+1 {
				p.lits = append(p.lits, s[p.pos+1:end])
			}
			p.pos = end
			continue
		case 0xEF:
			if len(s)-p.pos >= 3 && s[p.pos+1] == 0xBB && s[p.pos+2] == 0xBF { // BOM
				p.pos += 3
				continue
			}
		}
		break
	}
	if p.pos >= len(s) {
		p.tok = gqlToken{kind: gqlEOF}
		return
	}
	start := p.pos
	c := s[p.pos]
	switch {
	case c == '!' || c == '$' || c == '&' || c == '(' || c == ')' || c == ':' || c == '=' ||
		c == '@' || c == '[' || c == ']' || c == '{' || c == '|' || c == '}':
		p.pos++
		p.tok = gqlToken{kind: gqlPunct, text: s[start:p.pos]}
	case c == '.':
		if len(s)-p.pos < 3 || s[p.pos+1] != '.' || s[p.pos+2] != '.' {
			p.fail()
			return
		}
		p.pos += 3
		p.tok = gqlToken{kind: gqlPunct, text: "..."}
	case isGQLNameStart(c):
		p.pos++
		for p.pos < len(s) && (isGQLNameStart(s[p.pos]) || s[p.pos] >= '0' && s[p.pos] <= '9') {
			p.pos++
		}
		p.tok = gqlToken{kind: gqlName, text: s[start:p.pos]}
	case c == '-' || c >= '0' && c <= '9':
		p.number()
	case c == '"':
		p.string()
	default:
		p.fail()
	}
}

func gqlSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isGQLNameStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func (p *gqlParser) digits() int {
	n := 0
	for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
		p.pos++
		n++
	}
	return n
}

// number reads an IntValue or FloatValue; like the spec, it refuses a
// number followed at once by a name start, a dot or a digit after a
// leading zero ("0x1", "1.e", "007").
func (p *gqlParser) number() {
	s := p.src
	start := p.pos
	if s[p.pos] == '-' {
		p.pos++
	}
	lead := p.pos
	if p.digits() == 0 || s[lead] == '0' && p.pos-lead > 1 {
		p.fail()
		return
	}
	if p.pos < len(s) && s[p.pos] == '.' {
		p.pos++
		if p.digits() == 0 {
			p.fail()
			return
		}
	}
	if p.pos < len(s) && (s[p.pos] == 'e' || s[p.pos] == 'E') {
		p.pos++
		if p.pos < len(s) && (s[p.pos] == '+' || s[p.pos] == '-') {
			p.pos++
		}
		if p.digits() == 0 {
			p.fail()
			return
		}
	}
	if p.pos < len(s) && (isGQLNameStart(s[p.pos]) || s[p.pos] == '.') {
		p.fail()
		return
	}
	p.tok = gqlToken{kind: gqlNumber, text: s[start:p.pos]}
}

// string reads a string value or a block string and keeps its raw
// content: the escapes stay, so the features see them as an attacker
// wrote them.
func (p *gqlParser) string() {
	s := p.src
	if len(s)-p.pos >= 3 && s[p.pos+1] == '"' && s[p.pos+2] == '"' {
		start := p.pos + 3
		for i := start; i+2 < len(s); i++ {
			if s[i] == '\\' && i+3 < len(s) && s[i+1] == '"' && s[i+2] == '"' && s[i+3] == '"' {
				i += 3
				continue
			}
			if s[i] == '"' && s[i+1] == '"' && s[i+2] == '"' {
				p.pos = i + 3
				p.str(s[start:i])
				return
			}
		}
		p.fail()
		return
	}
	start := p.pos + 1
	for i := start; i < len(s); i++ {
		switch s[i] {
		case '"':
			p.pos = i + 1
			p.str(s[start:i])
			return
		case '\\':
			i++ // the escaped byte; the features judge the escape itself
		case '\n', '\r':
			p.fail()
			return
		}
	}
	p.fail()
}

func (p *gqlParser) str(v string) {
	if v != "" {
		p.lits = append(p.lits, v)
	}
	p.tok = gqlToken{kind: gqlString, text: v}
}

func (p *gqlParser) is(punct string) bool {
	return p.tok.kind == gqlPunct && p.tok.text == punct
}

func (p *gqlParser) expect(punct string) {
	if !p.is(punct) {
		p.fail()
		return
	}
	p.next()
}

func (p *gqlParser) name() {
	if p.tok.kind != gqlName {
		p.fail()
		return
	}
	p.next()
}

func (p *gqlParser) enter() bool {
	p.depth++
	if p.depth > maxGraphQLDepth {
		p.fail()
		return false
	}
	return true
}

func (p *gqlParser) leave() { p.depth-- }

func (p *gqlParser) definition() {
	if p.is("{") {
		p.selectionSet()
		return
	}
	if p.tok.kind != gqlName {
		p.fail()
		return
	}
	switch p.tok.text {
	case "query", "mutation", "subscription":
		p.next()
		if p.tok.kind == gqlName {
			p.next()
		}
		if p.is("(") {
			p.variableDefinitions()
		}
		p.directives()
		p.selectionSet()
	case "fragment":
		p.next()
		if p.tok.kind != gqlName || p.tok.text == "on" {
			p.fail()
			return
		}
		p.next()
		p.typeCondition()
		p.directives()
		p.selectionSet()
	default:
		p.fail()
	}
}

func (p *gqlParser) typeCondition() {
	if p.tok.kind != gqlName || p.tok.text != "on" {
		p.fail()
		return
	}
	p.next()
	p.name()
}

func (p *gqlParser) selectionSet() {
	if !p.enter() {
		return
	}
	defer p.leave()
	p.expect("{")
	n := 0
	for !p.bad && !p.is("}") {
		p.selection()
		n++
	}
	if n == 0 {
		p.fail()
		return
	}
	p.expect("}")
}

func (p *gqlParser) selection() {
	switch {
	case p.is("..."):
		p.next()
		switch {
		case p.tok.kind == gqlName && p.tok.text == "on":
			p.typeCondition()
			p.directives()
			p.selectionSet()
		case p.tok.kind == gqlName:
			p.next()
			p.directives()
		default:
			p.directives()
			p.selectionSet()
		}
	case p.tok.kind == gqlName:
		p.next()
		if p.is(":") {
			p.next()
			p.name()
		}
		if p.is("(") {
			p.arguments()
		}
		p.directives()
		if p.is("{") {
			p.selectionSet()
		}
	default:
		p.fail()
	}
}

func (p *gqlParser) arguments() {
	p.expect("(")
	n := 0
	for !p.bad && !p.is(")") {
		p.name()
		p.expect(":")
		p.value()
		n++
	}
	if n == 0 {
		p.fail()
		return
	}
	p.expect(")")
}

func (p *gqlParser) directives() {
	for !p.bad && p.is("@") {
		p.next()
		p.name()
		if p.is("(") {
			p.arguments()
		}
	}
}

func (p *gqlParser) variableDefinitions() {
	p.expect("(")
	n := 0
	for !p.bad && !p.is(")") {
		p.expect("$")
		p.name()
		p.expect(":")
		p.typeRef()
		if p.is("=") {
			p.next()
			p.value()
		}
		p.directives()
		n++
	}
	if n == 0 {
		p.fail()
		return
	}
	p.expect(")")
}

func (p *gqlParser) typeRef() {
	if !p.enter() {
		return
	}
	defer p.leave()
	if p.is("[") {
		p.next()
		p.typeRef()
		p.expect("]")
	} else {
		p.name()
	}
	if p.is("!") {
		p.next()
	}
}

func (p *gqlParser) value() {
	if !p.enter() {
		return
	}
	defer p.leave()
	switch {
	case p.is("$"):
		p.next()
		p.name()
	case p.tok.kind == gqlNumber || p.tok.kind == gqlString || p.tok.kind == gqlName:
		p.next()
	case p.is("["):
		p.next()
		for !p.bad && !p.is("]") {
			p.value()
		}
		p.expect("]")
	case p.is("{"):
		p.next()
		for !p.bad && !p.is("}") {
			p.name()
			p.expect(":")
			p.value()
		}
		p.expect("}")
	default:
		p.fail()
	}
}
