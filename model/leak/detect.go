package leak

import (
	"bytes"
	"encoding/base64"
)

// A handler looks at b[i:] (with at least lookahead bytes after i unless
// the body ends sooner, and lookbehind bytes before it) and records what it
// finds with s.hit.
type handler func(s *Scanner, b []byte, i int)

type anchor struct {
	lit  string
	litB []byte // lit, converted once
	h    handler
}

// The prefilter: a bitset over the 65536 byte pairs that can start
// something a detector wants. A position whose pair is not in it costs one
// load and one bit test, which is what makes clean text fast.
type prefilter struct {
	bits   [1 << 16 / 64]uint64
	group  [1 << 16]uint16 // index into groups; 0 = none
	groups [][]anchor
}

func (p *prefilter) add(a, b byte, an anchor) {
	k := uint16(a)<<8 | uint16(b)
	g := p.group[k]
	if g == 0 {
		g = uint16(len(p.groups))
		p.group[k] = g
		p.groups = append(p.groups, nil)
		p.bits[k>>6] |= 1 << (k & 63)
	}
	an.litB = []byte(an.lit)
	p.groups[g] = append(p.groups[g], an)
}

// lookup returns the anchors for the byte pair k.
func (p *prefilter) lookup(k uint16) []anchor {
	return p.groups[p.group[k]]
}

// count returns a handler that records a plain literal match.
func count(f int) handler {
	return func(s *Scanner, b []byte, i int) { s.hit(f, i, i, false) }
}

// literal anchors: the literal must match at i, then h runs.
var literals = []struct {
	lits []string
	h    handler
}{
	// secret
	{[]string{"AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA", "ABIA", "ACCA"}, awsKeyID},
	{[]string{"SecretAccessKey", "secretAccessKey", "secret_access_key", "SECRET_ACCESS_KEY", "aws_secret_key", "AWS_SECRET_KEY"}, awsSecret},
	{[]string{"-----BEGIN "}, privateKey},
	{[]string{"eyJ"}, jwt},
	{[]string{"sk_live_", "rk_live_"}, token(FStripeLive, 20, 0, alnumSet)},
	{[]string{"sk_test_", "rk_test_"}, token(FStripeTest, 20, 0, alnumSet)},
	{[]string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"}, token(FGitHubToken, 36, 0, alnumSet)},
	{[]string{"github_pat_"}, token(FGitHubToken, 60, 0, wordSet)},
	{[]string{"xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xapp-"}, token(FSlackToken, 20, 0, dashWordSet)},
	{[]string{"hooks.slack.com/services/"}, token(FSlackToken, 20, 0, pathSet)},
	{[]string{"AIza"}, token(FGoogleKey, 35, 35, dashWordSet)},
	{[]string{"glpat-", "npm_", "shpat_", "shpss_", "dop_v1_", "sk-proj-", "sk-ant-"}, token(FOtherToken, 20, 0, dashWordSet)},
	{[]string{"SG."}, token(FOtherToken, 60, 0, dotDashWordSet)},
	{[]string{"AccountKey="}, token(FOtherToken, 80, 0, b64Set)},
	{[]string{"$2a$", "$2b$", "$2y$"}, bcrypt},
	{[]string{"$argon2id$", "$argon2i$", "$argon2d$"}, token(FPasswordHash, 40, 0, hashSet)},
	{[]string{"$6$", "$5$", "$1$", "$apr1$"}, cryptHash},
	{[]string{"pbkdf2_sha256$", "pbkdf2_sha1$", "sha1$", "{SSHA}", "{SSHA512}", "scrypt:", "pbkdf2:sha256:"}, token(FPasswordHash, 30, 0, hashSet)},
	{[]string{"://"}, connURL},
	{[]string{"Password=", "password=", "Pwd=", "PWD=", "pwd="}, adoPassword},
	{[]string{"password", "Password", "PASSWORD", "passwd", "PASSWD", "secret", "Secret", "SECRET",
		"api_key", "apiKey", "ApiKey", "API_KEY", "apikey", "access_token", "accessToken", "auth_token", "authToken",
		"session_token", "sessionToken", "client_secret", "clientSecret", "private_key", "privateKey", "secret_key", "secretKey", "x-api-key", "X-Api-Key"}, secretAssign},
	{[]string{"token_type", "expires_in", "refresh_token", "tokenType", "expiresIn"}, count(FOAuthContext)},
	// pii
	{[]string{"ssn\"", "SSN\"", "ssn'", "social_security", "socialSecurity", "date_of_birth", "dateOfBirth", "birthdate",
		"birth_date", "birthDate", "dob\"", "passport_number", "passportNumber", "national_id", "nationalId", "tax_id",
		"taxId", "card_number", "cardNumber", "cvv\"", "cvc\"", "credit_card", "creditCard", "phone_number", "phoneNumber",
		"home_address", "homeAddress", "salary\"", "diagnosis", "mothers_maiden"}, count(FPIIKey)},
	// error
	{[]string{".java:"}, javaFrame},
	{[]string{"(Native Method)", "(Unknown Source)", "Caused by: ", "\tat java.", "\tat org.", "\tat com."}, count(FJavaFrame)},
	{[]string{"Exception"}, count(FExceptionWord)},
	{[]string{"File \"", "File &quot;", "File &#34;"}, pyFrame},
	{[]string{"Traceback <em>(most recent call last)</em>", "Traceback (most recent call last)", "Werkzeug Debugger",
		"The debugger caught an exception"}, count(FPythonTrace)},
	{[]string{"Basic "}, token(FSecretAssign, 16, 0, b64Set)},
	{[]string{"goroutine "}, goroutine},
	{[]string{"panic: ", "runtime error: ", "[recovered]"}, count(FGoPanic)},
	{[]string{".go:"}, frameDigits(FGoFrame, "")},
	{[]string{".js:", ".ts:", ".mjs:", ".cjs:"}, frameDigits(FNodeFrame, ":")},
	{[]string{"node_modules/"}, count(FNodeFrame)},
	{[]string{"at Layer.handle", "at Module._compile", "at Object.<anonymous>", "at process.processTicksAndRejections",
		"at next (", "at Function.handle", "at Route.dispatch", "express/lib/router"}, count(FExpressError)},
	{[]string{"Fatal error", "Parse error", "Warning</b>", "Notice</b>", "Deprecated</b>", "PHP Warning", "PHP Fatal",
		"PHP Notice", "PHP Parse", "Stack trace:", "Uncaught ", "PDOException", "on line <b>", "thrown in <b>",
		"Call to undefined", "Undefined variable", "Undefined index", "Undefined array key"}, count(FPHPError)},
	{[]string{"Server Error in '", "Exception Details:", "Source Error:", "Version Information:", "ASP.NET Version",
		"Microsoft .NET Framework", "System.Web.", "NullReferenceException", "Unhandled exception.", "Source File:",
		"Stack Trace:", "System.InvalidOperationException", "Microsoft.AspNetCore.",
		"An unhandled exception occurred while processing the request", "Microsoft.Extensions."}, count(FDotNetError)},
	{[]string{".cs:line "}, frameDigits(FDotNetFrame, "")},
	{[]string{"at System.", "at Microsoft."}, count(FDotNetFrame)},
	{[]string{"Django Version:", "Exception Value:", "Exception Location:", "Request Method:", "Python Executable:",
		"Python Path:", "Installed Applications:", "DEBUG = True", "Request information", "You're seeing this error because",
		"Server time:", "Python Version:", "Exception Type:"}, count(FDjangoDebug)},
	{[]string{"ActionController::", "ActiveRecord::", "ActionView::", "Rails.root:", "Application Trace", "Framework Trace",
		"ActionDispatch::", "NoMethodError", "Full Trace"}, count(FRailsError)},
	{[]string{".rb:"}, frameDigits(FRubyFrame, ":in")},
	{[]string{"Whitelabel Error Page", "no explicit mapping for /error", "There was an unexpected error (type=",
		"org.springframework.", "BeanCreationException", "HttpMessageNotReadableException"}, count(FSpringError)},
	{[]string{"You have an error in your SQL syntax", "MySQL server version", "MySqlException", "com.mysql.", "mysqli_",
		"mysql_fetch", "MariaDB server", "Warning: mysql", "MySQLSyntaxErrorException", "mysql.connector.errors"}, count(FSQLMySQL)},
	{[]string{"PG::", "psycopg2.", "PSQLException", "org.postgresql", "syntax error at or near", "pg_query(", "unterminated quoted string",
		"PostgreSQL query failed", "invalid input syntax for", "ERROR:  ", "pq: "}, count(FSQLPostgres)},
	{[]string{"Unclosed quotation mark", "Microsoft OLE DB Provider", "SqlException", "System.Data.SqlClient", "[SQL Server]",
		"Incorrect syntax near", "[Microsoft][ODBC", "Microsoft.Data.SqlClient", "mssql_query"}, count(FSQLMSSQL)},
	{[]string{"ORA-"}, oraError},
	{[]string{"oracle.jdbc", "quoted string not properly terminated", "SQL command not properly ended", "OracleException",
		"cx_Oracle.", "Oracle.ManagedDataAccess"}, count(FSQLOracle)},
	{[]string{"SQLite3::", "sqlite3.OperationalError", "SQLITE_ERROR", "SQLiteException", "unrecognized token:", "SQLite error",
		"sqlite3.ProgrammingError", "SQLite/JDBCDriver", "System.Data.SQLite"}, count(FSQLSQLite)},
	{[]string{"SQLSTATE", "SQL syntax", "SQLException", "sqlalchemy.exc", "QueryException", "DatabaseError", "JDBCException",
		"Dynamic SQL Error", "SQL error"}, count(FSQLGeneric)},
	// source
	{[]string{"<?php"}, count(FPHPOpen)},
	{[]string{"&lt;?php"}, count(FPHPEscaped)},
	{[]string{"[core]", "repositoryformatversion", "ref: refs/heads/", "[remote \"", "# pack-refs with:", "logallrefupdates",
		"[branch \"", "filemode = ", "bare = false"}, count(FGitMeta)},
	{[]string{"-- MySQL dump", "-- PostgreSQL database dump", "CREATE TABLE ", "INSERT INTO ", "-- Dump completed", "DROP TABLE IF EXISTS",
		"LOCK TABLES `", "COPY public."}, count(FSQLDump)},
	{[]string{"phpinfo()", "PHP Version ", "Loaded Configuration File", "$_SERVER['", "PHP Credits", "propertySources",
		"activeProfiles", "systemEnvironment", "systemProperties"}, count(FConfigKey)},
	{[]string{"Index of /", "Parent Directory", "[To Parent Directory]", "Directory listing for", "Directory Listing For"}, count(FDirListing)},
	{[]string{"DB_PASSWORD", "DB_HOST", "DB_USERNAME", "DB_DATABASE", "DATABASE_URL", "SECRET_KEY", "APP_KEY", "AWS_SECRET",
		"spring.datasource", "connectionStrings", "define('DB_", "define( 'DB_", "[mysqld]", "jdbc:", "REDIS_URL",
		"MAIL_PASSWORD", "DJANGO_SECRET", "AUTH_KEY'", "SECURE_AUTH", "ALLOWED_HOSTS", "SQLALCHEMY_DATABASE_URI"}, count(FConfigKey)},
}

// pf is built once at init and only read afterwards.
var pf = buildPrefilter()

func buildPrefilter() *prefilter {
	p := &prefilter{groups: [][]anchor{nil}}
	for _, l := range literals {
		for _, lit := range l.lits {
			p.add(lit[0], lit[1], anchor{lit: lit, h: l.h})
		}
	}
	for c := 0; c < 256; c++ {
		if isAlnum(byte(c)) {
			p.add('@', byte(c), anchor{h: email})
		}
		if isDigit(byte(c)) {
			p.add('+', byte(c), anchor{h: phoneE164})
			p.add('(', byte(c), anchor{h: phoneParen})
			for d := '0'; d <= '9'; d++ {
				p.add(byte(c), byte(d), anchor{h: digitRun})
			}
		}
	}
	for a := byte('A'); a <= 'Z'; a++ {
		for c := byte('A'); c <= 'Z'; c++ {
			p.add(a, c, anchor{h: upperPair})
		}
	}
	return p
}

// character sets for token bodies
type charset [256]bool

func makeSet(extra string, alnum bool) *charset {
	var s charset
	for c := 0; c < 256; c++ {
		s[c] = alnum && isAlnum(byte(c))
	}
	for i := 0; i < len(extra); i++ {
		s[extra[i]] = true
	}
	return &s
}

var (
	alnumSet       = makeSet("", true)
	wordSet        = makeSet("_", true)
	dashWordSet    = makeSet("_-", true)
	dotDashWordSet = makeSet("_-.", true)
	pathSet        = makeSet("/_-", true)
	b64Set         = makeSet("+/=", true)
	hashSet        = makeSet("./$=,+_-:", true)
	b64urlSet      = makeSet("_-", true)
	userinfoAtSet  = makeSet("-._~!$&'()*+,;=%:@#", true)
)

func run(b []byte, i int, set *charset, limit int) int {
	j := i
	for j < len(b) && j-i < limit && set[b[j]] {
		j++
	}
	return j
}

func prevByte(b []byte, i int) byte {
	if i == 0 {
		return ' '
	}
	return b[i-1]
}

// token: prefix, then at least minLen (exactly exact, if set) characters of
// set, ending at a boundary; placeholders count as masked.
func token(f, minLen, exact int, set *charset) handler {
	return func(s *Scanner, b []byte, i int) {
		if isWord(prevByte(b, i)) {
			return
		}
		start := i + len(s.cur.lit)
		end := run(b, start, set, 256)
		n := end - start
		if n < minLen || (exact > 0 && n != exact) {
			return
		}
		if placeholder(b[start:end]) {
			s.hit(FSecretMasked, i, end, false)
			return
		}
		s.hit(f, i, end, true)
	}
}

func awsKeyID(s *Scanner, b []byte, i int) {
	if isAlnum(prevByte(b, i)) || i+20 > len(b) {
		return
	}
	for _, c := range b[i+4 : i+20] {
		if !isUpper(c) && !isDigit(c) {
			return
		}
	}
	if i+20 < len(b) && isAlnum(b[i+20]) {
		return
	}
	if bytes.Contains(b[i:i+20], []byte("EXAMPLE")) {
		s.hit(FAWSKeyIDExample, i, i+20, false)
		return
	}
	s.hit(FAWSKeyID, i, i+20, true)
}

func awsSecret(s *Scanner, b []byte, i int) {
	j := i + len(s.cur.lit)
	for k := 0; j < len(b) && k < 12 && !b64Set[b[j]] || (j < len(b) && b[j] == '=' && k < 12); k++ {
		j++
	}
	end := run(b, j, b64Set, 64)
	if end-j != 40 {
		return
	}
	if placeholder(b[j:end]) || bytes.Contains(b[j:end], []byte("EXAMPLE")) {
		s.hit(FAWSKeyIDExample, j, end, false)
		return
	}
	s.hit(FAWSSecret, j, end, true)
}

var (
	privKeyTail = []byte("PRIVATE KEY-----")
	endMarker   = []byte("-----END ")
)

func privateKey(s *Scanner, b []byte, i int) {
	hdr := b[i:min(len(b), i+48)]
	k := bytes.Index(hdr, privKeyTail)
	if k < 0 {
		return
	}
	j := i + k + len(privKeyTail)
	s.hit(FPrivateKey, i, j, false)
	// The body: base64 lines, with real or JSON-escaped line breaks.
	body := 0
	for j < len(b) && body < 400 {
		c := b[j]
		switch {
		case b64Set[c]:
			body++
			j++
		case c == '\n' || c == '\r' || c == ' ':
			j++
		case c == '\\' && j+1 < len(b) && (b[j+1] == 'n' || b[j+1] == 'r'):
			j += 2
		default:
			body = min(body, 399)
			j = len(b) + 1
		}
		if j > len(b) {
			break
		}
	}
	if body >= 64 {
		end := i + 400
		if e := bytes.Index(b[i:], endMarker); e > 0 {
			end = i + e + len(endMarker)
		}
		s.hit(FPrivateKeyBody, i, min(end, len(b)), true)
	}
}

func jwt(s *Scanner, b []byte, i int) {
	if c := prevByte(b, i); isWord(c) || c == '-' || c == '.' {
		return
	}
	e1 := run(b, i, b64urlSet, 2048)
	if e1-i < 10 || e1 >= len(b) || b[e1] != '.' {
		return
	}
	e2 := run(b, e1+1, b64urlSet, 4096)
	if e2-e1-1 < 10 || e2 >= len(b) || b[e2] != '.' {
		return
	}
	e3 := run(b, e2+1, b64urlSet, 2048)
	if !jwtHeader(b[i:e1]) {
		return
	}
	if jwtExample(b[e1+1 : e2]) {
		s.hit(FJWTExample, i, e3, false)
		return
	}
	s.hit(FJWT, i, e3, true)
}

// jwtExample: the payload of jwt.io's and RFC 7519's sample tokens.
func jwtExample(seg []byte) bool {
	if len(seg) > 200 {
		seg = seg[:200]
	}
	seg = seg[:len(seg)/4*4]
	var buf [160]byte
	n, _ := base64.RawURLEncoding.Decode(buf[:], seg)
	p := buf[:n]
	return bytes.Contains(p, []byte("John Doe")) || bytes.Contains(p, []byte(`"sub":"1234567890"`)) || bytes.Contains(p, []byte(`"iss":"joe"`))
}

func bcrypt(s *Scanner, b []byte, i int) {
	j := i + 4
	if j+3 > len(b) || !isDigit(b[j]) || !isDigit(b[j+1]) || b[j+2] != '$' {
		return
	}
	end := run(b, j+3, hashSet, 80)
	if end-(j+3) >= 53 {
		s.hit(FPasswordHash, i, end, true)
	}
}

func cryptHash(s *Scanner, b []byte, i int) {
	if isWord(prevByte(b, i)) {
		return
	}
	j := i + len(s.cur.lit)
	salt := run(b, j, makeCryptSet(), 16)
	if salt == j || salt >= len(b) || b[salt] != '$' {
		return
	}
	end := run(b, salt+1, makeCryptSet(), 90)
	if end-salt-1 >= 22 {
		s.hit(FPasswordHash, i, end, true)
	}
}

var cryptSet = makeSet("./", true)

func makeCryptSet() *charset { return cryptSet }

var connSchemes = map[string]bool{
	"postgres": true, "postgresql": true, "mysql": true, "mariadb": true, "mongodb": true, "mongodb+srv": true,
	"redis": true, "rediss": true, "amqp": true, "amqps": true, "mssql": true, "sqlserver": true, "oracle": true,
	"ftp": true, "sftp": true, "smtp": true, "smtps": true, "ldap": true, "ldaps": true, "http": true, "https": true,
	"jdbc:mysql": true, "jdbc:postgresql": true, "jdbc:sqlserver": true, "cockroachdb": true, "clickhouse": true,
	"kafka": true, "nats": true, "memcached": true, "couchdb": true, "neo4j": true, "elasticsearch": true,
}

// connURL: scheme://user:password@host with a real password. Leaked
// configs carry raw '#', '@' and '!' in passwords, so the userinfo runs to
// the last '@' before the host.
func connURL(s *Scanner, b []byte, i int) {
	k := i
	for k > 0 && i-k < 20 && (isAlnum(b[k-1]) || b[k-1] == '+' || b[k-1] == ':') {
		k--
	}
	if k == i || !connSchemes[string(bytes.ToLower(b[k:i]))] {
		return
	}
	u := i + 3
	stop := run(b, u, userinfoAtSet, 200)
	end := u + bytes.LastIndexByte(b[u:stop], '@')
	if end < u {
		return
	}
	c := bytes.IndexByte(b[u:end], ':')
	if c < 0 {
		return
	}
	pw := b[u+c+1 : end]
	if len(pw) < 3 || placeholder(pw) || bytes.HasPrefix(pw, []byte("$")) {
		s.hit(FSecretMasked, u, end, false)
		return
	}
	s.hit(FConnString, u+c+1, end, true)
}

// adoPassword: Password=...; in an ADO.NET / ODBC connection string.
func adoPassword(s *Scanner, b []byte, i int) {
	if isWord(prevByte(b, i)) {
		return
	}
	j := i + len(s.cur.lit)
	end := j
	for end < len(b) && end-j < 128 && b[end] != ';' && b[end] != '"' && b[end] != '\'' && b[end] != '\n' && b[end] != '<' && b[end] != ' ' {
		end++
	}
	if end >= len(b) || b[end] != ';' || end-j < 3 || placeholder(b[j:end]) {
		return
	}
	s.hit(FConnString, j, end, true)
}

// secretAssign: a key naming a secret, a separator, and a value that is
// not a placeholder: "password": "hunter2", api_key=..., <secret>...
func secretAssign(s *Scanner, b []byte, i int) {
	if c := prevByte(b, i); isAlpha(c) {
		return
	}
	j := i + len(s.cur.lit)
	// the rest of the key (password_hash, secretKeyRef...)
	kend := run(b, j, dashWordSet, 24)
	if kend-j >= 24 {
		return
	}
	rest := bytes.ToLower(b[j:kend])
	for _, w := range []string{"policy", "reset", "length", "strength", "expir", "change", "forgot", "confirm", "required", "hint", "field", "label", "name", "ref", "id", "type", "url", "min", "max", "rule", "prompt", "enabled"} {
		if bytes.Contains(rest, []byte(w)) {
			return
		}
	}
	j = kend
	// a table row: key</td><td class="v">value (phpinfo, debug pages,
	// admin environment listings); ['KEY'] as in $_SERVER['KEY'].
	for j < len(b) && (b[j] == '\'' || b[j] == '"' || b[j] == ']') && j-kend < 3 {
		j++
	}
	if cell := tableCell(b, j); cell > 0 {
		j = cell
		end := j
		for end < len(b) && end-j < 200 && b[end] != '<' && b[end] != '\n' {
			end++
		}
		v := bytes.TrimSpace(b[j:end])
		if len(v) == 0 {
			return
		}
		if len(v) < 6 || placeholder(v) || !secretShaped(v) {
			s.hit(FSecretMasked, j, end, false)
			return
		}
		s.hit(FSecretAssign, j, j+len(v), true)
		return
	}
	j = kend
	// separator: optional closing quote, spaces, : or = or =>, spaces, opening quote
	for j < len(b) && (b[j] == '"' || b[j] == '\'' || b[j] == ' ' || b[j] == '\\') && j-kend < 4 {
		j++
	}
	// an HTML attribute pair: name="db_password" value="..."
	if bytes.HasPrefix(b[j:], []byte("value=")) || bytes.HasPrefix(b[j:], []byte("content=")) {
		j = bytes.IndexByte(b[j:], '=') + j
	}
	if j >= len(b) || (b[j] != ':' && b[j] != '=') {
		return
	}
	j++
	if j < len(b) && b[j] == '>' {
		j++
	}
	for j < len(b) && (b[j] == ' ' || b[j] == '"' || b[j] == '\'' || b[j] == '\\' || b[j] == '\t') && j-kend < 12 {
		j++
	}
	end := j
	for end < len(b) && end-j < 200 {
		c := b[end]
		if c == '"' || c == '\'' || c == ',' || c == ';' || c == '<' || c == '&' || c == '\n' || c == '\r' || c == ' ' || c == '}' || c == '\\' {
			break
		}
		end++
	}
	v := b[j:end]
	if len(v) == 0 {
		return
	}
	if len(v) < 6 || placeholder(v) || v[0] == '[' || v[0] == '{' || !secretShaped(v) {
		s.hit(FSecretMasked, j, end, false)
		return
	}
	// Issuing a token is what a login or OAuth endpoint is for; the
	// model weighs token keys apart from passwords and keys.
	if bytes.Contains(bytes.ToLower([]byte(s.cur.lit)), []byte("token")) {
		s.hit(FTokenAssign, j, end, true)
		return
	}
	s.hit(FSecretAssign, j, end, true)
}

// tableCell: if b[j:] closes a table cell and opens the next one
// ("</td><td class=...>", "</th><td>", "</dt><dd>"), the offset after it.
func tableCell(b []byte, j int) int {
	for j < len(b) && b[j] == ' ' {
		j++
	}
	x := b[j:min(len(b), j+96)]
	var rest []byte
	switch {
	case bytes.HasPrefix(x, []byte("</td>")), bytes.HasPrefix(x, []byte("</th>")), bytes.HasPrefix(x, []byte("</dt>")):
		rest = x[5:]
	default:
		return 0
	}
	rest = bytes.TrimLeft(rest, " \n\t\r")
	if !bytes.HasPrefix(rest, []byte("<td")) && !bytes.HasPrefix(rest, []byte("<dd")) {
		return 0
	}
	gt := bytes.IndexByte(rest, '>')
	if gt < 0 {
		return 0
	}
	n := j + (len(x) - len(rest)) + gt + 1
	// a nested <pre> or <code> inside the cell
	for _, tag := range []string{"<pre>", "<code>", "<pre class=\"code\">"} {
		if bytes.HasPrefix(b[n:], []byte(tag)) {
			n += len(tag)
		}
	}
	return n
}

// secretShaped: a value that could be a password or key rather than a
// word: two character classes (lower, upper, digit, symbol) or 16+ bytes.
func secretShaped(v []byte) bool {
	if len(v) >= 16 {
		return true
	}
	var lo, up, di, sy int
	for _, c := range v {
		switch {
		case isLower(c):
			lo = 1
		case isUpper(c):
			up = 1
		case isDigit(c):
			di = 1
		default:
			sy = 1
		}
	}
	return lo+up+di+sy >= 2
}

var (
	exampleDomains = map[string]bool{
		"example.com": true, "example.org": true, "example.net": true, "test.com": true, "domain.com": true,
		"email.com": true, "company.com": true, "yourdomain.com": true, "mail.com": true, "acme.com": true,
		"foo.com": true, "bar.com": true, "sample.com": true, "mydomain.com": true, "site.com": true,
	}
	notTLD = map[string]bool{"png": true, "jpg": true, "jpeg": true, "gif": true, "svg": true, "webp": true, "js": true,
		"css": true, "ico": true, "woff": true, "woff2": true, "ttf": true, "map": true, "json": true, "html": true, "min": true}
)

func localChar(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

func email(s *Scanner, b []byte, i int) {
	j := i
	for j > 0 && i-j < 64 && localChar(b[j-1]) {
		j--
	}
	for j < i && (b[j] == '.' || b[j] == '-') {
		j++
	}
	if j == i || (j > 0 && (b[j-1] == '/' || b[j-1] == ':' || b[j-1] == '@')) {
		return
	}
	// domain: labels separated by dots
	k := i + 1
	lastDot := -1
	for k < len(b) && k-i < 253 {
		c := b[k]
		if isAlnum(c) || c == '-' {
			k++
			continue
		}
		if c == '.' && k+1 < len(b) && isAlnum(b[k+1]) && b[k-1] != '.' {
			lastDot = k
			k++
			continue
		}
		break
	}
	if lastDot < 0 {
		return
	}
	tld := b[lastDot+1 : k]
	if len(tld) < 2 || len(tld) > 24 {
		return
	}
	for _, c := range tld {
		if !isAlpha(c) {
			return
		}
	}
	lt := bytes.ToLower(tld)
	if notTLD[string(lt)] {
		return
	}
	dom := bytes.ToLower(b[i+1 : k])
	if exampleDomains[string(dom)] || bytes.HasSuffix(dom, []byte(".example")) || bytes.HasSuffix(dom, []byte(".test")) ||
		bytes.HasSuffix(dom, []byte(".invalid")) || bytes.HasSuffix(dom, []byte(".local")) || bytes.HasSuffix(dom, []byte(".localhost")) ||
		bytes.HasPrefix(dom, []byte("example.")) {
		s.hit(FEmailExample, j, k, false)
		return
	}
	s.hit(FEmail, j, k, true)
	s.distinct(b[j:k])
}

// digitRun parses a run of digit groups (separated by single spaces or
// dashes, or dots for phone numbers) and classifies it.
func digitRun(s *Scanner, b []byte, i int) {
	p := prevByte(b, i)
	if isAlnum(p) || p == '.' || p == '-' || p == '_' || p == '+' || p == '/' || p == ',' {
		return
	}
	var groups [8]int
	var digits [24]byte
	nd, ng := 0, 0
	sep := byte(0)
	j := i
	for j < len(b) && ng < 8 {
		st := j
		for j < len(b) && isDigit(b[j]) && nd < 24 {
			digits[nd] = b[j]
			nd++
			j++
		}
		if j < len(b) && isDigit(b[j]) {
			return // too long to be any of these
		}
		groups[ng] = j - st
		ng++
		if j+1 < len(b) && (b[j] == ' ' || b[j] == '-' || b[j] == '.') && isDigit(b[j+1]) && (sep == 0 || sep == b[j]) {
			sep = b[j]
			j++
			continue
		}
		break
	}
	next := byte(' ')
	if j < len(b) {
		next = b[j]
	}
	g := groups[:ng]
	d := digits[:nd]
	// Spanish DNI: 8 digits and the check letter
	if ng == 1 && nd == 8 && isUpper(next) && (j+1 >= len(b) || !isAlnum(b[j+1])) {
		if dniValid(d, next) {
			s.hit(FNationalID, i, j+1, true)
		}
		return
	}
	if isAlnum(next) || (next == '.' && j+1 < len(b) && isDigit(b[j+1])) {
		return
	}
	switch {
	case nd >= 13 && nd <= 19 && sep != '.' && cardGroups(g):
		if !luhn(d) || !cardIIN(d) || allSame(d) {
			return
		}
		if testCards[string(d)] {
			s.hit(FCardTest, i, j, false)
			return
		}
		s.hit(FCard, i, j, true)
	case ng == 3 && sep == '-' && g[0] == 3 && g[1] == 2 && g[2] == 4:
		if ssnValid(d[:3], d[3:5], d[5:]) {
			s.hit(FSSN, i, j, true)
		}
	case ng == 3 && g[0] == 3 && g[1] == 3 && g[2] == 4 && d[0] >= '2' && d[3] >= '2':
		s.hit(FPhone, i, j, true)
	}
}

func cardGroups(g []int) bool {
	if len(g) == 1 {
		return true
	}
	if len(g) == 3 && g[0] == 4 && g[1] == 6 && (g[2] == 5 || g[2] == 4) {
		return true
	}
	for k, n := range g {
		if n != 4 && !(k == len(g)-1 && n >= 1 && n <= 4) {
			return false
		}
	}
	return len(g) >= 3
}

func allSame(d []byte) bool {
	for _, c := range d {
		if c != d[0] {
			return false
		}
	}
	return true
}

func phoneE164(s *Scanner, b []byte, i int) {
	if isAlnum(prevByte(b, i)) {
		return
	}
	nd := 0
	j := i + 1
	for j < len(b) && j-i < 24 {
		c := b[j]
		if isDigit(c) {
			nd++
		} else if !(c == ' ' || c == '-' || c == '.' || c == '(' || c == ')') || !(j+1 < len(b) && (isDigit(b[j+1]) || b[j+1] == '(')) {
			break
		}
		j++
	}
	if nd < 8 || nd > 15 || (j < len(b) && isAlnum(b[j])) {
		return
	}
	s.hit(FPhone, i, j, true)
}

func phoneParen(s *Scanner, b []byte, i int) {
	// (NXX) NXX-XXXX
	if i+13 > len(b) || isAlnum(prevByte(b, i)) {
		return
	}
	x := b[i:]
	if !(isDigit(x[1]) && isDigit(x[2]) && isDigit(x[3]) && x[4] == ')') || x[1] < '2' {
		return
	}
	k := 5
	if x[k] == ' ' {
		k++
	}
	if k+8 > len(x) {
		return
	}
	y := x[k:]
	if !(isDigit(y[0]) && isDigit(y[1]) && isDigit(y[2]) && (y[3] == '-' || y[3] == ' ') &&
		isDigit(y[4]) && isDigit(y[5]) && isDigit(y[6]) && isDigit(y[7])) || y[0] < '2' {
		return
	}
	if len(y) > 8 && isAlnum(y[8]) {
		return
	}
	s.hit(FPhone, i, i+k+8, true)
}

// upperPair: IBANs and UK National Insurance numbers start with two
// capital letters.
func upperPair(s *Scanner, b []byte, i int) {
	if i+9 > len(b) || isAlnum(prevByte(b, i)) {
		return
	}
	if isDigit(b[i+2]) && isDigit(b[i+3]) {
		iban(s, b, i)
		if ninoValid(b[i:i+9]) && (i+9 == len(b) || !isAlnum(b[i+9])) {
			s.hit(FNationalID, i, i+9, true)
		}
	}
}

func iban(s *Scanner, b []byte, i int) {
	var buf [34]byte
	n := 0
	j := i
	grp := 0
	for j < len(b) && n < 34 {
		c := b[j]
		if isDigit(c) || isUpper(c) {
			buf[n] = c
			n++
			grp++
			j++
			continue
		}
		if c == ' ' && grp == 4 && j+1 < len(b) && (isDigit(b[j+1]) || isUpper(b[j+1])) {
			grp = 0
			j++
			continue
		}
		break
	}
	if j < len(b) && isAlnum(b[j]) {
		return
	}
	want, ok := ibanLen[string(buf[:2])]
	if !ok || n < want {
		return
	}
	v := buf[:want]
	if !ibanValid(v) {
		return
	}
	if ibanExamples[string(v)] {
		s.hit(FIBANExample, i, j, false)
		return
	}
	s.hit(FIBAN, i, j, true)
}

func javaFrame(s *Scanner, b []byte, i int) {
	j := i + 6
	k := j
	for k < len(b) && isDigit(b[k]) && k-j < 6 {
		k++
	}
	if k > j && k < len(b) && b[k] == ')' {
		s.hit(FJavaFrame, i, k, false)
	}
}

// frameDigits: a file:line reference (main.go:42, app.js:10:5).
func frameDigits(f int, after string) handler {
	return func(s *Scanner, b []byte, i int) {
		j := i + len(s.cur.lit)
		k := j
		for k < len(b) && isDigit(b[k]) && k-j < 7 {
			k++
		}
		if k == j {
			return
		}
		if after != "" && !bytes.HasPrefix(b[k:], []byte(after)) {
			return
		}
		s.hit(f, i, k, false)
	}
}

// pyFrame: File "path", line N — also HTML-escaped, as debug pages and
// <pre> blocks render it.
func pyFrame(s *Scanner, b []byte, i int) {
	q := s.cur.lit[5:]
	st := i + len(s.cur.lit)
	w := b[st:min(len(b), st+300)]
	tail := append([]byte(q), ", line "...)
	k := bytes.Index(w, tail)
	if k < 0 || bytes.IndexByte(w[:k], '\n') >= 0 {
		return
	}
	if j := st + k + len(tail); j < len(b) && isDigit(b[j]) {
		s.hit(FPythonFrame, i, j, false)
	}
}

func goroutine(s *Scanner, b []byte, i int) {
	j := i + 10
	k := j
	for k < len(b) && isDigit(b[k]) && k-j < 9 {
		k++
	}
	if k > j && bytes.HasPrefix(b[k:], []byte(" [")) {
		s.hit(FGoPanic, i, k, false)
	}
}

func oraError(s *Scanner, b []byte, i int) {
	if i+9 > len(b) || isAlnum(prevByte(b, i)) {
		return
	}
	for _, c := range b[i+4 : i+9] {
		if !isDigit(c) {
			return
		}
	}
	s.hit(FSQLOracle, i, i+9, false)
}
