package model

import (
	"path"
	"strconv"
	"strings"
)

// The grammar shapes below are evidence of an attack written out in full,
// in forms the character and keyword counts alone leave ambiguous: a
// SQL statement with no quote in front of it, a command with its
// arguments, a shell word glued back together. Each one is a field the
// novelty floor would otherwise cap (see evidenceFeatures).

// sqlStatements counts written-out SQL: a statement at the start of the
// value or after a quote, ";" or parenthesis ("select * from pg_shadow;",
// "create table t (x text)", "exec master..xp_cmdshell"), a column-number
// probe ("order by 3"), and system variables ("@@version"). Prose that
// merely uses the words ("select from the menu") has none of the
// structure each verb needs.
func sqlStatements(s string) float64 {
	var n float64
	for i := 0; i+2 < len(s); i++ {
		if s[i] == '@' && s[i+1] == '@' && isWordByte(s[i+2]) {
			n++
			i += 2
		}
	}
	prev := byte(0) // the last byte before the word that is not space or a word; 0 at the start
	for i := 0; i < len(s); {
		c := s[i]
		if !isWordByte(c) && !(c >= '0' && c <= '9') {
			if !sqlSpace(c) {
				prev = c
			}
			i++
			continue
		}
		w, j := wordAt(s, i)
		start := prev == 0 || prev == ';' || prev == '\'' || prev == '"' || prev == ')' || prev == '(' || prev == '`'
		if prev == '/' && j < len(s) && (sqlSpace(s[j]) || strings.HasPrefix(s[j:], "/*")) {
			// A statement in a path segment ("/select%20*%20from%20users"):
			// only with a gap after the verb, as "/select/items" is a route.
			start = true
		}
		switch w {
		case "order", "group":
			if k, ok := expectWord(s, j, "by"); ok && k < len(s) && s[k] >= '0' && s[k] <= '9' {
				n++
			}
		case "select", "insert", "update", "delete", "drop", "create", "alter", "truncate", "exec", "execute",
			"declare", "grant", "revoke", "waitfor", "copy":
			if start && statement(w, s, j) {
				n++
			}
		}
		prev = 'w'
		i = j
	}
	return n
}

// sqlSpace reports what SQL parsers take as a gap between tokens: any
// control byte ("%0aORDER%0aBY"), a space, and "+" left by form encoding.
func sqlSpace(c byte) bool { return c <= ' ' || c == '+' }

// skipSQLSpace skips gaps and /* comments */ from i.
func skipSQLSpace(s string, i int) int {
	for i < len(s) {
		switch {
		case sqlSpace(s[i]):
			i++
		case s[i] == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return len(s)
			}
			i += end + 4
		default:
			return i
		}
	}
	return i
}

// wordAt returns the word (letters, "_" and digits) that starts at i, and
// where it ends.
func wordAt(s string, i int) (string, int) {
	j := i
	for j < len(s) && (isWordByte(s[j]) || s[j] >= '0' && s[j] <= '9') {
		j++
	}
	return s[i:j], j
}

// expectWord reports whether the next token after i is w, and where the
// token after it starts.
func expectWord(s string, i int, w string) (int, bool) {
	i = skipSQLSpace(s, i)
	if i >= len(s) || !isWordByte(s[i]) {
		return i, false
	}
	got, j := wordAt(s, i)
	if got != w {
		return i, false
	}
	return skipSQLSpace(s, j), true
}

// sqlObjects are what drop, create, alter and truncate act on.
var sqlObjects = map[string]bool{"table": true, "database": true, "procedure": true, "function": true, "user": true,
	"view": true, "index": true, "schema": true, "trigger": true, "login": true, "temporary": true, "or": true}

// statement reports whether the tokens after the verb w (from i) have the
// structure of a statement that verb begins.
func statement(w, s string, i int) bool {
	k := skipSQLSpace(s, i)
	if k >= len(s) {
		return false
	}
	next, after := "", k
	if isWordByte(s[k]) {
		next, after = wordAt(s, k)
	}
	switch w {
	case "insert":
		return next == "into" || next == "ignore"
	case "drop", "create", "alter", "truncate":
		return sqlObjects[next]
	case "exec", "execute":
		return strings.HasPrefix(next, "xp_") || strings.HasPrefix(next, "sp_") || next == "master" ||
			s[k] == '(' || s[k] == '@'
	case "declare":
		return s[k] == '@'
	case "grant", "revoke":
		return next == "all" || next == "select" || next == "connect" || next == "resource" || next == "dba" || next == "execute"
	case "waitfor":
		return next == "delay" || next == "time"
	case "update":
		// update t set c=...
		if next == "" {
			return false
		}
		_, ok := expectWord(s, after, "set")
		return ok
	case "copy":
		// PostgreSQL's "copy t from '/etc/passwd'" and "copy t to program".
		if next == "" {
			return false
		}
		k := skipSQLSpace(s, after)
		if k >= len(s) || !isWordByte(s[k]) {
			return false
		}
		dir, e := wordAt(s, k)
		if dir != "from" && dir != "to" {
			return false
		}
		e = skipSQLSpace(s, e)
		return e < len(s) && (s[e] == '\'' || s[e] == '"' || strings.HasPrefix(s[e:], "program") || strings.HasPrefix(s[e:], "stdout"))
	case "delete":
		if next != "from" {
			return false
		}
		return fromTarget(s, after)
	}
	// select: a column list a query would have, within a few tokens.
	for t, j := 0, k; t < 10 && j < len(s); t++ {
		j = skipSQLSpace(s, j)
		if j >= len(s) {
			break
		}
		c := s[j]
		if !isWordByte(c) && !(c >= '0' && c <= '9') {
			if c == '*' || c == '@' || c == '(' {
				return true
			}
			j++
			continue
		}
		tok, e := wordAt(s, j)
		if keywords[tok]&gSQLFunc != 0 || tok == "null" || tok == "top" || tok == "distinct" {
			return true
		}
		if tok == "from" {
			return fromTarget(s, e)
		}
		j = e
	}
	return false
}

// fromTarget reports a table name after "from" that ends the way a query
// does: the end of the value, ";", a schema dot, a comment, ")" or one of
// the clauses that follow a table.
func fromTarget(s string, i int) bool {
	i = skipSQLSpace(s, i)
	if i >= len(s) || !isWordByte(s[i]) {
		return false
	}
	_, j := wordAt(s, i)
	j = skipSQLSpace(s, j)
	if j >= len(s) {
		return true
	}
	switch s[j] {
	case ';', '.', ')', '#', '-', '\'', '"':
		return true
	}
	if isWordByte(s[j]) {
		next, _ := wordAt(s, j)
		switch next {
		case "where", "limit", "order", "group", "union", "having", "into", "join":
			return true
		}
	}
	return false
}

// afterGluedLogic returns what follows an "or" or "and" glued between a
// number and the right-hand side ("1or1" gives "1"), or "".
func afterGluedLogic(l string) string {
	for _, op := range []string{"or", "and", "xor"} {
		k := strings.LastIndex(l, op)
		if k > 0 && l[k-1] >= '0' && l[k-1] <= '9' && k+len(op) < len(l) {
			return l[k+len(op):]
		}
	}
	return ""
}

// shellUnquote returns s with what a shell drops while reading a word
// taken out: empty quote pairs (`w""hoami`, and the same with single
// quotes), "$@" and "$1".."$9",
// a backslash before a letter ("c\at") and cmd.exe's caret escape
// ("w^hoami"); "$IFS", "${IFS}" and brace expansion ("{,}") become spaces.
// It returns "" when s has none of them, which is nearly always.
func shellUnquote(s string) string {
	if !strings.Contains(s, "''") && !strings.Contains(s, `""`) && !strings.Contains(s, "$") &&
		!strings.Contains(s, "{,}") && !strings.Contains(s, "^") && !strings.Contains(s, "\\") {
		return ""
	}
	if shellJoin(s, nil) {
		var b strings.Builder
		b.Grow(len(s))
		shellJoin(s, &b)
		return b.String()
	}
	return ""
}

// shellSpaces are what a shell reads as a gap between words.
var shellSpaces = []string{"${ifs}", "$ifs", "{,}"}

// shellJoin reports whether s has anything shellUnquote takes out, and
// when b is not nil writes the joined copy into it.
func shellJoin(s string, b *strings.Builder) bool {
	changed := false
outer:
	for i := 0; i < len(s); i++ {
		c := s[i]
		rest := s[i:]
		for _, sp := range shellSpaces {
			if strings.HasPrefix(rest, sp) {
				if b != nil {
					b.WriteByte(' ')
				}
				i += len(sp) - 1
				changed = true
				continue outer
			}
		}
		switch {
		case strings.HasPrefix(rest, "''") || strings.HasPrefix(rest, `""`):
			i++
			changed = true
			continue
		case c == '$' && i+1 < len(s) && (s[i+1] == '@' || s[i+1] >= '1' && s[i+1] <= '9'):
			i++
			changed = true
			continue
		case (c == '\\' || c == '^') && i+1 < len(s) && s[i+1] >= 'a' && s[i+1] <= 'z':
			changed = true
			continue
		}
		if b != nil {
			b.WriteByte(c)
		} else if changed {
			return true
		}
	}
	return changed
}

// leadCommands are commands that, at the very start of a value and
// followed by an option or a path, are a command line and not a word of
// prose ("cat /etc/hosts", "ls -la", "dir c:\", "perl -e '...'").
// Words that are ordinary English before a slash ("more", "type", "set")
// are not here.
var leadCommands = map[string]bool{"cat": true, "ls": true, "dir": true, "wget": true, "curl": true, "nc": true,
	"ncat": true, "bash": true, "sh": true, "zsh": true, "ping": true, "nslookup": true, "rm": true, "chmod": true,
	"chown": true, "python": true, "python3": true, "perl": true, "ruby": true, "php": true, "powershell": true,
	"cmd": true, "whoami": true, "uname": true, "id": true, "ifconfig": true, "ipconfig": true, "netstat": true,
	"netsh": true, "systeminfo": true, "tasklist": true, "certutil": true, "bitsadmin": true, "awk": true, "sed": true,
	"busybox": true, "socat": true, "telnet": true, "echo": true, "sleep": true, "tftp": true, "nmap": true, "reg": true,
	"wmic": true, "net": true}

func leadingCommand(s string) bool {
	i := 0
	for i < len(s) && (s[i] <= ' ' || s[i] == '\'' || s[i] == '"') {
		i++
	}
	if i >= len(s) || !isWordByte(s[i]) {
		return false
	}
	w, j := wordAt(s, i)
	if j >= len(s) || s[j] > ' ' {
		return false
	}
	if !leadCommands[w] {
		// "type c:\winntepair\sam", "more c:oot.ini": cmd.exe's
		// file readers, English words unless a drive path follows.
		if w != "type" && w != "more" {
			return false
		}
		k := j
		for k < len(s) && s[k] <= ' ' {
			k++
		}
		return k+2 < len(s) && s[k] >= 'a' && s[k] <= 'z' && s[k+1] == ':' && (s[k+2] == '\\' || s[k+2] == '/')
	}
	k := j
	for k < len(s) && s[k] <= ' ' {
		k++
	}
	if k+1 >= len(s) {
		return false
	}
	c, d := s[k], s[k+1]
	switch {
	case w == "reg" || w == "net" || w == "wmic":
		// "reg add HKLM\...", "net user x /add", "wmic process call".
		arg, _ := wordAt(s, k)
		return arg == "add" || arg == "query" || arg == "delete" || arg == "save" || arg == "user" ||
			arg == "localgroup" || arg == "process" || arg == "share"
	case c == '-' && d >= 'a' && d <= 'z':
		return true
	case strings.HasPrefix(s[k:], "http://") || strings.HasPrefix(s[k:], "https://") || strings.HasPrefix(s[k:], "ftp://"):
		// "curl https://x/a.sh", "wget http://…": a download.
		return w == "curl" || w == "wget" || w == "tftp" || w == "powershell" || w == "certutil"
	case c == '/' || c == '\\' || c == '~' || c == '$':
		return true
	case c >= 'a' && c <= 'z' && d == ':' && k+2 < len(s) && (s[k+2] == '\\' || s[k+2] == '/'):
		return true
	}
	return false
}

// shellResolve returns s as a shell would read it past four ways of
// hiding a command word from anything that reads the text: quotes inside a
// word (`c'a't`, `/e"t"c/pa'ss'wd`), variables set earlier on the line
// (`a=c;b=at;$a$b`), globs that a well-known file matches
// (`/???/??t` is /bin/cat, `/???/p??s??` /etc/passwd) and brace lists
// (`{cat,/etc/passwd}`). It returns "" when
// none applies, which is nearly always. Like shellUnquote's copy, the
// result feeds only the command and sensitive-path shapes.
func shellResolve(s string) string {
	out, changed := s, false
	if strings.ContainsAny(out, `'"`) {
		if r, ok := joinQuotedRuns(out); ok {
			out, changed = r, true
		}
	}
	if strings.IndexByte(out, '$') >= 0 && strings.IndexByte(out, '=') > 0 {
		if r, ok := substituteShellVars(out); ok {
			out, changed = r, true
		}
	}
	if strings.IndexByte(out, '/') >= 0 && strings.ContainsAny(out, "?*") {
		if r, ok := expandKnownGlobs(out); ok {
			out, changed = r, true
		}
	}
	if strings.IndexByte(out, '{') >= 0 && strings.IndexByte(out, ',') >= 0 {
		if r, ok := expandCommandBraces(out); ok {
			out, changed = r, true
		}
	}
	if strings.Contains(out, ":~") {
		if r, ok := expandCmdSubstrings(out); ok {
			out, changed = r, true
		}
	}
	if !changed {
		return ""
	}
	return out
}

// expandCommandBraces spells out a brace list that is a whole command
// line in bash, `{curl,-s,http://x/a.sh}|{bash,-i}`, which bash expands
// into `curl -s http://x/a.sh|bash -i`: a command word first, then an
// argument (a flag, a path, a URL). A list of other words, Graph API's
// `{id,name}` or a JSON object, is left alone.
func expandCommandBraces(s string) (string, bool) {
	return expandSpans(s, '{', '}', func(before byte, inner string) (string, bool) {
		if before == '$' {
			return "", false
		}
		items := strings.Split(inner, ",")
		if len(items) < 2 || keywords[strings.ToLower(items[0])]&gShell == 0 || !braceArgs(items[1:]) {
			return "", false
		}
		return strings.Join(items, " "), true
	})
}

// expandSpans replaces each span of s from open to the next close with
// what expand makes of the text between them (given the byte before the
// span, 0 at the start), and reports whether it replaced any. A span
// expand declines is left as it is and the walk goes on inside it.
func expandSpans(s string, open, close byte, expand func(before byte, inner string) (string, bool)) (string, bool) {
	var b strings.Builder
	last, changed := 0, false
	for i := 0; i < len(s); i++ {
		if s[i] != open {
			continue
		}
		end := strings.IndexByte(s[i+1:], close)
		if end < 0 {
			break
		}
		var before byte
		if i > 0 {
			before = s[i-1]
		}
		r, ok := expand(before, s[i+1:i+1+end])
		if !ok {
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(r)
		last, changed = i+2+end, true
		i = last - 1
	}
	if !changed {
		return "", false
	}
	b.WriteString(s[last:])
	return b.String(), true
}

// windowsDefaults are the values Windows gives its standard environment
// variables on a default install: what an attacker slices letters from.
var windowsDefaults = map[string]string{
	"comspec":            `C:\WINDOWS\system32\cmd.exe`,
	"programfiles":       `C:\Program Files`,
	"programfiles(x86)":  `C:\Program Files (x86)`,
	"commonprogramfiles": `C:\Program Files\Common Files`,
	"programdata":        `C:\ProgramData`,
	"allusersprofile":    `C:\ProgramData`,
	"public":             `C:\Users\Public`,
	"systemroot":         `C:\WINDOWS`,
	"windir":             `C:\WINDOWS`,
	"systemdrive":        `C:`,
	"homedrive":          `C:`,
	"os":                 `Windows_NT`,
	"pathext":            `.COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC`,
}

// expandCmdSubstrings spells out cmd.exe's substring expansions of
// standard variables, `%COMSPEC:~-7,3%` (cmd) or `%ProgramFiles:~10,1%`
// (a space), which build a command's words and gaps from letters that
// never appear in the request. A variable without a known default value
// is left alone.
func expandCmdSubstrings(s string) (string, bool) {
	return expandSpans(s, '%', '%', func(_ byte, inner string) (string, bool) {
		name, spec, ok := strings.Cut(inner, ":~")
		val, known := windowsDefaults[strings.ToLower(name)]
		if !ok || !known {
			return "", false
		}
		return cmdSubstring(val, spec)
	})
}

// cmdSubstring applies cmd.exe's `~start[,length]` to v: a negative start
// counts from the end, a negative length leaves that many off the end.
func cmdSubstring(v, spec string) (string, bool) {
	startText, lenText, hasLen := strings.Cut(spec, ",")
	start, err := strconv.Atoi(strings.TrimSpace(startText))
	if err != nil {
		return "", false
	}
	if start < 0 {
		start = max(len(v)+start, 0)
	}
	start = min(start, len(v))
	end := len(v)
	if hasLen {
		n, err := strconv.Atoi(strings.TrimSpace(lenText))
		if err != nil {
			return "", false
		}
		if n < 0 {
			end = max(len(v)+n, start)
		} else {
			end = min(start+n, len(v))
		}
	}
	return v[start:end], true
}

// braceArgs: items without gaps or quotes, one of which is an argument.
func braceArgs(items []string) bool {
	arg := false
	for _, it := range items {
		if it == "" || strings.ContainsAny(it, " \t\n\"'{") {
			return false
		}
		arg = arg || it[0] == '-' || it[0] == '/' || strings.Contains(it, "://")
	}
	return arg
}

func pathWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '/' || c == '.' || c == '_' || c == '-'
}

// joinQuotedRuns drops a pair of quotes around a run of word bytes glued
// to a word byte on either side: the shell joins `c'a't` into cat. A lone
// apostrophe ("don't") has no partner and stays.
func joinQuotedRuns(s string) (string, bool) {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\'' && c != '"' {
			continue
		}
		j := i + 1
		for j < len(s) && pathWordByte(s[j]) {
			j++
		}
		glued := i > 0 && pathWordByte(s[i-1]) || j+1 < len(s) && pathWordByte(s[j+1])
		if j < len(s) && s[j] == c && j > i+1 && glued {
			if last == 0 {
				b.Grow(len(s))
			}
			b.WriteString(s[last:i])
			b.WriteString(s[i+1 : j])
			last = j + 1
			i = j
		}
	}
	if last == 0 {
		return "", false
	}
	b.WriteString(s[last:])
	return b.String(), true
}

// substituteShellVars replaces $name and ${name} with what `name=value`
// set earlier in s, when at least one such reference exists.
func substituteShellVars(s string) (string, bool) {
	var vars map[string]string
	var b strings.Builder
	last, changed := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '$' && i+1 < len(s) && vars != nil {
			k, brace := i+1, false
			if s[k] == '{' {
				k, brace = k+1, true
			}
			e := k
			for e < len(s) && (isWordByte(s[e]) || e > k && s[e] >= '0' && s[e] <= '9') {
				e++
			}
			if v, ok := vars[s[k:e]]; ok && e > k && (!brace || e < len(s) && s[e] == '}') {
				if brace {
					e++
				}
				b.WriteString(s[last:i])
				b.WriteString(v)
				last, changed = e, true
				i = e - 1
				continue
			}
		}
		if isWordByte(c) && (i == 0 || strings.IndexByte(" ;&|\n\t", s[i-1]) >= 0) {
			e := i
			for e < len(s) && (isWordByte(s[e]) || s[e] >= '0' && s[e] <= '9') {
				e++
			}
			if e < len(s) && s[e] == '=' {
				v := e + 1
				for v < len(s) && strings.IndexByte(" ;&|\n\t$'\"", s[v]) < 0 {
					v++
				}
				if vars == nil {
					vars = map[string]string{}
				}
				vars[s[i:e]] = s[e+1 : v]
			}
		}
	}
	if !changed {
		return "", false
	}
	b.WriteString(s[last:])
	return b.String(), true
}

// knownPaths are files on nearly every Unix host that attacks run or read;
// a glob matching one of them names it.
var knownPaths = []string{"/bin/cat", "/bin/sh", "/bin/bash", "/bin/nc", "/bin/ls", "/bin/id", "/usr/bin/id",
	"/usr/bin/wget", "/usr/bin/curl", "/usr/bin/whoami", "/usr/bin/python", "/usr/bin/perl", "/bin/uname",
	"/etc/passwd", "/etc/shadow", "/etc/hosts", "/etc/group", "/etc/issue", "/proc/self/environ"}

// expandKnownGlobs replaces each word that is an absolute glob path
// (`/???/??t`) by the first known path it matches. URLs with a query
// string are words that do not start with a slash.
func expandKnownGlobs(s string) (string, bool) {
	var b strings.Builder
	last, start := 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && strings.IndexByte(" ;&|\n\t`()<>", s[i]) < 0 {
			continue
		}
		w := s[start:i]
		start = i + 1
		if len(w) < 3 || w[0] != '/' || !strings.ContainsAny(w, "?*") {
			continue
		}
		for _, p := range knownPaths {
			if ok, err := path.Match(w, p); err == nil && ok {
				b.WriteString(s[last : i-len(w)])
				b.WriteString(p)
				last = i
				break
			}
		}
	}
	if last == 0 {
		return "", false
	}
	b.WriteString(s[last:])
	return b.String(), true
}
