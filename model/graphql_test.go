package model

import (
	"reflect"
	"strings"
	"testing"
)

func TestGraphQLStrings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string
		ok   bool
	}{
		{"shorthand query", "{ viewer { id login } }", nil, true},
		{"named query with variables, defaults and directives",
			"query GetUser($id: ID!, $first: Int = 10, $tags: [String!]! = [\"a\"]) @cached(ttl: 60) {\n  user(id: $id) { id name avatarUrl(size: 64) posts(first: $first) @include(if: true) { edges { node { id title } } } }\n}",
			[]string{"a"}, true},
		{"mutation with strings, escapes and an object value",
			`mutation { addComment(input: {subjectId: "MDU6SXNzdWUx", body: "it said \"hi\"\u0021", n: -1.5e3, tags: [A, B], x: null}) { id } }`,
			[]string{"MDU6SXNzdWUx", `it said \"hi\"\u0021`}, true},
		{"fragments, spreads, inline fragments and aliases",
			"query Q { feed { ...Post ... on Video { url } ... @skip(if: false) { id } } me: viewer { id } }\nfragment Post on Post { id title }",
			nil, true},
		{"block string and comments are free text",
			"# fetch the page\nquery { page(body: \"\"\"multi\nline \\\"\"\" quote\"\"\") { id } } # done",
			[]string{" fetch the page", "multi\nline \\\"\"\" quote", " done"}, true},
		{"subscription", "subscription OnMsg { messageAdded(room: \"general\") { text } }", []string{"general"}, true},
		{"commas with whitespace are ordinary GraphQL", "{ user(id: 1, name: \"x\") { id, name } }", []string{"x"}, true},

		{"JSON is not GraphQL", `{"a": 1}`, nil, false},
		{"bash brace expansion", "{id,}", nil, false},
		{"brace expansion before a comment", "{id,}\n#", nil, false},
		{"brace expansion beside a second definition", "{id,} {a}", nil, false},
		{"minified arguments are text too", "{ a(b:1,c:2) { id } }", nil, false},
		{"bash brace expansion with a command", "{echo,hi}", nil, false},
		{"brace expansion with a path", "{cat,/etc/passwd}", nil, false},
		{"template injection", "{{7*7}}", nil, false},
		{"jndi lookup", "${jndi:ldap://x/a}", nil, false},
		{"single quotes are not GraphQL", "{ a(b: 'x') { id } }", nil, false},
		{"trailing shell", "query { a } ; ls", nil, false},
		{"trailing sql", "{ a } union select 1", nil, false},
		{"tag after a document", "{ a } <script>", nil, false},
		{"unterminated string", `{ a(b: "x) { id } }`, nil, false},
		{"newline inside a string", "{ a(b: \"x\ny\") { id } }", nil, false},
		{"unterminated block string", `{ a(b: """x) { id } }`, nil, false},
		{"empty selection set", "{ }", nil, false},
		{"empty arguments", "{ a() }", nil, false},
		{"unbalanced", "{ a { b }", nil, false},
		{"number glued to a name", "{ a(b: 0x1F) }", nil, false},
		{"leading zero", "{ a(b: 007) }", nil, false},
		{"two dots", "{ ..a }", nil, false},
		{"fragment named on", "fragment on on T { id }", nil, false},
		{"plain words", "query string for search", nil, false},
		{"a sentence in braces with punctuation", "{ hello world! }", nil, false},
		{"too deep", strings.Repeat("{ a ", maxGraphQLDepth+1) + strings.Repeat("}", maxGraphQLDepth+1), nil, false},
		{"deep enough", strings.Repeat("{ a ", 20) + strings.Repeat("}", 20), nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := graphQLStrings(tc.in)
			if ok != tc.ok || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("graphQLStrings(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func FuzzGraphQLStrings(f *testing.F) {
	for _, s := range []string{"{ a }", "query Q($v: [Int!] = [1]) { a(b: $v) @d { ...F } }", `{ a(b: """x""") }`, "# c\n{ a }", "{a,}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lits, ok := graphQLStrings(s)
		if !ok {
			return
		}
		// Everything the parser drops must be GraphQL's own alphabet:
		// what can carry a payload is in the literals.
		rest := s
		for _, l := range lits {
			i := strings.Index(rest, l)
			if i < 0 {
				t.Fatalf("literal %q not found in order in %q", l, s)
			}
			rest = rest[:i] + " " + rest[i+len(l):]
		}
		for i := 0; i < len(rest); i++ {
			c := rest[i]
			if !(isGQLNameStart(c) || c >= '0' && c <= '9' || strings.IndexByte(" \t\r\n,#\"!$&():=@[]{|}.-+\xef\xbb\xbf", c) >= 0) {
				t.Fatalf("byte %q outside GraphQL's alphabet survived in %q", c, s)
			}
		}
	})
}
