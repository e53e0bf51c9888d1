package leak

import (
	"bytes"
	"encoding/base64"
	"strings"

	"github.com/bulwark-waf/bulwark/internal/decode"
)

// A handler looks at b[i:] (with at least lookahead bytes after i unless
// the body ends sooner, and lookbehind bytes before it) and records what it
// finds with s.hit.
type handler func(s *Scanner, b []byte, i int)

type anchor struct {
	lit string
	// head is lit's first (up to) eight bytes as a little-endian word,
	// headMask the bytes of it that are lit's: one load and compare
	// rejects a literal that shares only its first bytes with the text
	// (`class="` attributes for `class="Whoops container"`).
	head, headMask uint64
	h              handler
	// afterWord: h records nothing when the byte before the position
	// (prevByte) is a letter or digit, as for the handlers that read a
	// number or a code from its start.
	afterWord bool
}

// The prefilter: a bitset over the 65536 byte pairs that can start
// something a detector wants. A position whose pair is not in it costs one
// load and one bit test, which is what makes clean text fast.
type prefilter struct {
	bits   [1 << 16 / 64]uint64
	group  [1 << 16]uint16 // index into groups; 0 = none
	groups [][]anchor
	// always marks the pairs that start a handler-only anchor (digits,
	// capitals, '@'...); every other pair starts literals only, and then
	// tri, a bitset over a hash of the first three bytes of every literal,
	// must match too. Common English pairs ("re", "co", "pa") start a
	// literal but rarely its first three bytes.
	always [1 << 16 / 64]uint64
	tri    [1 << 16 / 64]uint64
	// notAfterWord marks the pairs all of whose anchors are afterWord
	// ones: inside a run of digits or capitals, where nearly every
	// position has such a pair, the scan passes over them without
	// looking at their anchors.
	notAfterWord [1 << 16 / 64]uint64
}

func triHash(a, b, c byte) uint16 {
	return uint16((uint32(a)<<16 | uint32(b)<<8 | uint32(c)) * 2654435761 >> 16)
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
	for q := 0; q < min(8, len(an.lit)); q++ {
		an.head |= uint64(an.lit[q]) << (8 * q)
		an.headMask |= 0xff << (8 * q)
	}
	p.groups[g] = append(p.groups[g], an)
	if len(an.lit) >= 3 {
		t := triHash(an.lit[0], an.lit[1], an.lit[2])
		p.tri[t>>6] |= 1 << (t & 63)
	} else {
		p.always[k>>6] |= 1 << (k & 63)
	}
}

// markNotAfterWord sets notAfterWord from the groups.
func (p *prefilter) markNotAfterWord() {
	for k := 0; k < 1<<16; k++ {
		g := p.group[k]
		if g == 0 {
			continue
		}
		all := true
		for _, a := range p.groups[g] {
			all = all && a.afterWord
		}
		if all {
			p.notAfterWord[k>>6] |= 1 << (k & 63)
		}
	}
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
	// Firebase Cloud Messaging's legacy server key: AAAA…:APA91b…
	{[]string{"APA91b"}, token(FOtherToken, 100, 0, dashWordSet)},
	{[]string{"$2a$", "$2b$", "$2y$"}, bcrypt},
	{[]string{"$argon2id$", "$argon2i$", "$argon2d$"}, token(FPasswordHash, 40, 0, hashSet)},
	{[]string{"$6$", "$5$", "$1$", "$apr1$"}, cryptHash},
	{[]string{"pbkdf2_sha256$", "pbkdf2_sha1$", "sha1$", "{SSHA}", "{SSHA512}", "scrypt:", "pbkdf2:sha256:"}, token(FPasswordHash, 30, 0, hashSet)},
	{[]string{"://"}, connURL},
	{[]string{"Password=", "password=", "Pwd=", "PWD=", "pwd="}, adoPassword},
	// Azure storage and Service Bus connection strings carry the account key
	// the way ADO.NET ones carry the password: AccountKey=...;
	{[]string{"AccountKey=", "SharedAccessKey="}, adoPassword},
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
	// The framing of an error response: the 500 reason phrase and the
	// headings servers and frameworks put above what went wrong. A page
	// quoting a trace rarely has it; an error page nearly always does.
	{[]string{"<title>", "<TITLE>"}, errorTitle},
	{[]string{"Internal Server Error", "HTTP Status 500", "Exception Report", "Server Error", "Application Error",
		"Unhandled Exception", "Exception caught", "Error 500", "500 Error", "Runtime Error", "unexpected error"}, count(FErrorPage)},
	{[]string{"File \"", "File &quot;", "File &#34;"}, pyFrame},
	{[]string{"Traceback <em>(most recent call last)</em>", "Traceback (most recent call last)", "Werkzeug Debugger",
		"The debugger caught an exception"}, count(FPythonTrace)},
	{[]string{"Basic "}, basicAuth},
	{[]string{"Bearer "}, bearerToken},
	{[]string{"goroutine "}, goroutine},
	{[]string{"panic: ", "runtime error: ", "[recovered]"}, count(FGoPanic)},
	{[]string{".go:"}, frameDigits(FGoFrame, "")},
	// Rust's panics and backtraces read as Go's do: the trees learnt the
	// compiled-service crash from Go, and a Rust frame (orders.rs:88:41)
	// or "panicked at" is the same disclosure.
	// (anchored at the quote that closes the thread's name: "pan" would
	// stop the scan at every <span)
	{[]string{"' panicked at ", "RUST_BACKTRACE"}, count(FGoPanic)},
	{[]string{".rs:"}, frameDigits(FGoFrame, ":")},
	// Go's text/template and html/template: template: page.gohtml:34:21:
	// executing "page.gohtml" at <.Account.Plan>: nil pointer evaluating …
	{[]string{`: executing "`}, goTemplate},
	{[]string{".js:", ".ts:", ".mjs:", ".cjs:"}, frameDigits(FNodeFrame, ":")},
	{[]string{"node_modules/"}, count(FNodeFrame)},
	{[]string{"at Layer.handle", "at Module._compile", "at Object.<anonymous>", "at process.processTicksAndRejections",
		"at next (", "at Function.handle", "at Route.dispatch", "express/lib/router"}, count(FExpressError)},
	{[]string{"Warning</b>", "Notice</b>", "Deprecated</b>", "PHP Warning", "PHP Fatal",
		"PHP Notice", "PHP Parse", "PDOException", "on line <b>", "thrown in <b>"}, count(FPHPError)},
	{[]string{"Fatal error", "Parse error", "Stack trace:", "Uncaught ", "Call to undefined", "Undefined variable",
		"Undefined index", "Undefined array key"}, phpContext},
	{[]string{"Server Error in '", "Exception Details:", "Source Error:", "Version Information:", "ASP.NET Version",
		"Microsoft .NET Framework", "System.Web.", "NullReferenceException", "Unhandled exception.", "Source File:",
		"Stack Trace:", "System.InvalidOperationException", "Microsoft.AspNetCore.",
		"An unhandled exception occurred while processing the request", "Microsoft.Extensions."}, count(FDotNetError)},
	{[]string{".cs:line "}, frameDigits(FDotNetFrame, "")},
	// JVM frames of Kotlin, Scala and Groovy: at x.Y.z(File.kt:12)
	{[]string{".kt:", ".scala:", ".groovy:"}, frameDigits(FJavaFrame, ")")},
	// PHP's own trace lines: #0 /var/www/app/Db.php(720): Db->run()
	{[]string{".php("}, frameDigits(FPHPError, "):")},
	{[]string{"at System.", "at Microsoft."}, count(FDotNetFrame)},
	{[]string{"Django Version:", "Exception Value:", "Exception Location:", "Request Method:", "Python Executable:",
		"Python Path:", "Installed Applications:", "DEBUG = True", "Request information", "You're seeing this error because",
		"Server time:", "Python Version:", "Exception Type:"}, count(FDjangoDebug)},
	{[]string{"ActionController::", "ActiveRecord::", "ActionView::", "Rails.root:", "Application Trace", "Framework Trace",
		"ActionDispatch::", "NoMethodError", "Full Trace"}, count(FRailsError)},
	{[]string{".rb:"}, frameDigits(FRubyFrame, ":in")},
	// Elixir's (Phoenix, Plug, Ecto) frames, "(shop 0.1.0) lib/shop/user.ex:21:
	// Shop.User.get/1": the Ruby frame's shape. Anchored after the
	// application's name and version (".ex" would stop the scan at every
	// ".example" and ".extend").
	{[]string{") lib/", ") deps/"}, elixirFrame},
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
	{[]string{"<?php"}, phpOpen},
	{[]string{"&lt;?php"}, count(FPHPEscaped)},
	{[]string{"[core]", "repositoryformatversion", "ref: refs/heads/", "[remote \"", "# pack-refs with:", "logallrefupdates",
		"[branch \"", "filemode = ", "bare = false"}, count(FGitMeta)},
	{[]string{"-- MySQL dump", "-- PostgreSQL database dump", "CREATE TABLE ", "INSERT INTO ", "-- Dump completed", "DROP TABLE IF EXISTS",
		"LOCK TABLES `", "COPY public."}, count(FSQLDump)},
	{[]string{"phpinfo()", "PHP Version ", "Loaded Configuration File", "$_SERVER['", "PHP Credits", "propertySources",
		"activeProfiles", "systemEnvironment", "systemProperties"}, count(FConfigKey)},
	{[]string{"Index of /", "Parent Directory", "Directory listing for", "Directory Listing For"}, count(FDirListing)},
	// an S3 (or MinIO, GCS XML API) bucket listing served to anyone
	{[]string{"<ListBucketResult"}, dirListing},
	{[]string{"<title>Index of /", "<TITLE>Index of /", "<h1>Index of /", "<title>Directory listing for /", "[To Parent Directory]"}, dirListing},
	{[]string{"DB_PASSWORD", "DB_HOST", "DB_USERNAME", "DB_DATABASE", "DATABASE_URL", "SECRET_KEY", "APP_KEY", "AWS_SECRET",
		"spring.datasource", "connectionStrings", "define('DB_", "define( 'DB_", "[mysqld]", "jdbc:", "REDIS_URL",
		"MAIL_PASSWORD", "DJANGO_SECRET", "AUTH_KEY'", "SECURE_AUTH", "ALLOWED_HOSTS", "SQLALCHEMY_DATABASE_URI"}, count(FConfigKey)},
}

// pf is built once at init (after debugPages joins literals) and only
// read afterwards.
var pf *prefilter

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
			p.add('+', byte(c), anchor{h: phoneE164, afterWord: true})
			p.add('(', byte(c), anchor{h: phoneParen, afterWord: true})
			for d := '0'; d <= '9'; d++ {
				p.add(byte(c), byte(d), anchor{h: digitRun, afterWord: true})
			}
		}
	}
	for a := byte('A'); a <= 'Z'; a++ {
		for c := byte('A'); c <= 'Z'; c++ {
			p.add(a, c, anchor{h: upperPair, afterWord: true})
		}
	}
	p.markNotAfterWord()
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
		// A Google API key in a page or script is a browser key, public
		// by design (every Firebase and Maps config carries one); in a
		// JSON API response it may be a server key.
		if f == FGoogleKey && s.kind != decode.JSON {
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
	pgpKeyTail  = []byte("PRIVATE KEY BLOCK-----")
	endMarker   = []byte("-----END ")
)

func privateKey(s *Scanner, b []byte, i int) {
	hdr := b[i:min(len(b), i+48)]
	k := bytes.Index(hdr, privKeyTail)
	pgp := false
	if k < 0 {
		if k = bytes.Index(hdr, pgpKeyTail); k < 0 {
			return
		}
		pgp = true
	}
	j := i + k + len(privKeyTail)
	if pgp {
		j = i + k + len(pgpKeyTail)
	}
	s.hit(FPrivateKey, i, j, false)
	if pgp {
		// An armoured PGP block has header lines (Version: ..., Comment:
		// ...) and a blank line before its base64.
		// (with real line breaks, or JSON-escaped ones)
		for n := 0; n < 8; n++ {
			for {
				if j < len(b) && (b[j] == '\r' || b[j] == '\n') {
					j++
				} else if j+1 < len(b) && b[j] == '\\' && (b[j+1] == 'n' || b[j+1] == 'r') {
					j += 2
				} else {
					break
				}
			}
			w := b[j:min(len(b), j+200)]
			e := bytes.IndexByte(w, '\n')
			if k := bytes.Index(w, []byte(`\n`)); k >= 0 && (e < 0 || k < e) {
				e = k
			}
			if e < 0 || !bytes.Contains(w[:e], []byte(": ")) {
				break
			}
			j += e + 1
		}
	}
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
	user, pw := b[u:u+c], b[u+c+1:end]
	if len(pw) < 3 || placeholder(pw) || bytes.HasPrefix(pw, []byte("$")) || exampleCredential(user, pw, b[end+1:]) {
		s.hit(FSecretMasked, u, end, false)
		return
	}
	s.hit(FConnString, u+c+1, end, true)
}

// exampleCredential: a URL's userinfo that documentation writes, not a
// configuration: the password repeats the user name (guest:guest,
// postgres:postgres), is a short lower-case word (scott:tiger, abc:xyz),
// names itself (login-on-proxy:passwd-on-proxy), or the host is a
// documentation host (example.com, RFC 2606/6761 names, "host").
func exampleCredential(user, pw, host []byte) bool {
	if bytes.EqualFold(user, pw) {
		return true
	}
	lower := len(pw) <= 6
	for _, c := range pw {
		lower = lower && isLower(c)
	}
	if lower {
		return true
	}
	lp := bytes.ToLower(pw)
	for _, w := range []string{"passw", "pass-", "pass_", "-pass", "_pass", "pwd", "secret"} {
		if bytes.Contains(lp, []byte(w)) {
			return true
		}
	}
	h := host[:run(host, 0, dotDashWordSet, 253)]
	h = bytes.ToLower(h)
	for _, d := range []string{"example.com", "example.org", "example.net", "host", "hostname", "server", "myhost", "yourhost", "db-host", "dbhost"} {
		if string(h) == d {
			return true
		}
	}
	return bytes.HasSuffix(h, []byte(".example")) || bytes.HasSuffix(h, []byte(".example.com")) || bytes.HasSuffix(h, []byte(".invalid")) ||
		bytes.HasPrefix(h, []byte("your")) || bytes.HasPrefix(h, []byte("example."))
}

// publishedCredentials are the client credentials the OAuth RFCs use in
// their examples (RFC 6749 section 2.3.1 and its successors), which every
// OAuth library's documentation quotes.
var publishedCredentials = map[string]bool{"s6BhdRkqt3:gX1fBat3bV": true, "s6BhdRkqt3:7Fjfp0ZBr1KtDRbnfVdmIw": true}

// basicAuth: "Basic " and base64 of user:password, as an echoed
// Authorization header carries it. The credential must decode to
// printable user:password, and the password must not be an example one.
func basicAuth(s *Scanner, b []byte, i int) {
	if isWord(prevByte(b, i)) {
		return
	}
	start := i + len(s.cur.lit)
	end := run(b, start, b64Set, 256)
	if end-start < 8 {
		return
	}
	var buf [192]byte
	enc := b[start:end]
	n, err := base64.StdEncoding.Decode(buf[:], enc)
	if err != nil {
		n, err = base64.RawStdEncoding.Decode(buf[:], bytes.TrimRight(enc, "="))
	}
	if err != nil {
		return
	}
	cred := buf[:n]
	c := bytes.IndexByte(cred, ':')
	if c <= 0 || c == len(cred)-1 {
		return
	}
	for _, ch := range cred {
		if ch < 0x20 || ch > 0x7e {
			return
		}
	}
	user, pw := cred[:c], cred[c+1:]
	if placeholder(pw) || exampleCredential(user, pw, nil) || publishedCredentials[string(cred)] {
		s.hit(FSecretMasked, i, end, false)
		return
	}
	s.hit(FSecretAssign, start, end, true)
}

// adoPassword: Password=...; in an ADO.NET / ODBC connection string.
func adoPassword(s *Scanner, b []byte, i int) {
	if isWord(prevByte(b, i)) {
		return
	}
	j := i + len(s.cur.lit)
	end := j
	for end < len(b) && end-j < 128 && b[end] != ';' && b[end] != '"' && b[end] != '\'' && b[end] != '\n' && b[end] != '<' && b[end] != ' ' && b[end] != '&' {
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
	for _, w := range []string{"policy", "reset", "length", "strength", "expir", "change", "forgot", "confirm", "required", "hint", "field", "label", "name", "ref", "id", "type", "url", "min", "max", "rule", "prompt", "enabled", "encrypt"} {
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
	// an XML element: <password>value</password>
	if ks := i - 1; ks >= 0 && b[ks] == '<' && kend < len(b) && b[kend] == '>' {
		j = kend + 1
		end := j
		for end < len(b) && end-j < 200 && b[end] != '<' && b[end] != '\n' {
			end++
		}
		v := bytes.TrimSpace(b[j:end])
		if len(v) == 0 || end >= len(b) || b[end] != '<' {
			return
		}
		if len(v) < 6 || placeholder(v) || !secretShaped(v) || publishedExamples[string(v)] {
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
	quoted := j > 0 && (b[j-1] == '"' || b[j-1] == '\'')
	if len(v) < 6 || placeholder(v) || v[0] == '[' || v[0] == '{' || !secretShaped(v) || (!quoted && codeRef(b[j:min(len(b), end+1)])) ||
		phrase(b, v, end, quoted) || publishedExamples[string(v)] || (s.kind != decode.JSON && publicKey(v)) {
		s.hit(FSecretMasked, j, end, false)
		return
	}
	// Issuing a token is what a login or OAuth endpoint is for; the
	// model weighs token keys apart from passwords and keys. The whole
	// key counts: oauth_token_secret is the token endpoint's answer too.
	ks := i
	for ks > 0 && i-ks < 24 && (isWord(b[ks-1]) || b[ks-1] == '-') {
		ks--
	}
	if bytes.Contains(bytes.ToLower(b[ks:kend]), []byte("token")) {
		s.hit(FTokenAssign, j, end, true)
		return
	}
	s.hit(FSecretAssign, j, end, true)
	// A password or secret of real strength as a JSON field's value is a
	// plaintext credential in an API response: a leak, however ordinary
	// the rest of the payload looks to the trees.
	lk := bytes.ToLower(b[ks:kend])
	if s.kind == decode.JSON && strongSecret(v) && (bytes.Contains(lk, []byte("pass")) || bytes.Contains(lk, []byte("secret")) || bytes.Contains(lk, []byte("pwd"))) {
		s.sure[ClassSecret] = true
	}
}

// strongSecret: at least 8 bytes of three character classes (lower,
// upper, digit, symbol), or 12 of two: the shape of a generated password
// or key, not of a word.
func strongSecret(v []byte) bool {
	n := charClasses(v, false)
	return len(v) >= 8 && n >= 3 || len(v) >= 12 && n >= 2
}

// charClasses counts the character classes of v (lower, upper, digit,
// symbol); with wordSeps, the word separators "-_.@" (mot-de-passe,
// apache-proxy@) are no symbol.
func charClasses(v []byte, wordSeps bool) int {
	var lo, up, di, sy int
	for _, c := range v {
		switch {
		case isLower(c):
			lo = 1
		case isUpper(c):
			up = 1
		case isDigit(c):
			di = 1
		case wordSeps && (c == '-' || c == '_' || c == '.' || c == '@'):
		default:
			sy = 1
		}
	}
	return lo + up + di + sy
}

// publicKey: a key that is public by design — a Google browser key
// (AIza…, as Firebase and Maps configs carry it) or a Stripe publishable
// key — in a page or script, where it is meant to be. In a JSON API
// response the same key is still counted as a secret: a server key has
// the same shape.
func publicKey(v []byte) bool {
	return bytes.HasPrefix(v, []byte("AIza")) && len(v) == 39 || bytes.HasPrefix(v, []byte("pk_live_")) || bytes.HasPrefix(v, []byte("pk_test_"))
}

// bearerToken: "Bearer " and a token, as an echoed Authorization header or
// a request log carries it: a credential in the clear. Token responses
// say "token_type": "Bearer" without a token after it; documentation
// writes placeholders, the RFCs' examples or jwt.io's sample.
func bearerToken(s *Scanner, b []byte, i int) {
	if isWord(prevByte(b, i)) {
		return
	}
	start := i + len(s.cur.lit)
	end := run(b, start, dotDashWordSet, 4096)
	for end < len(b) && end-start < 4096 && (b[end] == '+' || b[end] == '/' || b[end] == '=' || b[end] == '~') {
		end = run(b, end+1, dotDashWordSet, 4096)
	}
	v := b[start:end]
	if len(v) < 20 {
		return
	}
	if placeholder(v) || publishedExamples[string(v)] || (bytes.HasPrefix(v, []byte("eyJ")) && jwtIsExample(v)) ||
		bytes.HasPrefix(v, []byte("sk_test_")) || bytes.HasPrefix(v, []byte("rk_test_")) || bytes.HasPrefix(v, []byte("pk_")) {
		s.hit(FSecretMasked, i, end, false)
		return
	}
	s.hit(FSecretAssign, start, end, true)
	// Two live bearer tokens are a log or a dump of requests, not an
	// example: a leak whatever the trees make of the rest.
	if s.bearers++; s.bearers >= 2 {
		s.sure[ClassSecret] = true
	}
}

// jwtIsExample: a compact JWT whose payload is jwt.io's or the RFC's
// sample.
func jwtIsExample(v []byte) bool {
	parts := bytes.SplitN(v, []byte("."), 3)
	return len(parts) >= 2 && jwtExample(parts[1])
}

// phrase: the value is the first word of a sentence, not a secret: a
// quoted value that goes on after a space ("secrets: Generate secure
// random numbers"), or a word of letters followed by more words
// (":keyword password: Default password if not given").
func phrase(b, v []byte, end int, quoted bool) bool {
	if end+1 >= len(b) || b[end] != ' ' || !isAlpha(b[end+1]) {
		return false
	}
	if quoted {
		return true
	}
	for _, c := range v {
		if !isAlpha(c) {
			return false
		}
	}
	return true
}

// publishedExamples are the credential values of the OAuth RFCs' examples
// (RFC 5849, RFC 6749, RFC 7009) and of widely copied vendor documentation,
// which documentation quotes verbatim; like the published test card
// numbers, they are no leak.
var publishedExamples = map[string]bool{
	"gX1fBat3bV": true, "s6BhdRkqt3": true, "2YotnFZFEjr1zCsicMWpAA": true, "tGzv3JOkF0XG5Qx2TlKWIA": true,
	"SplxlOBeZQQYbYS6WxSbIA": true, "8xLOxBtZp8": true, "hh5s93j4hdidpola": true, "hdhd0244k9j7ao03": true,
	"nnch734d00sl2jdk": true, "pfkkdhi9sl3r4s00": true, "kllo9940pd9333jh": true, "45ghiukldjahdnhzdauz": true,
	"7Fjfp0ZBr1KtDRbnfVdmIw": true, "mF_9.B5f-4.1JqM": true, "i1WsRn1uB1": true, "A3ddj3w": true,
	// the Kubernetes documentation's Secret example (base64 of 1f2d1e2e67df)
	"MWYyZDFlMmU2N2Rm": true,
}

// codeRef: an unquoted value that is a program expression rather than a
// secret — t.password=n.password, apiKey:e.apiKey||"", token:getToken() —
// as minified JavaScript is full of: an identifier path (dots between
// identifiers) without digits, or a call.
func codeRef(v []byte) bool {
	if len(v) == 0 {
		return false
	}
	end := len(v)
	for k, c := range v {
		if !(isWord(c) || c == '.' || c == '$') {
			end = k
			break
		}
	}
	if end < len(v) && v[end] == '(' {
		return true
	}
	id := v[:end]
	if len(id) == 0 || isDigit(id[0]) || bytes.IndexByte(id, '.') < 0 {
		return false
	}
	for _, c := range id {
		if isDigit(c) {
			return false
		}
	}
	return true
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
	return len(v) >= 16 || charClasses(v, true) >= 2
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
	// git@github.com:owner/repo.git is an SSH remote, not an address
	if k+1 < len(b) && b[k] == ':' && !isDigit(b[k+1]) {
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
	if roleAddress(b[j:i]) && !freeMail[string(dom)] {
		// info@, sales@, store0421@: a business's published contact,
		// not a person's data; fifty of them are a store locator.
		s.hit(FEmailExample, j, k, false)
		return
	}
	s.hit(FEmail, j, k, true)
	// Bulk is many people, not one address repeated: a tutorial quoting
	// the same three addresses thirty times is no dump. Repeats are
	// masked like the rest but counted once.
	if !s.distinct(b[j:k]) {
		s.cnt[FEmail]--
	}
}

// roleLocals are the local parts of role addresses: a business's
// departments and shared inboxes, in the languages most sites use.
var roleLocals = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`info information hello contact contacts contactus sales support help helpdesk
		service services customerservice customercare care office team store stores shop
		press media pr news newsletter careers jobs job recruiting recruitment billing accounts accounting
		invoice invoices orders order bookings booking reservations reservation enquiries enquiry inquiries inquiry
		marketing partners partner privacy legal compliance abuse postmaster webmaster hostmaster security noreply
		no-reply donotreply do-not-reply feedback events general reception frontdesk studio welcome
		kontakt anfrage bestellung buero verkauf bonjour contacto hola ventas ciao informazioni vendite
		branch location restaurant hotel clinic library`) {
		roleLocals[w] = true
	}
}

// freeMail are the mailbox providers where an address is a person's,
// whatever its local part (info1987@gmail.com).
var freeMail = map[string]bool{
	"gmail.com": true, "googlemail.com": true, "yahoo.com": true, "yahoo.co.uk": true, "yahoo.fr": true, "yahoo.de": true,
	"hotmail.com": true, "hotmail.co.uk": true, "hotmail.fr": true, "hotmail.de": true, "outlook.com": true, "live.com": true,
	"msn.com": true, "aol.com": true, "icloud.com": true, "me.com": true, "mac.com": true, "gmx.de": true, "gmx.net": true,
	"gmx.com": true, "web.de": true, "t-online.de": true, "mail.ru": true, "yandex.ru": true, "yandex.com": true,
	"proton.me": true, "protonmail.com": true, "zoho.com": true, "qq.com": true, "163.com": true, "126.com": true,
	"free.fr": true, "orange.fr": true, "laposte.net": true, "libero.it": true, "btinternet.com": true, "comcast.net": true,
}

// roleAddress reports a local part that is a role (see roleLocals),
// optionally numbered: store0421, info-berlin is not.
func roleAddress(local []byte) bool {
	if len(local) > 32 {
		return false
	}
	var buf [32]byte
	l := buf[:0]
	for _, c := range local {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		l = append(l, c)
	}
	for len(l) > 0 && (isDigit(l[len(l)-1]) || l[len(l)-1] == '.' || l[len(l)-1] == '-' || l[len(l)-1] == '_') {
		l = l[:len(l)-1]
	}
	return roleLocals[string(l)]
}

// digitRun parses a run of digit groups (separated by single spaces or
// dashes, or dots for phone numbers) and classifies it.
func digitRun(s *Scanner, b []byte, i int) {
	p := prevByte(b, i)
	if isAlnum(p) || p == '.' || p == '-' || p == '_' || p == '+' || p == '/' {
		return
	}
	// After a comma, digits are usually a list of numbers (1,234,567 or a
	// JSON array of ids and timestamps); in a text body they are also a
	// CSV field, where an export's card numbers and SSNs sit.
	afterComma := p == ','
	if afterComma && s.kind == decode.JSON {
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
	if afterComma && (s.kind != decode.Text && s.kind != decode.Sniff || nd < 9) {
		return
	}
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
		// A run of six equal or counting digits (…700000, 123456…) is a
		// timestamp, a filler or an id, not an issued account number.
		if !luhn(d) || !cardIIN(d) || allSame(d) || sequenceRun(d) || bytes.HasSuffix(d, []byte("00000")) || urlParam(b, i) {
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
	case nationalPhone(d, g, sep) && !afterCountryCode(b, i):
		s.hit(FPhone, i, j, true)
	}
}

// afterCountryCode: the digits at i follow "+44 " or "+44 (", the rest of
// an international number phoneE164 has counted already.
func afterCountryCode(b []byte, i int) bool {
	k := i - 1
	if k >= 0 && b[k] == '(' {
		k--
	}
	if k < 0 || b[k] != ' ' {
		return false
	}
	n := 0
	for k--; k >= 0 && isDigit(b[k]) && n < 4; k-- {
		n++
	}
	return n > 0 && k >= 0 && b[k] == '+'
}

// nationalPhone: a number in the national format of most of Europe, with
// the trunk prefix 0 and an area or mobile code that is not 0, in groups
// (UK 07700 900123 and 020 7946 0958, German 030 1234567, French
// 06 12 34 56 78), or a UK mobile written in one run (07700900123).
// Zero-padded ids (0000482913) start with 00.
func nationalPhone(d []byte, g []int, sep byte) bool {
	if len(d) < 10 || len(d) > 11 || d[0] != '0' || d[1] == '0' || sequenceRun(d) {
		return false
	}
	if len(g) == 1 {
		return len(d) == 11 && d[1] == '7'
	}
	return sep != '.' && g[0] >= 2 && g[0] <= 5
}

// urlParam: the digits are a URL query value (?v=637139444438700000, a
// cache buster or a tick count), which a card number in a response is not
// rendered as.
func urlParam(b []byte, i int) bool {
	if i == 0 || b[i-1] != '=' {
		return false
	}
	for k := i - 2; k >= 0 && i-k < 256; k-- {
		switch b[k] {
		case '?', '&':
			return true
		case ' ', '"', '\'', '\n', '<', '>':
			return false
		}
	}
	return false
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
		return
	}
	// HMRC prints the number in pairs: AB 12 34 56 C
	if i+13 <= len(b) && b[i+2] == ' ' && b[i+5] == ' ' && b[i+8] == ' ' && b[i+11] == ' ' &&
		(i+13 == len(b) || !isAlnum(b[i+13])) {
		n := [9]byte{b[i], b[i+1], b[i+3], b[i+4], b[i+6], b[i+7], b[i+9], b[i+10], b[i+12]}
		if ninoValid(n[:]) {
			s.hit(FNationalID, i, i+13, true)
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

// debugPages are the fixed phrases of the frameworks' debug and error
// pages, per framework. Two different ones of the same framework in a body
// are that page itself (a page about it quotes one at a time): an error
// disclosure whatever the rest of the body looks like (see Result).
var debugPages = [][]string{
	{"Django Version:", "Exception Value:", "Exception Location:", "Python Executable:", "Installed Applications:",
		"You're seeing this error because you have"},
	{"Werkzeug Debugger", "The debugger caught an exception in your WSGI application", "?__debugger__=yes"},
	{"Action Controller: Exception caught", "Rails.root:", "Application Trace", "Framework Trace"},
	{"Server Error in '", "Exception Details:", "Source Error:", "Version Information:", "Microsoft .NET Framework Version:"},
	{"Whitelabel Error Page", "This application has no explicit mapping for /error", "There was an unexpected error (type="},
	{"Apache Tomcat/", "Exception Report", "The full stack trace of the root cause is available"},
	// PHP's Whoops (Laravel before Ignition, Slim, Zend), CodeIgniter's
	// error and database-error pages, Jetty's error page
	{"Whoops! There was an error.", `class="Whoops container"`, `class="frames-container`, `class="exc-title-name"`},
	{"A PHP Error was encountered", "A Database Error Occurred", "Line Number:", "Error Number:"},
	{"HTTP ERROR 500", "Powered by Jetty://"},
	// Laravel's Ignition, Play's and Go's html/template error output
	// (anchored past the quotes: a phrase that starts with `"` and a
	// letter is tried at every key of a JSON body)
	{"Laravel Client", `exception_class":"`, "spatie/laravel-ignition", "facade/ignition", "window.ignite"},
	{"Execution exception", "play-error-page", "play.api.", "[CompilationException"},
	{"Apache Server Status for", "Server uptime:", "Current Time:", "requests currently being processed"},
}

func init() {
	for fw, phrases := range debugPages {
		for k, ph := range phrases {
			bit := uint8(1) << k
			fw := fw
			literals = append(literals, struct {
				lits []string
				h    handler
			}{[]string{ph}, func(s *Scanner, b []byte, i int) {
				if s.debugSig == nil {
					s.debugSig = make([]uint8, len(debugPages))
				}
				s.debugSig[fw] |= bit
			}})
		}
	}
	pf = buildPrefilter()
}

// errorTitles are how error responses title themselves: the 500 reason
// phrase as servers and frameworks put it (Tomcat's "HTTP Status 500 –
// Internal Server Error", nginx's and Apache's "500 Internal Server Error",
// Django's "Server Error (500)", IIS's "Runtime Error", an application's
// "Application Error").
var errorTitles = []string{"http status 500", "500 internal server error", "internal server error", "500 - internal server error",
	"server error", "error 500", "500 error", "application error", "runtime error", "unhandled exception", "500 server error",
	"whoops! there was an error", "action controller: exception caught", "an error occurred while processing"}

// errorTitle: a page whose <title> starts with an error response's
// framing. With a stack trace in the body it is an error page disclosing
// it, whatever the rest of the page looks like (see Result).
func errorTitle(s *Scanner, b []byte, i int) {
	raw := bytes.TrimLeft(b[i+len(s.cur.lit):min(len(b), i+len(s.cur.lit)+160)], " \t\r\n")
	t := bytes.ToLower(raw)
	for _, p := range errorTitles {
		if bytes.HasPrefix(t, []byte(p)) {
			s.errTitle = true
			return
		}
	}
	if e := bytes.IndexByte(raw, '<'); e > 0 && (exceptionTitle(bytes.TrimSpace(raw[:e])) || genericErrorTitle(t[:e])) {
		s.errTitle = true
	}
}

// genericErrorTitles are the whole titles of applications' own error
// pages. Only the whole title counts (a site name may follow after a
// separator): "Something went wrong with my build - Stack Overflow" is a
// question about an error, not an error page.
var genericErrorTitles = []string{"oops! something went wrong", "oops, something went wrong", "something went wrong", "oops",
	"error", "an error occurred", "an error has occurred", "sorry, something went wrong", "we're sorry, but something went wrong",
	"unexpected error", "an unexpected error occurred", "an unexpected error has occurred", "exception", "uncaught exception"}

func genericErrorTitle(t []byte) bool {
	t = bytes.TrimSpace(t)
	for _, sep := range [][]byte{[]byte(" | "), []byte(" - "), []byte(" — "), []byte(" · ")} {
		if i := bytes.Index(t, sep); i > 0 {
			t = t[:i]
		}
	}
	t = bytes.TrimRight(t, ".! ")
	for _, g := range genericErrorTitles {
		if string(t) == strings.TrimRight(g, ".! ") {
			return true
		}
	}
	return false
}

// exceptionTitle: a title that is an exception's class name and nothing
// else, or Django's "ValueError at /path/" — what debug pages title
// themselves (Laravel's "Illuminate\Database\QueryException"), where a
// question or a post about the exception says more ("KeyError when
// reading config - Stack Overflow").
// atPath: "at /path/" (Django) or "at GET /path" (Phoenix's Plug.Debugger).
func atPath(rest []byte) bool {
	p, ok := bytes.CutPrefix(rest, []byte("at "))
	if !ok {
		return false
	}
	if m, r, found := bytes.Cut(p, []byte(" ")); found && len(m) >= 3 && len(m) <= 7 && allUpper(m) {
		p = r
	}
	return len(p) > 0 && p[0] == '/' && bytes.IndexByte(p, ' ') < 0
}

func allUpper(b []byte) bool {
	for _, c := range b {
		if !isUpper(c) {
			return false
		}
	}
	return true
}

func exceptionTitle(t []byte) bool {
	name, rest, _ := bytes.Cut(t, []byte(" "))
	if len(rest) > 0 && !atPath(rest) {
		return false
	}
	if !bytes.HasSuffix(name, []byte("Exception")) && !bytes.HasSuffix(name, []byte("Error")) || len(name) < 5 {
		return false
	}
	for _, c := range name {
		if !isAlnum(c) && c != '.' && c != '\\' && c != '_' && c != ':' && c != '$' {
			return false
		}
	}
	return true
}

// phpOpen: "<?php". At the start of the body it is a PHP file served as
// it is, not run: a source leak whatever its length.
func phpOpen(s *Scanner, b []byte, i int) {
	s.hit(FPHPOpen, i, i, false)
	if s.base == 0 && len(bytes.TrimLeft(b[:i], " \t\r\n\xef\xbb\xbf")) == 0 {
		s.sure[ClassSource] = true
	}
}

// dirListing: the title or heading a web server's generated directory
// listing carries (Apache and nginx autoindex, Python's http.server, IIS);
// such a page is a listing however few files it shows.
func dirListing(s *Scanner, b []byte, i int) {
	s.hit(FDirListing, i, i, false)
	s.sure[ClassSource] = true
}

// phpContext: a phrase any prose may use ("Fatal errors", "Uncaught
// exceptions") counts as a PHP error only with PHP's own framing close
// after it: a .php path, "on line N", a "#0 " frame or the bold label.
func phpContext(s *Scanner, b []byte, i int) {
	w := b[i+len(s.cur.lit) : min(len(b), i+len(s.cur.lit)+400)]
	for _, m := range [][]byte{[]byte(".php"), []byte(" on line "), []byte("#0 "), []byte("</b>:")} {
		if bytes.Contains(w, m) {
			s.hit(FPHPError, i, i, false)
			return
		}
	}
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

// elixirFrame: ") lib/path.ex:N: " within the line.
func elixirFrame(s *Scanner, b []byte, i int) {
	w := b[i:min(len(b), i+200)]
	if e := bytes.IndexByte(w, '\n'); e >= 0 {
		w = w[:e]
	}
	j := -1 // after the ".ex:" or ".exs:"
	if k := bytes.Index(w, []byte(".ex:")); k >= 0 {
		j = k + len(".ex:")
	} else if k := bytes.Index(w, []byte(".exs:")); k >= 0 {
		j = k + len(".exs:")
	}
	if j < 0 {
		return
	}
	d := j
	for d < len(w) && isDigit(w[d]) && d-j < 7 {
		d++
	}
	if d > j && bytes.HasPrefix(w[d:], []byte(": ")) {
		s.hit(FRubyFrame, i, i+d, false)
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

// goTemplate: the error is a Go template's when "template: " opens its
// line and "at <." follows the template's name.
func goTemplate(s *Scanner, b []byte, i int) {
	ls := bytes.LastIndexByte(b[max(0, i-200):i], '\n') + 1 + max(0, i-200)
	if !bytes.HasPrefix(bytes.TrimLeft(b[ls:i], " \t"), []byte("template: ")) {
		return
	}
	rest := b[i:min(len(b), i+300)]
	if k := bytes.Index(rest, []byte(`" at <.`)); k > 0 {
		s.hit(FGoPanic, i, i+k, false)
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
